#!/bin/sh
# tests/content.t - layer 4: Postfix's content_filter through amavisd-new
# to ClamAV and SpamAssassin, wired by package/install CONTENT_FILTER=
# amavis.  No network: clamd's only database is a signature made here
# for a test pattern.  A message carrying the pattern is accepted at DATA
# (the filter runs after the queue) and never delivered; a clean one is
# delivered; a GTUBE message is blocked as spam; reportd counts all three.
TOP=$IMGATE_TOP B=$IMGATE_BUILD
. "$TOP/tests/lib/common.sh"
t_own_mounts content "$0" "$@"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/demo/lib.sh"
PATH=$B:/usr/sbin:$PATH
if ! amavis_available; then
  t_skip content "amavisd-new, clamd or SpamAssassin is not installed (package/deps installs them)"
  exit 0
fi
S=$(t_tmpdir)
demo_private_etc "$S"
DAEMONS="" CONTENT=amavis ROOT=$S/root PFX_DIR=$S/postfix PFX_PORT=2525
pfx_write_config
groups_before=$(id -nG clamav)
inst() {
  ROOT=$ROOT SVSCAN=no POSTFIX_CONFIG=$PFX_DIR/etc DAEMONS=none \
    RELAY_DOMAINS=example.com CONTENT_FILTER=amavis CRON=no \
    "$TOP/package/install" "$B" > "$S/install.out" 2>&1
}
inst
t_eq "$?" 0 "install with CONTENT_FILTER=amavis"
# amavis's side, as doc/README.gateway says: the settings file, and
# clamav in group amavis (clamd reads amavis's temporary files)
cmp -s "$TOP/conf/gateway/amavis.conf" "$ROOT/etc/amavis/conf.d/60-imgate"
t_eq "$?" 0 "amavis: conf/gateway/amavis.conf installed as conf.d/60-imgate"
t_match "$(grep 'amavis' "$S/install.out")" \
  "^install: amavis $ROOT/etc/amavis/conf.d/60-imgate " "amavis: the install says so"
t_match " $(id -nG clamav) " " amavis " "amavis: clamav in group amavis"
inst
t_eq "$(grep -v -e '^install: no package/none: none skipped$' \
  -e '^install: done: none$' "$S/install.out")" "" \
  "a second install with amavis changes nothing"
t_eq "$(postconf -c "$PFX_DIR/etc" -h content_filter)" \
  "smtp-amavis:[127.0.0.1]:10024" "content_filter set"
t_match "$(postconf -c "$PFX_DIR/etc" -M smtp-amavis/unix 127.0.0.1:10025/inet | tr -s ' \n' '  ')" \
  '^smtp-amavis unix - - n - 2 smtp .*127.0.0.1:10025 inet n - n - - smtpd -o syslog_name=postfix/reinject -o content_filter= ' \
  "master.cf: the amavis client and the re-injection smtpd"
amavis_setup "$S" || exit 1
touch -d '10 seconds ago' "$PFX_DIR/etc/main.cf" "$PFX_DIR/etc/master.cf"
amavis_start "$S" > /dev/null || { t_fail "amavis starts"; exit 1; }
pfx start > /dev/null 2>&1; t_atexit pfx_stop
t_wait_tcp 2525 20 || { t_fail "postfix starts"; exit 1; }

# a proper server from the Internet, through XCLIENT
send() {
  pfx_send --xclient "ADDR=198.18.7.9 NAME=mx.fabrikam.example REVERSE_NAME=mx.fabrikam.example" \
    --ehlo mx.fabrikam.example "$@"
}
t_match "$(send --from a@fabrikam.example --to alice@example.com \
  --header 'Subject: clean' --body 'Minutes of the meeting.')" \
  '^250 2.0.0 Ok: queued' "a clean message is accepted"
t_match "$(send --from b@fabrikam.example --to bob@example.com \
  --header 'Subject: infected' --body "$AV_PATTERN")" \
  '^250 2.0.0 Ok: queued' "an infected message is accepted at DATA"
t_match "$(send --from c@fabrikam.example --to carol@example.com \
  --header 'Subject: spam' \
  --body 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X')" \
  '^250 2.0.0 Ok: queued' "a GTUBE message is accepted at DATA"
demo_drain
L=$(pfx_log)
t_eq "$(grep 'postfix/discard' "$L" | grep 'status=sent' | sed 's/.* to=<\([^>]*\)>.*/\1/')" \
  "alice@example.com" "only the clean message is delivered"
A=$S/amavis/amavis.log
t_match "$(grep -c 'Blocked INFECTED (Imgate.Test.Signature.UNOFFICIAL)' "$A")" '^1$' \
  "amavis: the infected message blocked by clamd's signature"
t_match "$(grep -c 'Blocked SPAM' "$A")" '^1$' "amavis: the GTUBE message blocked as spam"
sleep 1
reportd "$L" "$A" > "$S/report" 2>&1
"$TOP/tests/demo/from-report" < "$S/report" | grep '^content' | sort > "$S/got"
t_eq "$(tr '\t\n' ' |' < "$S/got")" \
  "content clean 1|content infected 1|content spam 1|" "reportd counts each"
t_match "$(sed -n '/Virus names/,/^$/p' "$S/report" | grep Imgate)" \
  '^ +1  Imgate.Test.Signature.UNOFFICIAL$' "reportd names the virus"
amavis_stop

# uninstall undoes amavis's side too
ROOT=$ROOT POSTFIX_CONFIG=$PFX_DIR/etc "$TOP/package/uninstall" \
  > "$S/uninstall.out" 2>&1
t_eq "$?" 0 "uninstall exits 0"
t_eq "$(ls "$ROOT/etc/amavis/conf.d")" "" "uninstall: 60-imgate removed"
t_eq "$(id -nG clamav)" "$groups_before" "uninstall: clamav's groups as before"
t_eq "$(postconf -c "$PFX_DIR/etc" -h content_filter)" "" \
  "uninstall: no content_filter"
