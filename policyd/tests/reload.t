#!/bin/sh
# policyd's rules file at start and on reload: a broken file at start is
# exit 100 with FILE:LINE; on SIGHUP or a change on disk a broken file is
# logged with its line and the old rules stay in force; a good one is
# taken.  Missing or bad settings are exit 100 too.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/policyd/tests/lib.sh"

start_err() {
  timeout 5 env -i PATH="$PATH" LISTEN="unix:$D/x.sock" RULES="$D/r" \
    DNS=127.0.0.1:53 "$@" policyd > "$D/err" 2>&1 < /dev/null
  echo $?
}

# 1. start-up: a table of broken files, each with its line
while IFS='|' read -r text line why; do
  printf "$text" > "$D/r"
  t_eq "$(start_err)" 100 "broken rules ($why): exit 100"
  t_eq "$(cat "$D/err")" \
    "policyd: fatal: bad rules file: \"$D/r:$line: $why\"" \
    "broken rules ($why): file:line in the message"
done <<'EOT'
PTRNUL HELO_IP\n|1|rule without an action
# ok\nPTRNUL reject\nPTRNUL WHAT reject\n|3|unknown condition: WHAT
RBL reject\n|1|condition needs a dnsbl declared above: RBL
dnsbl a a.test\ndnsbl a b.test\n|2|list declared twice: a
dnsbl a a.test listed=127.0.0.2/24\n|1|bad answer specification: 127.0.0.2/24
EOT
rm -f "$D/r"
t_eq "$(start_err)" 100 "missing rules file: exit 100"
printf 'PTRNUL HELO_IP reject\n' > "$D/r"
t_eq "$(start_err DNS=)" 100 "DNS unset: exit 100"
t_eq "$(cat "$D/err")" "policyd: fatal: setting missing: DNS" \
  "DNS unset: says so"
t_eq "$(start_err DNS=localhost:53)" 100 "DNS not an address: exit 100"
# c-ares alone would take port 99999 as 34463 and start
for dns in 127.0.0.1:99999 127.0.0.1:0 127.0.0.1:53x 127.0.0.256 \
           '[::1]:65536' 127.0.0.1:53,; do
  t_eq "$(start_err DNS=$dns)" 100 "DNS=$dns: exit 100"
done
t_eq "$(start_err DNS=127.0.0.1:53,127.0.0.1:99999)" 100 \
  "DNS with one bad server of two: exit 100"
t_eq "$(cat "$D/err")" "policyd: fatal: bad DNS server (want ADDR[:PORT], \
IPv6 as [ADDR]:PORT, PORT 1-65535): 127.0.0.1:99999" \
  "...and names the bad one"
t_eq "$(start_err DEADLINE=5)" 100 "DEADLINE below 50 ms: exit 100"
t_eq "$(start_err LISTEN=)" 100 "LISTEN unset: exit 100"
# the policy protocol has no authentication: inet on loopback only
for l in inet:0.0.0.0:10023 0.0.0.0:10023 inet:192.0.2.1:10023 \
         'inet:[::]:10023' 'inet:[2001:db8::1]:10023' \
         'inet:[::ffff:0.0.0.0]:10023' "unix:$D/x.sock,inet:10.0.0.1:10023"; do
  t_eq "$(start_err LISTEN="$l")" 100 "LISTEN=$l: exit 100"
done
t_eq "$(cat "$D/err")" "policyd: fatal: LISTEN: TCP only on \
loopback (127.0.0.0/8 or [::1]), the protocol has no access \
control: inet:10.0.0.1:10023" "...and says why, naming it"

# loopback TCP (IPv4 and IPv6) is accepted and answers
P4=$(t_port 24100); P6=$(t_port $((P4+1)))
t_bg env LISTEN="inet:127.0.0.2:$P4,inet:[::1]:$P6" RULES="$D/r" \
  DNS=127.0.0.1:9 STATS_INTERVAL=0 policyd 2> "$D/tcp.log"
TCP_PID=$T_PID
t_wait_tcp "$P6" 5
ask_tcp() {
  printf '198.51.100.1 [198.51.100.1] -\n' |
    python3 "$HERE/pq.py" "$1" | cut -f1
}
t_eq "$(ask_tcp "127.0.0.2:$P4")" \
  "action=REJECT 5.7.1 Rejected by policy (PTRNUL HELO_IP)" \
  "LISTEN on 127.0.0.2: answers"
t_eq "$(ask_tcp "::1:$P6")" \
  "action=REJECT 5.7.1 Rejected by policy (PTRNUL HELO_IP)" \
  "LISTEN on [::1]: answers"
kill "$TCP_PID"

# 2. reloads
cat > "$D/rules" <<'EOR'
PTRNUL HELO_IP reject old rules
EOR
pd_start rl "$D/rules" 127.0.0.1:9
ask() { printf '198.51.100.1 [198.51.100.1] -\n' | pq rl | cut -f1; }
t_eq "$(ask)" "action=REJECT old rules" "first rules in force"

printf 'PTRNUL HELO_IP reject new rules\nHELO_IP BROKEN reject\n' > "$D/rules.new"
mv "$D/rules.new" "$D/rules"
kill -HUP "$PD_PID"
t_wait_log "$D/rl.log" 'warning: rules .*line=2 ' 5
t_match "$(grep 'warning: rules' "$D/rl.log" | head -1)" \
  "warning: rules file=$D/rules line=2 error=\"unknown condition: BROKEN\" kept=old" \
  "SIGHUP with a broken file: logged with its line"
t_eq "$(ask)" "action=REJECT old rules" "...and the old rules stay"
sleep 1.2   # the change check must not load it either
t_eq "$(ask)" "action=REJECT old rules" "...also after the change check"
kill -0 "$PD_PID" 2>/dev/null && t_ok "...and policyd runs on" ||
  t_fail "...and policyd runs on"

printf 'PTRNUL HELO_IP reject new rules\n' > "$D/rules.new"
mv "$D/rules.new" "$D/rules"
kill -HUP "$PD_PID"
t_wait_log "$D/rl.log" 'info: rules_loaded' 5
t_eq "$(ask)" "action=REJECT new rules" "SIGHUP with a good file: taken"

# a change on disk without a signal is noticed within about a second
printf 'PTRNUL HELO_IP defer 4.7.1 changed rules\n' > "$D/rules.new"
mv "$D/rules.new" "$D/rules"
t_wait_log "$D/rl.log" 'rules_loaded.*' 5
i=0
while [ "$(ask)" != "action=DEFER 4.7.1 changed rules" ] && [ $i -lt 30 ]; do
  sleep 0.1; i=$((i+1))
done
t_eq "$(ask)" "action=DEFER 4.7.1 changed rules" "changed file taken unasked"
t_eq "$(grep -c rules_loaded "$D/rl.log")" 2 "two loads logged"

# SIGTERM: exit 0 after the stats line
kill "$PD_PID"
i=0
while kill -0 "$PD_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
wait "$PD_PID"
t_eq "$?" 0 "SIGTERM: exit 0"
t_match "$(tail -1 "$D/rl.log")" '^policyd: info: stats requests=[0-9]+ rejects=' \
  "SIGTERM: a last stats line"
