#!/bin/sh
# policyd behind a real Postfix on loopback: XCLIENT presents each case
# of the default rules (conf/policyd/rules) and a clean client; DNS lists
# served on loopback (rbld if built, else dnsmock.py).  Then a DNS server
# that never answers: each RCPT still gets a normal answer, at most
# DEADLINE later; and DNS_FAIL_DEFER's defer as Postfix shows it.
. "$IMGATE_TOP/tests/lib/common.sh"
t_need_root "policyd behind Postfix"
. "$IMGATE_TOP/tests/lib/postfix.sh"
. "$IMGATE_TOP/policyd/tests/lib.sh"
. "$IMGATE_TOP/policyd/tests/zones.sh"

PORT=$(t_port 30353)
# shellcheck disable=SC2086
zones_start "$PORT" $ZONES || exit 1
SILENT=$(t_port 31353)
mock_start "$SILENT" --silent zen.spamhaus.org --silent bl.spamcop.net \
  --silent b.barracudacentral.org --silent wl.local \
  --silent list.dnswl.org || exit 1
pd_start pf "$IMGATE_TOP/conf/policyd/rules" "127.0.0.1:$PORT"
pd_start dead "$IMGATE_TOP/conf/policyd/rules" "127.0.0.1:$SILENT" \
  DEADLINE=1000
pd_start defer "$IMGATE_TOP/conf/policyd/rules" "127.0.0.1:$SILENT" \
  DEADLINE=500 DNS_FAIL_DEFER=yes

# rcpt ADDR NAME HELO: the reply to RCPT TO (NAME "-": no PTR)
rcpt() {
  n=$2; [ "$n" = - ] && n='[UNAVAILABLE]'
  pfx_rcpt --xclient "ADDR=$1 NAME=$n REVERSE_NAME=$n" --ehlo "$3" \
    --from bob@example.net --to alice@example.com
}
REJ="554 5.7.1 <alice@example.com>: Recipient address rejected: Rejected by policy"

# the instance inside $D, so the exit trap removes it
PFX_DIR=$D/pfx
mkdir -p "$PFX_DIR"
PFX_POLICIES="unix:$D/pf.sock"
pfx_start || { t_fail "postfix starts"; exit 1; }
while read -r client helo ptr rule; do
  case $rule in
    -) want="250 2.1.5 Ok" ;;
    *) want="$REJ ($rule)" ;;
  esac
  t_eq "$(rcpt "$client" "$ptr" "$helo")" "$want" \
    "postfix: $client $helo $ptr -> ${rule}"
done <<'EOC'
198.51.100.1 [198.51.100.1] -                                   PTRNUL HELO_IP
198.51.100.2 dsl-198-51-100-2.dyn.example.net -                 PTRNUL HELO_ACCNET
198.51.100.3 PC01 -                                             PTRNUL HELO_NOTFQDN
198.51.100.4 [198.51.100.4] dsl-198-51-100-4.dyn.example.net    PTR_ACCNET HELO_IP
198.51.100.5 PC02 dsl-198-51-100-5.dyn.example.net              PTR_ACCNET HELO_NOTFQDN
198.51.100.6 dsl-198-51-100-6.dyn.example.net dsl-198-51-100-6.dyn.example.net PTR_ACCNET HELO_ACCNET
192.0.2.1 mail.example.org -                                    RBL PTRNUL
192.0.2.2 mail.example.org dsl-192-0-2-2.dyn.example.net        RBL PTR_ACCNET
192.0.2.3 [192.0.2.3] mail.example.org                          RBL HELO_IP
192.0.2.4 dsl-192-0-2-4.dyn.example.net mail.example.org        RBL HELO_ACCNET
192.0.2.5 PC03 mail.example.org                                 RBL HELO_NOTFQDN
192.0.2.50 mx.example.org mx.example.org                        RBL MULTIPLE MAIN
192.0.2.51 mx.example.org mx.example.org                        RBL MULTIPLE
192.0.2.200 mx.example.org mx.example.org                       -
192.0.2.99 [192.0.2.99] -                                       -
EOC
t_eq "$(grep -c 'decision ' "$D/pf.log")" 15 "postfix: one log line per RCPT"
r=$(pfx_send --xclient "ADDR=192.0.2.201 NAME=mx.example.org" \
    --ehlo mx.example.org --from bob@example.net --to alice@example.com)
t_match "$r" '^250 2\.0\.0 Ok: queued' "postfix: a clean client's mail is queued"

# a DNS server that never answers
pfx_stop
PFX_POLICIES="unix:$D/dead.sock"
pfx_start || { t_fail "postfix starts again"; exit 1; }
for c in 192.0.2.1 192.0.2.202 192.0.2.203; do
  t0=$(date +%s%N)
  r=$(rcpt "$c" - mail.example.org)
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  t_eq "$r" "250 2.1.5 Ok" "dead DNS: $c gets a normal 250"
  line=$(decision dead "$c")
  t_eq "$(logval "$line" dns)" "timeout" "dead DNS: $c logged dns=timeout"
  pms=$(logval "$line" ms)
  t_eq "$(echo "$pms" | awk '$1 <= 1000 { print "within" }')" within \
    "dead DNS: policyd answered $c within DEADLINE (${pms} ms)"
  # the whole SMTP session (connect, XCLIENT, EHLO, MAIL, RCPT) took
  # only a little more than DEADLINE
  t_eq "$([ "$ms" -lt 2500 ] && echo fast)" fast \
    "dead DNS: the session for $c took $ms ms"
done
t_eq "$(grep -c -E 'problem talking to server|policy.*(timeout|error)' \
  "$(pfx_log)")" 0 "dead DNS: Postfix logged no policy trouble"

# DNS_FAIL_DEFER as Postfix shows it
pfx_stop
PFX_POLICIES="unix:$D/defer.sock"
pfx_start || { t_fail "postfix starts a third time"; exit 1; }
t_eq "$(rcpt 192.0.2.1 - mail.example.org)" \
  "450 4.7.1 <alice@example.com>: Recipient address rejected: DNS list lookup failed, try again later" \
  "DNS_FAIL_DEFER: 450 4.7.1"
# the allow-lists come first in the default rules: if they cannot be
# asked, even a bot-shaped client is deferred, not rejected
t_eq "$(rcpt 198.51.100.1 - '[198.51.100.1]')" \
  "450 4.7.1 <alice@example.com>: Recipient address rejected: DNS list lookup failed, try again later" \
  "DNS_FAIL_DEFER: an undecidable allow-list defers a bot too"
t_eq "$(logval "$(decision defer 198.51.100.1)" rule)" "imgate" \
  "DNS_FAIL_DEFER: logged with the allow-list rule"
