#!/bin/sh
# acctd and a CDB not made by acctd-data (cdb -m from a mixed-case
# export): lookups are folded, so keys with capitals never match and
# their addresses get 550; acctd serves the file all the same and says
# so in one warning line, where a postmaster looks.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
cd "$D" || exit 111
W="python3 $IMGATE_TOP/acctd/tests/wire.py"
printf 'Upper@Example.com OK\nlower@example.com OK\nMIXED@example.com OK\n' |
  cdb -c -m x.cdb || t_fail "cdb -m builds the file"
env CDB="$D/x.cdb" SOCKETMAP="unix:$D/sm.sock" acctd 2> log &
T_PIDS="$T_PIDS $!"
t_wait_path "$D/sm.sock" 5 && t_wait_log log 'acctd: warning: cdb ' 5
t_eq "$(grep ' cdb ' log)" "acctd: info: cdb file=$D/x.cdb entries=3 case=fold
acctd: warning: cdb file=$D/x.cdb capitals=2 error=\"keys with capitals \
never match a folded lookup: build with acctd-data, or lower-case the keys\"" \
  "a folded CDB with capital keys: served, and one warning with the count"
t_eq "$($W "unix:$D/sm.sock" 'sm("lower@example.com", "Upper@Example.com")')" \
  "5:OK OK,9:NOTFOUND ," "lower-case key found, capital key never"
acctd-data /dev/stdin y.cdb 2>/dev/null <<'EOA'
Upper@Example.com
EOA
env CDB="$D/y.cdb" SOCKETMAP="unix:$D/sy.sock" acctd 2> logy &
T_PIDS="$T_PIDS $!"
t_wait_path "$D/sy.sock" 5 && t_wait_log logy 'acctd: info: cdb ' 5
t_eq "$(grep -c warning logy)" 0 "acctd-data's CDB: no warning"
t_eq "$($W "unix:$D/sy.sock" 'sm("Upper@Example.com")')" "5:OK OK," \
  "acctd-data's CDB: the mixed-case address found"

# acctd-data -k: the exact case is found, and so is the lower-cased form
# Postfix asks for (a tester's -k CDB bounced Bob.Smith with 550); other
# spellings are not.
printf 'Bob.Smith@Example.COM\nlow@example.com\n' | acctd-data -k - k.cdb 2>/dev/null
t_eq "$(cdb -d k.cdb)" "+10,4:acctd:case->keep
+21,2:Bob.Smith@example.com->OK
+21,2:bob.smith@example.com->OK
+15,2:low@example.com->OK" "-k CDB: the address as given and its folded copy"
PK=$(t_port 21260)
env CDB="$D/k.cdb" SOCKETMAP="unix:$D/sk.sock" TCPTABLE=127.0.0.1:$PK acctd 2> logk &
T_PIDS="$T_PIDS $!"
t_wait_path "$D/sk.sock" 5 && t_wait_tcp "$PK" 5 && t_wait_log logk 'acctd: info: cdb ' 5
t_eq "$(grep ' cdb ' logk)" "acctd: info: cdb file=$D/k.cdb entries=3 case=keep" "-k CDB: loaded, keep, no warning"
t_eq "$($W "unix:$D/sk.sock" 'sm("bob.smith@example.com", "Bob.Smith@example.com", "bob.smith+x@example.com", "BOB.SMITH@example.com", "Low@example.com")')" \
  "5:OK OK,5:OK OK,5:OK OK,9:NOTFOUND ,9:NOTFOUND ," \
  "-k CDB over socketmap: lower-cased and exact found, other case not"
t_eq "$($W "127.0.0.1:$PK" 'b"get bob.smith@example.com\nget Bob.Smith@example.com\nget bob.SMITH@example.com\n"')" \
  "200 OK\n200 OK\n500 NOTFOUND\n" \
  "-k CDB over tcp_table: lower-cased and exact found, other case not"
