#!/bin/sh
# A real Postfix asks acctd at RCPT time through relay_recipient_maps:
# first over socketmap on a unix socket, then over tcp_table.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/tests/lib/postfix.sh"
t_need_root "acctd with a real Postfix"
D=$(t_tmpdir)
cd "$D" || exit 111
P=$(t_port 21200)
PFX_PORT=$(t_port 2525)
PFX_RELAY_DOMAINS="example.com lists.example.com"
acctd-data "$IMGATE_TOP/conf/acctd/accounts.txt" acc.cdb 2>/dev/null

start_acctd() {
  CDB=$D/acc.cdb SOCKETMAP=unix:$D/sm.sock TCPTABLE=127.0.0.1:$P \
    acctd 2>> log &
  A=$!; T_PIDS="$T_PIDS $A"
  t_wait_path sm.sock 5 && t_wait_tcp "$P" 5 || t_fail "acctd starts"
}
start_acctd

rcpt() { pfx_rcpt --from bob@example.net --to "$1"; }
UNKNOWN="550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in relay recipient table"

checks() {   # checks PROTO
  t_eq "$(rcpt alice@example.com)" "250 2.1.5 Ok" "$1: known address 250"
  t_eq "$(rcpt nobody@example.com)" "$UNKNOWN" "$1: unknown address 550 5.1.1"
  t_eq "$(rcpt anyone@lists.example.com)" "250 2.1.5 Ok" "$1: @domain catch-all 250"
  t_eq "$(rcpt alice+news@example.com)" "250 2.1.5 Ok" "$1: user+ext 250"
  t_eq "$(rcpt ALICE@Example.COM)" "250 2.1.5 Ok" "$1: mixed case 250"
  t_eq "$(rcpt Bob.Smith+X@EXAMPLE.COM)" "250 2.1.5 Ok" "$1: mixed case with extension 250"
  t_eq "$(rcpt '"john doe"@example.com')" "250 2.1.5 Ok" "$1: quoted local part 250 (asked again unquoted)"
  t_match "$(pfx_send --from bob@example.net --to alice@example.com)" '^250 2\.0\.0 Ok: queued as ' "$1: a whole message to a known address is queued"
}

PFX_RECIPIENT_MAP=socketmap:unix:$D/sm.sock:rcpt
pfx_start || { t_fail "postfix starts"; exit 1; }
checks socketmap
t_match "$(grep 'result=notfound' log | head -1)" '^acctd: info: lookup proto=socketmap result=notfound key=nobody@example.com conn=[0-9]+$' "socketmap: the unknown RCPT is logged by acctd"

# The CDB missing: temporary, never a bounce.
mv acc.cdb acc.cdb.away
t_wait_log log 'error="No such file' 5
t_eq "$(rcpt alice@example.com)" "451 4.3.0 <alice@example.com>: Temporary lookup failure" "socketmap: no cdb gives 451 4.3.0"
t_eq "$(rcpt nobody@example.com)" "451 4.3.0 <nobody@example.com>: Temporary lookup failure" "socketmap: no cdb: unknown deferred, not rejected"
mv acc.cdb.away acc.cdb
i=0; while [ "$(rcpt alice@example.com)" != "250 2.1.5 Ok" ] && [ $i -lt 20 ]; do sleep 0.2; i=$((i+1)); done
t_eq "$(rcpt alice@example.com)" "250 2.1.5 Ok" "socketmap: cdb back, accepted again"

# acctd down: 4xx at once.
t_stop "$A"
start=$(date +%s)
t_eq "$(rcpt alice@example.com)" "451 4.3.0 <alice@example.com>: Temporary lookup failure" "socketmap: acctd down gives 451 4.3.0"
[ $(( $(date +%s) - start )) -le 3 ] && t_ok "socketmap: and fails fast" || t_fail "socketmap: and fails fast"
start_acctd
t_eq "$(rcpt alice@example.com)" "250 2.1.5 Ok" "socketmap: acctd back, 250"

# Rebuilding the CDB while RCPTs stream in (one SMTP session, RSET every
# 50 RCPTs): not one RCPT to a known address is refused or deferred.
python3 - "$PFX_PORT" > stream.out <<'PY' &
import smtplib, sys, time
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.example.net")
bad, n, end = [], 0, time.time() + 6
known = ["alice@example.com", "alice+x@example.com", "ALICE@example.com",
         "x@lists.example.com", "postmaster@example.com"]
while time.time() < end and n < 6000:
    if n % 50 == 0:
        s.rset(); s.mail("bob@example.net")
    code, msg = s.rcpt(known[n % len(known)])
    if code != 250: bad.append((code, msg))
    n += 1
s.quit()
print(n, len(bad), bad[:3])
PY
S=$!
sleep 0.5
for n in 1 2 3 4 5 6; do
  { cat "$IMGATE_TOP/conf/acctd/accounts.txt"; echo "extra$n@example.com"; } > src.txt
  acctd-data src.txt acc.cdb 2>/dev/null
  [ $((n % 2)) = 0 ] && kill -HUP "$A"
  sleep 0.7
done
wait $S
t_match "$(cat stream.out)" '^[0-9]+ 0 \[\]$' "socketmap: rebuilds while RCPTs stream: no RCPT failed"
t_match "$(awk '$1 >= 200 { print "many" }' stream.out)" many "socketmap: RCPTs really streamed ($(cut -d' ' -f1 stream.out))"
t_eq "$(rcpt extra6@example.com)" "250 2.1.5 Ok" "socketmap: the last rebuild is served"

# acctd-data -k: smtpd lower-cases the address before it asks, so a CDB
# holding only Bob.Smith@example.com made Postfix bounce a real account
# with 550 5.1.1 (a tester's find); the folded copy is found.
acctd-data -k "$IMGATE_TOP/conf/acctd/accounts.txt" acc.cdb 2>/dev/null
kill -HUP "$A"
t_wait_log log 'case=keep' 5
for r in Bob.Smith@example.com bob.smith@example.com BOB.SMITH@EXAMPLE.COM \
         Bob.Smith+x@Example.COM; do
  t_eq "$(rcpt "$r")" "250 2.1.5 Ok" "socketmap: -k CDB: $r 250"
done
t_eq "$(rcpt nobody@example.com)" "$UNKNOWN" "socketmap: -k CDB: unknown still 550 5.1.1"
n=$(grep -c 'case=fold' log)
acctd-data "$IMGATE_TOP/conf/acctd/accounts.txt" acc.cdb 2>/dev/null
kill -HUP "$A"
i=0; while [ "$(grep -c 'case=fold' log)" = "$n" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
t_eq "$(grep ' cdb ' log | tail -1 | sed 's/.*case=//')" fold "socketmap: folded CDB back"
pfx_stop

# The same through tcp_table.
PFX_RECIPIENT_MAP=tcp:127.0.0.1:$P
pfx_start || { t_fail "postfix starts (tcp)"; exit 1; }
checks tcp
t_match "$(grep 'proto=tcp result=notfound' log | head -1)" '^acctd: info: lookup proto=tcp result=notfound key=nobody@example.com conn=[0-9]+$' "tcp: the unknown RCPT is logged by acctd"
# Postfix retries a tcp table 10 times a second apart before it defers.
t_stop "$A"
t_eq "$(rcpt alice@example.com)" "451 4.3.0 <alice@example.com>: Temporary lookup failure" "tcp: acctd down gives 451 4.3.0"
pfx_stop
