#!/bin/sh
# Logs written by the suite's own daemons: a real greyd answers policy
# requests (its test clock makes time pass), its stderr goes through a
# real multilog that rotates every few lines (s4096), and reportd's
# greylisting section must count exactly the decisions the requests got;
# the same for a real policyd and its rules.
. "$IMGATE_TOP/tests/lib/common.sh"
command -v greyd > /dev/null || { t_skip daemons "greyd not built"; exit 0; }
command -v multilog > /dev/null || { t_skip daemons "no daemontools"; exit 0; }
T=$(t_tmpdir)
echo 1700000000 > "$T/clock"
mkdir -p "$T/log" "$T/store"
mkfifo "$T/fifo"
# the fifo is opened in the background shells, not here (it would block)
t_bg sh -c 'exec multilog t s4096 n50 "$1" < "$2"' - "$T/log/greyd" \
  "$T/fifo"; ML=$T_PID
LISTEN=unix:$T/greyd.sock SOCKET_MODE=0600 STORE=$T/store \
  GREYD_TEST_CLOCK=$T/clock t_bg sh -c 'exec greyd 2> "$1"' - "$T/fifo"
GD=$T_PID
t_wait_path "$T/greyd.sock" 10 || t_fail "greyd listens"

clock() { echo $((1700000000 + $1)) > "$T/clock.new"; mv "$T/clock.new" "$T/clock"; }
req() { # ADDR NAME HELO RCPT
  printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=%s\nclient_name=%s\nreverse_client_name=%s\nhelo_name=%s\nsender=s@example.org\nrecipient=%s\n\n' \
    "$1" "$2" "$2" "$3" "$4" |
    socat -t 10 - "UNIX-CONNECT:$T/greyd.sock" | head -1
}
sus() { req "203.0.113.$1" unknown "[203.0.113.$1]" "u$1@example.com"; }
n=0; defer=0
count() { case $1 in action=DEFER*) defer=$((defer+1)) ;; esac; n=$((n+1)); }
clock 0
for i in 1 2 3 4 5 6 7 8 9 10; do count "$(sus $i)"; done          # 10 new
clock 100
for i in 1 2 3; do count "$(sus $i)"; done                        # 3 early
clock 400
for i in 1 2 3 4 5; do count "$(sus $i)"; done                    # 5 retry
clock 500
for i in 1 2; do count "$(sus $i)"; done                          # 2 cached
for i in 1 2 3 4; do
  count "$(req 192.0.2.$i mail$i.example.net mail$i.example.net a@example.com)"
done                                                              # 4 unsuspicious
t_eq "$n/$defer" "24/13" "24 requests, 13 deferred"
t_stop "$GD"
i=0; while kill -0 "$ML" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
rotated=$(ls "$T/log/greyd" | grep -c '^@.*\.s$')
t_match "$rotated" '^[2-9]|^[1-9][0-9]' "multilog rotated the log ($rotated files)"

out=$(reportd "$T/log/greyd")
t_eq $? 0 "report of greyd's multilog directory"
want='Greylisting (greyd)
         0  Pass and auto-whitelist IP
         0  Pass new triplet from white listed IP
         0  Pass store failure
         0  Pass whitelisted client
         0  Pass whitelisted recipient
         0  Pass whitelisted sender
         2  Pass cached triplet
         3  Reject early retry
         4  Pass unsuspicious client
         5  Pass retry
        10  Reject new triplet
        24  decisions in all
     66.7%  effective rejection rate, 1 - pass retry / (reject new triplet + pass retry)'
t_eq "$(printf '%s\n' "$out" | sed -n '/^Greylisting/,/^$/p' | sed '/^$/d')" \
  "$want" "greyd's decisions counted exactly"
t_match "$out" "^ +2  203.0.113.1$" "client deferred twice"
t_match "$out" "^ +13  203.0.113.0/24$" "its network"
t_match "$out" "^ +0  lines not understood$" "every greyd line understood"
t_match "$out" "^ +$((rotated + 1))  files read$" "every rotated file read"

# policyd, with two rules that need no DNS list
command -v policyd > /dev/null || { t_skip policyd "policyd not built"; exit 0; }
printf 'PTRNUL HELO_IP reject\nPTRNUL HELO_NOTFQDN reject\n' > "$T/rules"
mkfifo "$T/pfifo"
t_bg sh -c 'exec multilog t s4096 n50 "$1" < "$2"' - "$T/log/policyd" \
  "$T/pfifo"; ML=$T_PID
LISTEN=unix:$T/pd.sock RULES=$T/rules DNS=127.0.0.1:5399 STATS_INTERVAL=0 \
  t_bg sh -c 'exec policyd 2> "$1"' - "$T/pfifo"
PD=$T_PID
t_wait_path "$T/pd.sock" 10 || t_fail "policyd listens"
{
  for i in 1 2 3; do echo "203.0.113.5 [203.0.113.5] -"; done
  for i in 1 2; do echo "203.0.113.6 foo -"; done
  for i in 1 2 3 4; do echo "192.0.2.10 mail.example.net mail.example.net"; done
} | python3 "$IMGATE_TOP/policyd/tests/pq.py" "$T/pd.sock" > "$T/pd.out"
t_eq "$(grep -c REJECT "$T/pd.out")/$(grep -c DUNNO "$T/pd.out")" 5/4 \
  "policyd rejected 5, passed 4"
t_stop "$PD"
i=0; while kill -0 "$ML" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
out=$(reportd "$T/log/policyd" "$T/log/greyd")
want='Envelope policy (policyd)
         2  reject  PTRNUL HELO_NOTFQDN
         3  reject  PTRNUL HELO_IP
         4  dunno   -
         9  decisions in all
     55.6%  rejected or deferred'
t_eq "$(printf '%s\n' "$out" | sed -n '/^Envelope/,/^$/p' | sed '/^$/d')" \
  "$want" "policyd's decisions counted exactly"
t_match "$out" "^  envelope policy +9 +5 +4$" "funnel: envelope policy"
t_match "$out" "^  greylisting +24 +13 +11$" "funnel: greylisting"
t_match "$out" "^ +4  203.0.113.5$" "client rejected by both layers"
t_match "$out" "^ +0  lines not understood$" "every line understood"
