#!/bin/sh
# acctd-data: text and LDIF sources to a CDB that Debian's cdb reads; bad
# lines stop it with FILE:LINE and leave the old CDB exactly as it was.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
cd "$D" || exit 111
CONF=$IMGATE_TOP/conf/acctd

acctd-data "$CONF/accounts.txt" acc.cdb 2> err; rc=$?
t_eq "$rc" 0 "text source builds"
t_eq "$(cat err)" "acctd-data: info: built file=acc.cdb addresses=5 keys=5 duplicates=0 skipped=0 case=fold" "build line"
t_eq "$(cdb -d acc.cdb)" "+10,4:acctd:case->fold
+17,2:alice@example.com->OK
+21,2:bob.smith@example.com->OK
+20,2:john doe@example.com->OK
+22,2:postmaster@example.com->OK
+18,2:@lists.example.com->OK" "cdb -d reads every record"
t_eq "$(cdb -q acc.cdb bob.smith@example.com)" "OK" "cdb -q finds an address"
cdb -q acc.cdb nobody@example.com >/dev/null; t_eq "$?" 100 "cdb -q: unknown is not found"
t_eq "$(cdb -s acc.cdb | sed -n 's/^number of records: *//p')" 6 "cdb -s counts the records"
[ -e acc.cdb.tmp ] && t_fail "no temporary file left" || t_ok "no temporary file left"

acctd-data -f ldif "$CONF/accounts.ldif" ldif.cdb 2> err
t_eq "$?" 0 "LDIF source builds"
t_eq "$(cat err)" "acctd-data: info: built file=ldif.cdb addresses=3 keys=3 duplicates=1 skipped=3 case=fold" "LDIF build line"
t_eq "$(cdb -d ldif.cdb)" "+10,4:acctd:case->fold
+17,2:carol@example.com->OK
+19,2:c.jones@example.com->OK
+17,2:josé@example.com->OK" "LDIF: mail, smtp: proxies, base64; X400/X500/sip skipped"

printf 'Alice@Example.COM\n' | acctd-data -k - keep.cdb 2> err
t_eq "$?:$(cat err)" "0:acctd-data: info: built file=keep.cdb addresses=1 keys=2 duplicates=0 skipped=0 case=keep" "-k from stdin builds: one address, two keys"
t_eq "$(cdb -d keep.cdb)" "+10,4:acctd:case->keep
+17,2:Alice@example.com->OK
+17,2:alice@example.com->OK" "-k keeps the local part's case (domain lower-cased) and adds the folded copy Postfix asks for"
# -k's shrink guard counts keys on both sides: 2 keys in keep.cdb
printf 'b@example.com\n' > one.txt
cp keep.cdb k2.cdb; acctd-data -k -p 60 one.txt k2.cdb 2> err
t_eq "$?:$(cat err)" "100:acctd-data: fatal: 1 addresses, below 60% of the 2 in k2.cdb (a partial export? -F builds it anyway), OUTPUT left as it was: one.txt" "-k: shrink guard, 1 key of 2"
printf 'B@example.com\n' > one.txt
acctd-data -k -p 100 one.txt k2.cdb 2> err
t_eq "$?:$(cat err)" "0:acctd-data: info: built file=k2.cdb addresses=1 keys=2 duplicates=0 skipped=0 case=keep" "-k: shrink guard, 2 keys of 2 pass -p 100"
printf 'A@example.com\nC@example.com\n' | acctd-data -k - k4.cdb 2>/dev/null
acctd-data -k -p 60 one.txt k4.cdb 2> err
t_eq "$?:$(cat err)" "100:acctd-data: fatal: 2 keys, below 60% of the 4 in k4.cdb (a partial export? -F builds it anyway), OUTPUT left as it was: one.txt" "-k: shrink guard, 2 keys of 4, said in keys"

# A bad line: exit 100, FILE:LINE: what, OUTPUT untouched.
cp acc.cdb before.cdb
printf 'ok@example.com\n\nbad address@example.com\n' > bad.txt
acctd-data bad.txt acc.cdb 2> err; rc=$?
t_eq "$rc" 100 "bad line: exit 100"
t_eq "$(cat err)" "acctd-data: fatal: bad.txt:3: text after the address (one address per line)" "bad line: file, line and what"
cmp -s acc.cdb before.cdb && t_ok "bad line: OUTPUT unchanged" || t_fail "bad line: OUTPUT unchanged"
[ -e acc.cdb.tmp ] && t_fail "bad line: temporary removed" || t_ok "bad line: temporary removed"
printf 'dn: cn=x\nmail: x@example.com\nproxyAddresses: nocolon\n' > bad.ldif
acctd-data -f ldif bad.ldif acc.cdb 2> err; rc=$?
t_eq "$rc:$(cat err)" "100:acctd-data: fatal: bad.ldif:3: proxyAddresses value without a type (smtp:)" "bad LDIF line"
cmp -s acc.cdb before.cdb && t_ok "bad LDIF: OUTPUT unchanged" || t_fail "bad LDIF: OUTPUT unchanged"

# A failed export must never become a CDB that says "nobody exists":
# no addresses, fewer than -m, or a sudden shrink: exit 100, OUTPUT kept.
: > empty.txt
printf 'dn: cn=x\nresult: 32 No such object\n' > noobj.ldif
printf 'result: 32 No such object\n' > noobj2.ldif
for c in "empty.txt" "-f ldif - <empty.txt" "-F empty.txt" "-p 0 empty.txt" "# only a comment"; do
  case $c in
  '#'*) printf '%s\n' "$c" > cmt.txt; set -- cmt.txt; src=cmt.txt ;;
  *'<'*) set -- -f ldif -; src=stdin ;;
  *) eval "set -- $c"; eval "src=\${$#}" ;;
  esac
  if [ "$src" = stdin ]; then acctd-data "$@" acc.cdb < empty.txt 2> err; else acctd-data "$@" acc.cdb 2> err; fi
  t_eq "$?:$(cat err)" "100:acctd-data: fatal: no addresses in the source (a failed export?), OUTPUT left as it was: $src" "no addresses ($c): exit 100"
  cmp -s acc.cdb before.cdb && t_ok "no addresses ($c): OUTPUT unchanged" || t_fail "no addresses ($c): OUTPUT unchanged"
  [ -e acc.cdb.tmp ] && t_fail "no addresses ($c): temporary removed" || t_ok "no addresses ($c): temporary removed"
done
for f in noobj.ldif noobj2.ldif; do
  acctd-data -f ldif $f acc.cdb 2> err
  t_eq "$?:$(cat err)" "100:acctd-data: fatal: $f:$(grep -n result: $f | cut -d: -f1): the LDAP search failed (result: is not 0 Success)" "$f (result: 32 No such object): refused"
  cmp -s acc.cdb before.cdb && t_ok "$f: OUTPUT unchanged" || t_fail "$f: OUTPUT unchanged"
done
printf 'dn: cn=a\nmail: a@example.com\n\n# search result\nsearch: 2\nresult: 4 Size limit exceeded\n' > partial.ldif
acctd-data -f ldif partial.ldif acc.cdb 2> err
t_eq "$?:$(cat err)" "100:acctd-data: fatal: partial.ldif:6: the LDAP search failed (result: is not 0 Success)" "ldapsearch -L result: 4 (partial export): refused"
cmp -s acc.cdb before.cdb && t_ok "failed search: OUTPUT unchanged" || t_fail "failed search: OUTPUT unchanged"
printf 'dn: cn=a\nmail: a@example.com\n\n# search result\nsearch: 2\nresult: 0 Success\n' > okres.ldif
acctd-data -f ldif okres.ldif okres.cdb 2>/dev/null
t_eq "$?:$(cdb -q okres.cdb a@example.com)" "0:OK" "result: 0 Success is fine"
acctd-data empty.txt fresh.cdb 2>/dev/null; t_eq "$?" 100 "no addresses, no OUTPUT yet: refused"
[ -e fresh.cdb ] && t_fail "no addresses: no OUTPUT created" || t_ok "no addresses: no OUTPUT created"
printf 'a@example.com\nb@example.com\n' > two.txt
acctd-data -m 3 two.txt m.cdb 2> err
t_eq "$?:$(cat err)" "100:acctd-data: fatal: 2 addresses, fewer than -m 3 (a failed export?), OUTPUT left as it was: two.txt" "-m 3 with 2 addresses: refused"
acctd-data -m 2 two.txt m.cdb 2>/dev/null; t_eq "$?" 0 "-m 2 with 2 addresses: built"
acctd-data -F -m 3 two.txt m.cdb 2>/dev/null; t_eq "$?" 100 "-F does not lift -m"
# acc.cdb holds 5: 2 is 40%, below the default 50%
acctd-data two.txt acc.cdb 2> err
t_eq "$?:$(cat err)" "100:acctd-data: fatal: 2 addresses, below 50% of the 5 in acc.cdb (a partial export? -F builds it anyway), OUTPUT left as it was: two.txt" "shrink below 50%: refused"
cmp -s acc.cdb before.cdb && t_ok "shrink: OUTPUT unchanged" || t_fail "shrink: OUTPUT unchanged"
acctd-data -p 40 two.txt cp.cdb 2>/dev/null; t_eq "$?" 0 "-p 40: 2 of 5 is enough"
cp before.cdb cp.cdb; acctd-data -p 41 two.txt cp.cdb 2>/dev/null; t_eq "$?" 100 "-p 41: 2 of 5 is not"
cp before.cdb cp.cdb; acctd-data -p 0 two.txt cp.cdb 2>/dev/null; t_eq "$?" 0 "-p 0: no shrink check"
cp before.cdb cp.cdb; acctd-data -F two.txt cp.cdb 2>/dev/null; t_eq "$?:$(cdb -q cp.cdb b@example.com)" "0:OK" "-F: a real shrink is built"
printf 'x\n' > junk.cdb; acctd-data two.txt junk.cdb 2>/dev/null; t_eq "$?" 0 "an unreadable old OUTPUT is no reason to refuse"
# a failed export repeating one address: one distinct address, below
# 50% of 5 (once the three lines counted as three)
printf 'a@example.com\na@example.com\nA@Example.com\n' > rep.txt
cp before.cdb cp.cdb; acctd-data rep.txt cp.cdb 2> err
t_eq "$?:$(cat err)" "100:acctd-data: fatal: 1 addresses, below 50% of the 5 in cp.cdb (a partial export? -F builds it anyway), OUTPUT left as it was: rep.txt" "repeated lines count once for the shrink guard"
acctd-data -F rep.txt rep.cdb 2> err
t_eq "$?:$(cat err):$(cdb -d rep.cdb | grep -c 'a@example.com')" "0:acctd-data: info: built file=rep.cdb addresses=1 keys=1 duplicates=2 skipped=0 case=fold:1" "a repeated line is one record"
for o in "-m 0" "-m x" "-p 101" "-p -1" "-m 5x"; do
  acctd-data $o two.txt m.cdb 2>/dev/null; t_eq "$?" 100 "bad option value $o: exit 100"
done

# Addresses that are not what acctd-data(8) says (dot-atoms, hostname
# labels, real IP literals): FILE:LINE: what, exit 100.
while IFS='|' read -r a want; do
  printf 'ok@example.com\n%s\n' "$a" > syn.txt
  acctd-data syn.txt syn.cdb 2> err
  t_eq "$?:$(cat err)" "100:acctd-data: fatal: syn.txt:2: $want" "bad address $a"
done <<'TABLE'
.a@ex.com|local part starts with a dot (quote it)
a.@ex.com|local part ends with a dot (quote it)
a..b@ex.com|two dots in a row in local part (quote it)
a@-ex.com|domain label starts with a hyphen
a@ex-.com|domain label ends with a hyphen
a@[999.1.1.1]|bad IPv4 address literal
a@[IPv6:::g]|bad IPv6 address literal
TABLE
[ -e syn.cdb ] && t_fail "bad addresses: no OUTPUT" || t_ok "bad addresses: no OUTPUT"
printf '"a..b"@ex.com\na@[192.0.2.1]\na@[IPv6:2001:db8::1]\n' > syn.txt
acctd-data syn.txt syn.cdb 2>/dev/null
t_eq "$?:$(cdb -d syn.cdb | tr '\n' ' ')" "0:+10,4:acctd:case->fold +11,2:a..b@ex.com->OK +13,2:a@[192.0.2.1]->OK +20,2:a@[ipv6:2001:db8::1]->OK  " "quoted dots and real literals are accepted"

# The temporary file is created O_EXCL|O_NOFOLLOW.
: > acc.cdb.tmp
acctd-data "$CONF/accounts.txt" acc.cdb 2> err; rc=$?
t_eq "$rc:$(cat err)" "111:acctd-data: fatal: temporary file exists (another acctd-data running? if not, remove it): acc.cdb.tmp" "existing temporary: exit 111"
rm -f acc.cdb.tmp
ln -s "$D/victim" acc.cdb.tmp
acctd-data "$CONF/accounts.txt" acc.cdb 2>/dev/null; rc=$?
t_eq "$rc" 111 "symlink at the temporary path: refused"
[ -e victim ] && t_fail "symlink not followed" || t_ok "symlink not followed"
rm -f acc.cdb.tmp
cmp -s acc.cdb before.cdb && t_ok "refusals leave OUTPUT unchanged" || t_fail "refusals leave OUTPUT unchanged"

# Rebuild replaces the file by rename: a new inode, the old one intact.
old=$(stat -c %i acc.cdb)
printf 'new@example.com\n' > new.txt
acctd-data -F new.txt acc.cdb 2>/dev/null
t_eq "$(cdb -q acc.cdb new@example.com)" OK "rebuild: new content"
[ "$(stat -c %i acc.cdb)" != "$old" ] && t_ok "rebuild: renamed into place (new inode)" || t_fail "rebuild: renamed into place (new inode)"

acctd-data 2> err; t_eq "$?:$(cat err)" "100:acctd-data: fatal: usage: acctd-data [-f text|ldif] [-k] [-m MIN] [-p PERCENT] [-F] SOURCE OUTPUT.cdb" "usage: exit 100"
acctd-data -f csv x y 2>/dev/null; t_eq "$?" 100 "unknown format: exit 100"
acctd-data missing.txt x.cdb 2> err
t_eq "$?:$(cat err)" "111:acctd-data: fatal: unable to open missing.txt: No such file or directory" "missing source: exit 111"
acctd-data new.txt /nonexistent/dir/x.cdb 2>/dev/null; t_eq "$?" 111 "unwritable output: exit 111"

# The new CDB's mode (and, as root, owner) is the old one's, 0644 for a
# first one, whatever the umask: the cron sample runs under umask 077,
# which made a 0600 root CDB that acctd (its own user) could not read.
(umask 077; acctd-data new.txt mode.cdb 2>/dev/null)
t_eq "$?:$(stat -c %a mode.cdb)" "0:644" "umask 077, no old CDB: 0644"
chmod 640 mode.cdb
(umask 077; acctd-data new.txt mode.cdb 2>/dev/null)
t_eq "$?:$(stat -c %a mode.cdb)" "0:640" "umask 077: the old CDB's mode 0640 kept"
chmod 604 mode.cdb
(umask 0; acctd-data new.txt mode.cdb 2>/dev/null)
t_eq "$?:$(stat -c %a mode.cdb)" "0:604" "umask 0: the old CDB's mode 0604 kept"
if [ "$(id -u)" = 0 ]; then
  chown nobody:nogroup mode.cdb; chmod 600 mode.cdb
  (umask 077; acctd-data new.txt mode.cdb 2>/dev/null)
  t_eq "$?:$(stat -c '%a %U %G' mode.cdb)" "0:600 nobody nogroup" "as root: the old CDB's owner and group kept"
  # acctd as its own user reads a CDB rebuilt under umask 077 (a
  # tester's: the new account got 550, after a restart all got 451)
  printf 'old@example.com\n' > own.txt; acctd-data own.txt own.cdb 2>/dev/null
  mkdir run; chown nobody run
  env CDB="$D/own.cdb" SOCKETMAP="unix:$D/run/own.sock" SOCKET_MODE=0666 \
    setuidgid nobody acctd 2> own.log &
  T_PIDS="$T_PIDS $!"
  t_wait_path run/own.sock 5 && t_wait_log own.log 'entries=1 ' 5
  printf 'old@example.com\nnewhire@example.com\n' > own.txt
  (umask 077; acctd-data own.txt own.cdb 2>/dev/null)
  t_wait_log own.log 'entries=2 ' 5
  t_eq "$(python3 "$IMGATE_TOP/acctd/tests/wire.py" "unix:$D/run/own.sock" 'sm("newhire@example.com")'):$(grep -c warning own.log)" \
    "5:OK OK,:0" "acctd as nobody: the CDB rebuilt under umask 077 is read"
else
  t_skip "owner kept, acctd as nobody" "not root"
fi

# A million-line source is no problem (and fast): 200k here.
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "u%d@d%d.example.com\n", i, i % 100 }' > big.txt
acctd-data big.txt big.cdb 2>/dev/null
t_eq "$(cdb -q big.cdb u199999@d99.example.com)" OK "200k addresses: last one found"
t_eq "$(cdb -s big.cdb | sed -n 's/^number of records: *//p')" 200001 "200k addresses: all there"

# conf/acctd/cron: the active line runs as written (paths moved here).
line=$(grep -v '^#' "$CONF/cron" | grep 'acctd-data' | head -1)
cmd=$(printf '%s\n' "${line#*root}" | sed "s|/etc/imgate/acctd/accounts.txt|$D/cron.txt|; s|/var/lib/imgate/acctd/accounts.cdb|$D/cron.cdb|")
awk 'BEGIN { for (i = 0; i < 150; i++) printf "c%d@example.com\n", i }' > cron.txt
sh -c "$cmd" 2>/dev/null; t_eq "$?:$(cdb -q cron.cdb c149@example.com)" "0:OK" "cron sample: builds"
: > cron.txt
sh -c "$cmd" 2> err; t_eq "$?:$(cdb -q cron.cdb c149@example.com)" "100:OK" "cron sample: an empty export refused, old CDB kept"
t_eq "$(grep -c '%' "$CONF/cron")" 0 "cron sample: no per-cent sign (cron would cut the line)"
