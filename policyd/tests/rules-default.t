#!/bin/sh
# policyd with the default rules of conf/policyd/rules against DNS lists
# served on loopback (rbld if built, else dnsmock.py): each rule fires
# for its case, clean and allow-listed clients pass, IPv6 clients are
# asked by nibbles, answers that never count are logged and ignored.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/policyd/tests/lib.sh"
. "$IMGATE_TOP/policyd/tests/zones.sh"

PORT=$(t_port 25353)
# shellcheck disable=SC2086
zones_start "$PORT" $ZONES || exit 1
pd_start def "$IMGATE_TOP/conf/policyd/rules" "127.0.0.1:$PORT"

# client helo ptr | the rule that must decide ("-": none, DUNNO)
cat > "$D/cases" <<'EOC'
198.51.100.1 [198.51.100.1] -                                   PTRNUL HELO_IP
198.51.100.2 dsl-198-51-100-2.dyn.example.net -                 PTRNUL HELO_ACCNET
198.51.100.3 PC01 -                                             PTRNUL HELO_NOTFQDN
198.51.100.4 198.51.100.4 dsl-198-51-100-4.dyn.example.net      PTR_ACCNET HELO_IP
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
192.0.2.99 [192.0.2.99] -                                       imgate
192.0.2.98 PC04 -                                               dnswl_org
2001:db8::25 mail.example.org -                                 RBL PTRNUL
2001:db8::26 mail.example.org -                                 -
192.0.2.60 mail.example.org -                                   -
192.0.2.61 mail.example.org -                                   -
192.0.2.62 mail.example.org -                                   -
192.0.2.63 mail.example.org -                                   -
EOC
awk '{ print $1, $2, $3 }' "$D/cases" | pq def > "$D/answers"
n=0
while read -r client helo ptr rule; do
  n=$((n+1))
  got=$(sed -n "${n}p" "$D/answers" | cut -f1)
  line=$(decision def "$client")
  case $rule in
    -|imgate|dnswl_org) want="action=DUNNO" ;;
    *) want="action=REJECT 5.7.1 Rejected by policy ($rule)" ;;
  esac
  t_eq "$got" "$want" "default rules: $client $helo $ptr answered"
  t_eq "$(logval "$line" rule)" "$rule" "default rules: $client logged rule"
done < "$D/cases"

# the log line carries what held and what listed
line=$(decision def 192.0.2.50)
t_eq "$(logval "$line" conds)" "RBL,MULTIPLE,MAIN,zen,spamcop" \
  "conds of a client on zen and spamcop"
t_eq "$(logval "$line" lists)" "zen,spamcop" "lists of that client"
t_eq "$(logval "$line" dns)" "ok" "dns=ok when every list answered"
t_match "$(logval "$line" ms)" '^[0-9]+\.[0-9]{3}$' "ms with three decimals"
line=$(decision def 198.51.100.1)
t_eq "$(logval "$line" conds)" "PTRNUL,HELO_IP" "conds of a classifier case"
t_eq "$(logval "$line" lists)" "-" "no list hit: lists=-"

# answers that never count are logged, once each
for c in "60 127.0.0.1 loopback_host" "61 127.255.255.252 error_code" \
         "62 10.0.0.2 not_loopback"; do
  set -- $c
  t_eq "$(grep -c "warning: dnsbl_answer query=$1.2.0.192.zen.spamhaus.org answer=$2 reason=$3\$" "$D/def.log")" 1 \
    "answer $2 logged as $3"
done
t_eq "$(grep -c 'dnsbl_answer.*127.0.0.20' "$D/def.log")" 0 \
  "an answer outside listed= is not an error"
t_eq "$(logval "$(decision def 192.0.2.63)" conds)" "PTRNUL" \
  "an answer outside listed= does not list"

# nothing waited for DEADLINE (answers on loopback, mostly cached)
slow=$(awk -F'\t' '$2 > 500' "$D/answers" | wc -l)
t_eq "$slow" 0 "every answer within 500 ms (DEADLINE is 2000)"
echo "# zones served by $ZONES_BY"
