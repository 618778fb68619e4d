#!/bin/sh
# acctd-data: text and LDIF sources to a CDB that Debian's cdb reads; bad
# lines stop it with FILE:LINE and leave the old CDB exactly as it was.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
cd "$D" || exit 111
CONF=$IMGATE_TOP/conf/acctd

acctd-data "$CONF/accounts.txt" acc.cdb 2> err; rc=$?
t_eq "$rc" 0 "text source builds"
t_eq "$(cat err)" "acctd-data: info: built file=acc.cdb addresses=5 duplicates=0 skipped=0 case=fold" "build line"
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
t_eq "$(cat err)" "acctd-data: info: built file=ldif.cdb addresses=3 duplicates=1 skipped=3 case=fold" "LDIF build line"
t_eq "$(cdb -d ldif.cdb)" "+10,4:acctd:case->fold
+17,2:carol@example.com->OK
+19,2:c.jones@example.com->OK
+17,2:josé@example.com->OK" "LDIF: mail, smtp: proxies, base64; X400/X500/sip skipped"

printf 'Alice@Example.COM\n' | acctd-data -k - keep.cdb 2>/dev/null
t_eq "$?" 0 "-k from stdin builds"
t_eq "$(cdb -d keep.cdb)" "+10,4:acctd:case->keep
+17,2:Alice@example.com->OK" "-k keeps the local part's case, domain lower-cased"

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
acctd-data new.txt acc.cdb 2>/dev/null
t_eq "$(cdb -q acc.cdb new@example.com)" OK "rebuild: new content"
[ "$(stat -c %i acc.cdb)" != "$old" ] && t_ok "rebuild: renamed into place (new inode)" || t_fail "rebuild: renamed into place (new inode)"

acctd-data 2> err; t_eq "$?:$(cat err)" "100:acctd-data: fatal: usage: acctd-data [-f text|ldif] [-k] SOURCE OUTPUT.cdb" "usage: exit 100"
acctd-data -f csv x y 2>/dev/null; t_eq "$?" 100 "unknown format: exit 100"
acctd-data missing.txt x.cdb 2> err
t_eq "$?:$(cat err)" "111:acctd-data: fatal: unable to open missing.txt: No such file or directory" "missing source: exit 111"
acctd-data new.txt /nonexistent/dir/x.cdb 2>/dev/null; t_eq "$?" 111 "unwritable output: exit 111"

# A million-line source is no problem (and fast): 200k here.
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "u%d@d%d.example.com\n", i, i % 100 }' > big.txt
acctd-data big.txt big.cdb 2>/dev/null
t_eq "$(cdb -q big.cdb u199999@d99.example.com)" OK "200k addresses: last one found"
t_eq "$(cdb -s big.cdb | sed -n 's/^number of records: *//p')" 200001 "200k addresses: all there"
