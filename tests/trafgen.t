#!/bin/sh
# tests/trafgen.t - trafgen without a server: the same seed makes the
# same population (accounts, DNSBL zones), another seed another one;
# it aims at loopback only; bad usage is a permanent error.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
mkdir -p "$D/a" "$D/b" "$D/c"
trafgen -s 4 -n 300 -x -A "$D/a/acc" -Z "$D/a"; t_eq "$?" 0 "-x writes the files"
trafgen -s 4 -n 300 -x -A "$D/b/acc" -Z "$D/b"
trafgen -s 5 -n 300 -x -A "$D/c/acc" -Z "$D/c"
t_eq "$(cat "$D/a/acc" "$D/a/main.ip4set" "$D/a/second.ip4set" | md5sum)" \
  "$(cat "$D/b/acc" "$D/b/main.ip4set" "$D/b/second.ip4set" | md5sum)" \
  "the same seed, the same population"
t_eq "$(grep -c '@example.com$' "$D/a/acc")" 120 "120 accounts"
t_eq "$(cmp -s "$D/a/main.ip4set" "$D/c/main.ip4set"; echo $?)" 1 \
  "another seed, other listed clients"
t_match "$(grep -v '^[#:]' "$D/a/main.ip4set" | head -n 1)" \
  '^198\.(18|19)\.[0-9]+\.[0-9]+$' "listed clients are in 198.18.0.0/15"
t_eq "$(grep -v '^[#:]' "$D/a/main.ip4set" | sort | uniq -d | wc -l)" 0 \
  "no address listed twice in a zone"
trafgen -S 192.0.2.1:25 -n 1 2> "$D/err"; rc=$?
t_eq "$rc" 100 "a server off loopback is refused"
t_match "$(cat "$D/err")" 'must be on loopback' "and says why"
trafgen -L agpx -x 2>/dev/null; t_eq "$?" 100 "unknown layer letters: exit 100"
trafgen -n 0 -x 2>/dev/null; t_eq "$?" 100 "no clients: exit 100"
# nothing listens: every session fails, is retried as an MTA would,
# and the run fails (exit 1)
p=$(t_port 2599)
trafgen -n 2 -c 1 -d 0 -S "127.0.0.1:$p" -T "$D/t" > "$D/out" 2> "$D/err2"; rc=$?
t_eq "$rc" 1 "no server: the run fails"
t_match "$(grep -c 'failed: connect' "$D/err2")" '^[1-9]' "each failed session is reported"
t_match "$(grep sessions "$D/out")" ' [1-9][0-9]* replies differ from the model$' \
  "failed sessions count as differences"
