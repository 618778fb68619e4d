#!/bin/sh
# policyd asks a list only when a rule that can still match needs it,
# and caches answers, negative ones too, for their TTL (CACHE_MAX_TTL at
# most); CACHE_SIZE=0 asks every time.  Counted by policyd's own stats
# line at exit, so the test holds whichever server (rbld or dnsmock.py)
# serves the zones.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/policyd/tests/lib.sh"
. "$IMGATE_TOP/policyd/tests/zones.sh"

PORT=$(t_port 32353)
# shellcheck disable=SC2086
zones_start "$PORT" $ZONES || exit 1
cat > "$D/rules" <<'EOR'
dnsbl zen zen.spamhaus.org main
PTRNUL HELO_IP reject
RBL PTRNUL reject
EOR
cat > "$D/reqs" <<'EOQ'
198.51.100.1 [198.51.100.1] -
192.0.2.1 mail.example.org -
192.0.2.1 mail.example.org -
192.0.2.200 mail.example.org -
192.0.2.200 mail.example.org -
2001:db8::25 mail.example.org -
2001:db8::25 mail.example.org -
192.0.2.200 mx.example.org mx.example.org
EOQ

# stop: SIGTERM to the last policyd, which writes its stats line
stop() { kill "$PD_PID"; wait "$PD_PID"; }
# stats NAME: the queries and cache hits of policyd NAME, once stopped
stats() {
  line=$(grep 'info: stats ' "$D/$1.log" | tail -1)
  echo "queries=$(logval "$line" queries) hits=$(logval "$line" cache_hits)"
}

pd_start c "$D/rules" "127.0.0.1:$PORT"
pq c < "$D/reqs" | cut -f1 > "$D/c.out"
R="action=REJECT 5.7.1 Rejected by policy"
printf '%s\n' "$R (PTRNUL HELO_IP)" "$R (RBL PTRNUL)" "$R (RBL PTRNUL)" \
  action=DUNNO action=DUNNO "$R (RBL PTRNUL)" "$R (RBL PTRNUL)" \
  action=DUNNO > "$D/c.want"
t_eq "$(cat "$D/c.out")" "$(cat "$D/c.want")" "cache: the answers"
t_eq "$(logval "$(decision c 198.51.100.1)" dns)" "none" \
  "a rule decided by the classifier asks no list"
t_eq "$(logval "$(decision c 192.0.2.200)" dns)" "none" \
  "a client no DNS rule can match asks no list"
stop
t_eq "$(stats c)" "queries=3 hits=3" \
  "three names asked once each, a listed, an unlisted and an IPv6 one"

pd_start n "$D/rules" "127.0.0.1:$PORT" CACHE_SIZE=0
pq n < "$D/reqs" > /dev/null
stop
t_eq "$(stats n)" "queries=6 hits=0" "CACHE_SIZE=0: every time asked"

pd_start t "$D/rules" "127.0.0.1:$PORT" CACHE_MAX_TTL=1
printf '192.0.2.1 mail.example.org -\n192.0.2.7 mail.example.org -\n' |
  pq t > /dev/null
sleep 1.3
printf '192.0.2.1 mail.example.org -\n192.0.2.7 mail.example.org -\n' |
  pq t > /dev/null
stop
t_eq "$(stats t)" "queries=4 hits=0" \
  "CACHE_MAX_TTL=1: asked again after a second, listed or not"

# loopback TCP beside the unix socket; warn, ok and a negated list
TCP=$(t_port 33025)
cat > "$D/rules2" <<'EOR'
dnsbl zen zen.spamhaus.org main
HELO_IP ok
PTRNUL !zen warn no PTR, not listed
PTRNUL zen defer
EOR
pd_start both "$D/rules2" "127.0.0.1:$PORT" \
  LISTEN="unix:$D/both.sock,inet:127.0.0.1:$TCP"
t_wait_tcp "$TCP" 5
printf '192.0.2.7 mail.example.org -\n192.0.2.1 mail.example.org -\n192.0.2.7 [192.0.2.7] -\n' |
  python3 "$HERE/pq.py" "127.0.0.1:$TCP" | cut -f1 | tr '\n' '|' > "$D/tcp.out"
t_eq "$(cat "$D/tcp.out")" \
  "action=WARN no PTR, not listed|action=DEFER 4.7.1 Try again later (PTRNUL zen)|action=OK|" \
  "TCP listener; warn with text, default defer text, ok, !list"
t_eq "$(printf '192.0.2.7 mail.example.org -\n' | pq both | cut -f1)" \
  "action=WARN no PTR, not listed" "the unix socket beside it"
t_eq "$(logval "$(decision both 192.0.2.1)" action)" defer "logged action=defer"
stop

# a list that has blocked us (every answer an error code): 10 warnings,
# then only a count, logged when the minute is over or at exit
pd_start blk "$D/rules" "127.0.0.1:$PORT"
i=1
while [ $i -le 30 ]; do
  echo "198.18.0.$i mail.example.org -"; i=$((i+1))
done | pq blk | cut -f1 | sort -u > "$D/blk.out"
stop
t_eq "$(cat "$D/blk.out")" "action=DUNNO" "error codes: never a listing"
t_eq "$(grep -c 'warning: dnsbl_answer .*reason=error_code' "$D/blk.log")" 10 \
  "error codes: ten warnings"
t_eq "$(grep 'dnsbl_answer_suppressed' "$D/blk.log" | sed 's/ seconds=.*//')" \
  "policyd: warning: dnsbl_answer_suppressed count=20" \
  "error codes: the other twenty counted"
