#!/bin/sh
# policyd when DNS fails: a server that never answers costs at most
# DEADLINE and rejects nothing; SERVFAIL and truncated answers make the
# lists false and say so; DNS_FAIL_DEFER turns that into a defer; while
# one request waits, the others are served; a hit decides at once even
# if another list is still silent.  Failures come from dnsmock.py.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/policyd/tests/lib.sh"
. "$IMGATE_TOP/policyd/tests/zones.sh"

cat > "$D/rules" <<'EOR'
dnsbl zen zen.spamhaus.org main
dnsbl slow b.barracudacentral.org
PTRNUL HELO_IP reject
RBL PTRNUL reject
EOR

# 1. nothing answers at all
SILENT=$(t_port 26353)
mock_start "$SILENT" --silent zen.spamhaus.org \
  --silent b.barracudacentral.org || exit 1
# the circuit breaker off: every request here must meet the silence
# (breaker.t has the zones marked down)
pd_start dead "$D/rules" "127.0.0.1:$SILENT" DEADLINE=1000 \
  DNS_DOWN_FAILURES=0
printf '192.0.2.1 mail.example.org -\n192.0.2.7 mail.example.org -\n' |
  pq dead > "$D/dead.out"
t_eq "$(cut -f1 "$D/dead.out" | sort -u)" "action=DUNNO" \
  "silent DNS: no reject"
# policyd answers at DEADLINE less 5 % (950 ms), well before c-ares
# gives up (1500 ms); a busy machine may wake it a little late
over=$(awk -F'\t' '$2 > 1200 || $2 < 940' "$D/dead.out" | wc -l)
t_eq "$over" 0 "silent DNS: each answer at DEADLINE (1000 ms)"
[ "$over" = 0 ] || sed 's/^/#   /' "$D/dead.out"
line=$(decision dead 192.0.2.1)
t_eq "$(logval "$line" dns)" "timeout" "silent DNS: dns=timeout logged"
t_eq "$(logval "$line" failed)" "zen,slow" "silent DNS: failed lists named"
t_eq "$(logval "$line" rule)" "-" "silent DNS: no rule"

# a request that needs no DNS is answered while others wait
( printf '192.0.2.8 mail.example.org -\n' | pq dead > "$D/wait.out" ) &
W=$!
sleep 0.1
printf '198.51.100.1 [198.51.100.1] -\n' | pq dead > "$D/fast.out"
wait $W
t_eq "$(cut -f1 "$D/fast.out")" \
  "action=REJECT 5.7.1 Rejected by policy (PTRNUL HELO_IP)" \
  "served while another request waits"
t_eq "$(awk -F'\t' '$2 < 300 { print "fast" }' "$D/fast.out")" "fast" \
  "that answer did not wait for the other"
t_eq "$(cut -f1 "$D/wait.out")" "action=DUNNO" "the waiting one got DUNNO"

# 2. SERVFAIL, truncation and a mix of hit and silence
MIX=$(t_port 27353)
mock_start "$MIX" "zen.spamhaus.org:ip4set:$D/zen" \
  --silent b.barracudacentral.org || exit 1
BAD=$(t_port 28353)
mock_start "$BAD" --servfail zen.spamhaus.org \
  --truncate b.barracudacentral.org || exit 1
pd_start mix "$D/rules" "127.0.0.1:$MIX" DEADLINE=1000
pd_start bad "$D/rules" "127.0.0.1:$BAD" DEADLINE=1000
printf '192.0.2.1 mail.example.org -\n192.0.2.9 mail.example.org -\n' |
  pq mix > "$D/mix.out"
t_eq "$(head -1 "$D/mix.out" | cut -f1)" \
  "action=REJECT 5.7.1 Rejected by policy (RBL PTRNUL)" \
  "a hit decides though another list is silent"
t_eq "$(head -1 "$D/mix.out" | awk -F'\t' '$2 < 300 { print "fast" }')" \
  "fast" "...without waiting for the silent one"
t_eq "$(logval "$(decision mix 192.0.2.1)" dns)" "ok" \
  "...and the silent one is not blamed"
line=$(decision mix 192.0.2.9)
t_eq "$(logval "$line" dns)" "partial" "one answered, one silent: partial"
t_eq "$(logval "$line" failed)" "slow" "...naming the silent list"
printf '192.0.2.1 mail.example.org -\n' | pq bad > "$D/bad.out"
t_eq "$(cut -f1 "$D/bad.out")" "action=DUNNO" "SERVFAIL/truncated: DUNNO"
line=$(decision bad 192.0.2.1)
t_match "$(logval "$line" dns)" '^(servfail|truncated)$' \
  "SERVFAIL/truncated: dns= says which"
t_eq "$(logval "$line" failed)" "zen,slow" "...and both lists failed"
t_eq "$(awk -F'\t' '$2 < 300 { print "fast" }' "$D/bad.out")" "fast" \
  "SERVFAIL/truncated: answered at once, no wait for DEADLINE"
TRUNC=$(t_port 29353)
mock_start "$TRUNC" --truncate zen.spamhaus.org \
  --truncate b.barracudacentral.org || exit 1
pd_start tc "$D/rules" "127.0.0.1:$TRUNC" DEADLINE=400
printf '192.0.2.1 mail.example.org -\n' | pq tc > /dev/null
t_eq "$(logval "$(decision tc 192.0.2.1)" dns)" "truncated" \
  "truncated answers: dns=truncated"

# 3. DNS_FAIL_DEFER=yes: a rule that DNS could not decide defers
pd_start defer "$D/rules" "127.0.0.1:$SILENT" DEADLINE=300 \
  DNS_FAIL_DEFER=yes
printf '192.0.2.1 mail.example.org -\n198.51.100.1 [198.51.100.1] -\n' |
  pq defer > "$D/defer.out"
t_eq "$(head -1 "$D/defer.out" | cut -f1)" \
  "action=DEFER_IF_PERMIT 4.7.1 DNS list lookup failed, try again later" \
  "DNS_FAIL_DEFER: defer_if_permit"
t_eq "$(sed -n 2p "$D/defer.out" | cut -f1)" \
  "action=REJECT 5.7.1 Rejected by policy (PTRNUL HELO_IP)" \
  "DNS_FAIL_DEFER: rules without DNS unaffected"
line=$(decision defer 192.0.2.1)
t_eq "$(logval "$line" action)/$(logval "$line" rule)" "defer/RBL PTRNUL" \
  "DNS_FAIL_DEFER: logged as defer with the rule DNS could not decide"

# 4. under load with a dead server: 8 connections x 5 requests, each
# answered at DEADLINE (bounded: 40 requests, about 5 s)
i=0 pids=""
while [ $i -lt 8 ]; do
  ( j=0
    while [ $j -lt 5 ]; do
      echo "192.0.2.$((i * 10 + j + 100)) mail.example.org -"; j=$((j+1))
    done | pq dead > "$D/load.$i" ) &
  pids="$pids $!"
  i=$((i+1))
done
for p in $pids; do wait "$p"; done
t_eq "$(cat "$D"/load.* | wc -l)" 40 "load with dead DNS: 40 answers"
t_eq "$(grep -c 'decision .*client=192.0.2.1[0-9][0-9] ' "$D/dead.log")" 40 \
  "load with dead DNS: 40 decisions logged"
t_eq "$(grep 'decision .*client=192.0.2.1[0-9][0-9] ' "$D/dead.log" |
        sed 's/.* ms=//' | awk '$1 > 1200 || $1 < 940 { print }')" "" \
  "load with dead DNS: policyd answered each at DEADLINE (+200 ms slack)"
# the clients' own clocks add their scheduling on a busy machine
t_eq "$(cat "$D"/load.* | awk -F'\t' '$2 > 1200' | wc -l)" 0 \
  "load with dead DNS: each client had its answer by DEADLINE + 200 ms"
