#!/bin/sh
# policyd's circuit breaker: one list's server stops answering; after
# DNS_DOWN_FAILURES timeouts in a row the zone is marked down (one log
# line), requests stop asking it and stop waiting DEADLINE for it, and a
# client listed only there is not rejected; after the back-off a single
# probe query is sent, a failed one doubles the back-off, and once the
# server answers again one line says the zone is back and its listings
# count again.  The silence is switched on and off through dnsmock.py's
# control file; the other list keeps answering throughout.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/policyd/tests/lib.sh"
. "$IMGATE_TOP/policyd/tests/zones.sh"
# spamcop's own listings for this test: one asked while healthy (then
# cached), one first asked while down, one after
printf ':127.0.0.2:Listed\n192.0.2.51\n192.0.2.52\n192.0.2.53\n' \
  > "$D/sc"

cat > "$D/rules" <<'EOR'
dnsbl zen zen.spamhaus.org main
dnsbl spamcop bl.spamcop.net
RBL PTRNUL reject
EOR
PORT=$(t_port 33353)
mock_start "$PORT" -l "$D/queries" --control "$D/control" \
  "zen.spamhaus.org:ip4set:$D/zen" "bl.spamcop.net:ip4set:$D/sc" ||
  exit 1
pd_start b "$D/rules" "127.0.0.1:$PORT" DEADLINE=1000 \
  DNS_DOWN_FAILURES=3 DNS_DOWN_WINDOW=30 DNS_DOWN_BACKOFF=3 \
  DNS_DOWN_BACKOFF_MAX=6
LOG=$D/b.log
R="action=REJECT 5.7.1 Rejected by policy (RBL PTRNUL)"

# ask CLIENT: one request, "ACTION<TAB>MS" out
ask() { printf '%s mail.example.org -\n' "$1" | pq b; }
# spamcop_queries: how many queries for bl.spamcop.net reached the server
spamcop_queries() { grep -c 'bl\.spamcop\.net$' "$D/queries"; }

t_eq "$(ask 192.0.2.51 | cut -f1)" "$R" "healthy list: its listing rejects"

# 1. spamcop goes silent: three requests time out on it (DEADLINE), and
# their queries fail for good after c-ares' retry (1.5 s)
echo "bl.spamcop.net silent" > "$D/control"
pids=""
for c in 101 102 103; do ask 192.0.2.$c > "$D/slow.$c" & pids="$pids $!"; done
for p in $pids; do wait "$p"; done
t_eq "$(cut -f1 "$D"/slow.* | sort -u)" "action=DUNNO" \
  "silent list: no reject"
t_eq "$(awk -F'\t' '$2 < 900' "$D"/slow.* | wc -l)" 0 \
  "silent list, not yet down: requests wait DEADLINE"
t_wait_log "$LOG" 'dnsbl_down' 5
t_eq "$(grep -c 'dnsbl_down' "$LOG")" 1 "one dnsbl_down line"
W="policyd: warning: dnsbl_down zone=bl.spamcop.net failures=3"
t_eq "$(grep 'dnsbl_down' "$LOG")" "$W last=timeout backoff=3" \
  "dnsbl_down line exact"

# 2. down: requests no longer ask spamcop nor wait for it; zen still
# counts; a client listed only on spamcop is not rejected, unless the
# listing was cached before (data the list gave while it answered)
before=$(spamcop_queries)
printf '%s mail.example.org -\n' 192.0.2.120 192.0.2.121 192.0.2.52 \
  192.0.2.122 192.0.2.1 192.0.2.51 | pq b > "$D/down.out"
t_eq "$(cut -f1 "$D/down.out" | paste -sd'|')" \
  "action=DUNNO|action=DUNNO|action=DUNNO|action=DUNNO|$R|$R" \
  "down: listed only on the down list is not rejected, zen still rejects"
t_eq "$(awk -F'\t' '$2 >= 500' "$D/down.out" | wc -l)" 0 \
  "down: every answer in < DEADLINE/2"
[ "$(awk -F'\t' '$2 >= 500' "$D/down.out" | wc -l)" = 0 ] ||
  sed 's/^/#   /' "$D/down.out"
t_eq "$(spamcop_queries)" "$before" "down: spamcop not asked at all"
line=$(decision b 192.0.2.52)
t_eq "$(logval "$line" action)/$(logval "$line" dns)/$(logval "$line" failed)" \
  "dunno/partial/spamcop" "down: decision names the down list as failed"
line=$(decision b 192.0.2.51)
t_eq "$(logval "$line" lists)/$(logval "$line" dns)" "spamcop/ok" \
  "down: the cached listing counts, logged as an answer"
# a reload keeps the zone down (the breaker belongs to the zone)
{ cat "$D/rules"; echo "# reloaded"; } > "$D/rules.new"
mv "$D/rules.new" "$D/rules"
t_wait_log "$LOG" 'rules_loaded' 5
printf '192.0.2.123 mail.example.org -\n' | pq b > "$D/reload.out"
t_eq "$(awk -F'\t' '$2 < 500 { print $1 }' "$D/reload.out")" "action=DUNNO" \
  "after a reload: still down, not waited for"
t_eq "$(logval "$(decision b 192.0.2.123)" failed)" "spamcop" \
  "after a reload: the down list still failed"
cat > "$D/rules2" <<'EOR'
dnsbl spamcop bl.spamcop.net
RBL PTRNUL reject
EOR
pd_start only "$D/rules2" "127.0.0.1:$PORT" DEADLINE=1000 \
  DNS_DOWN_FAILURES=1
printf '192.0.2.130 mail.example.org -\n' | pq only > /dev/null
t_wait_log "$D/only.log" 'dnsbl_down' 5
printf '192.0.2.131 mail.example.org -\n' | pq only > /dev/null
t_wait_log "$D/only.log" 'decision .*client=192.0.2.131 ' 2
t_eq "$(logval "$(decision only 192.0.2.131)" dns)" "down" \
  "only list down: dns=down"

# 3. after the back-off (3 s) one probe; the server is still silent, so
# it fails and the back-off doubles (6 s); no line for a failed probe
sleep 3
before=$(spamcop_queries)
t_eq "$(ask 192.0.2.140 | awk -F'\t' '$2 < 500 { print $1 }')" \
  "action=DUNNO" "the request that triggers the probe does not wait for it"
t_wait_log "$D/queries" '^140\.2\.0\.192\.bl\.spamcop\.net$' 2
probe_at=$(date +%s)
ask 192.0.2.141 > /dev/null
ask 192.0.2.142 > /dev/null
sleep 2        # the probe's query gives up after 1.5 s
t_eq "$(grep 'spamcop' "$D/queries" | sed "1,${before}d" |
        grep -vc '^140\.')" 0 "one probe query at a time, no other asked"
t_eq "$(grep -c 'dnsbl_' "$LOG")" 1 "failed probe: no line, still down"

# 4. the server answers again; requests keep coming every 0.3 s (at
# most 12 s); the next probe, 6 s after the failed one, brings it back
rm -f "$D/control"
i=0
while ! grep -q 'dnsbl_up' "$LOG" && [ $i -lt 40 ]; do
  ask 192.0.2.$((150 + i)) >> "$D/resume.out"; sleep 0.3; i=$((i+1))
done
up_at=$(date +%s)
line=$(grep 'dnsbl_up' "$LOG")
t_match "$line" \
  '^policyd: info: dnsbl_up zone=bl\.spamcop\.net seconds=[0-9]+$' \
  "dnsbl_up line"
t_eq "$(grep -c 'dnsbl_up' "$LOG")" 1 "one dnsbl_up line"
t_eq "$(cut -f1 "$D/resume.out" | sort -u)" "action=DUNNO" \
  "while down: nothing rejected"
wait_s=$((up_at - probe_at))
t_match "$wait_s" '^([6-9]|1[0-2])$' \
  "back after the doubled back-off (6 s) past the failed probe, not before"
# down from about 1.5 s in: back-off 3 s + probe 1.5 s + back-off 6 s
t_match "$(logval "$line" seconds)" '^(9|1[0-6])$' \
  "down for the two back-offs (seconds= 9 to 16)"
t_eq "$(ask 192.0.2.53 | cut -f1)" "$R" "back up: its listing rejects again"
t_eq "$(logval "$(decision b 192.0.2.53)" dns)" "ok" "back up: dns=ok"

# 5. a slow list: answers later than DEADLINE come too late for every
# request that asked (each waited DEADLINE), so they count as timeouts
# and the zone goes down; answers inside DEADLINE count as answers
pd_start slow "$D/rules2" "127.0.0.1:$PORT" DEADLINE=1000 \
  DNS_DOWN_FAILURES=2 DNS_DOWN_BACKOFF=60
echo "bl.spamcop.net slow:400" > "$D/control"
printf '192.0.2.51 mail.example.org -\n' | pq slow > "$D/slow400.out"
t_eq "$(cut -f1 "$D/slow400.out")" "$R" \
  "slow inside DEADLINE: the listing counts"
printf '%s mail.example.org -\n' 192.0.2.160 192.0.2.161 |
  pq slow > /dev/null
t_eq "$(grep -c 'dnsbl_down' "$D/slow.log")" 0 \
  "slow inside DEADLINE: no dnsbl_down"
echo "bl.spamcop.net slow:1200" > "$D/control"
printf '%s mail.example.org -\n' 192.0.2.170 192.0.2.171 |
  pq slow > "$D/slow1200.out"
t_eq "$(cut -f1 "$D/slow1200.out" | sort -u)" "action=DUNNO" \
  "slower than DEADLINE: answered DUNNO at DEADLINE"
t_wait_log "$D/slow.log" 'dnsbl_down' 3
t_eq "$(grep 'dnsbl_down' "$D/slow.log")" "policyd: warning: dnsbl_down \
zone=bl.spamcop.net failures=2 last=timeout backoff=60" \
  "slower than DEADLINE: the late answers trip the breaker"
printf '192.0.2.172 mail.example.org -\n' | pq slow > "$D/slowdown.out"
t_eq "$(awk -F'\t' '$2 < 500 { print $1 }' "$D/slowdown.out")" \
  "action=DUNNO" "slow list down: no longer waited for"
rm -f "$D/control"

# 6. one zone down and another silent: the request waited for the
# silent one, so its line says timeout, not down
pd_start mix "$D/rules" "127.0.0.1:$PORT" DEADLINE=1000 \
  DNS_DOWN_FAILURES=1 DNS_DOWN_BACKOFF=60
echo "bl.spamcop.net silent" > "$D/control"
printf '192.0.2.180 mail.example.org -\n' | pq mix > /dev/null
t_wait_log "$D/mix.log" 'dnsbl_down zone=bl.spamcop.net' 3
printf 'bl.spamcop.net silent\nzen.spamhaus.org silent\n' > "$D/control"
printf '192.0.2.181 mail.example.org -\n' | pq mix > /dev/null
line=$(decision mix 192.0.2.181)
t_eq "$(logval "$line" dns)/$(logval "$line" failed)" "timeout/zen,spamcop" \
  "a down zone and a silent one: dns=timeout, both failed"
rm -f "$D/control"
