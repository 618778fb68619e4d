#!/bin/sh
# greyd/tests/settings.t - settings that change behaviour: SUSPICIOUS
# (a list, and always), PREPEND, an inet listener, the IPv6 /64,
# IPV4_CIDR, and a real one-second DELAY without the test clock.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"
DEFER="action=DEFER_IF_PERMIT 4.7.1 Greylisted, please try again in 300 seconds"

# only PTRNUL counts: a named client with an address HELO passes
gd_start only STORE="$GD_DIR/db1" SUSPICIOUS=PTRNUL || t_fail "greyd starts"
S=$GD_DIR/only.sock
A=a@example.org B=b@example.com
t_eq "$(gd_req "$S" 203.0.113.5 mx.example.org '[203.0.113.5]' $A $B)" \
  "action=DUNNO" "SUSPICIOUS=PTRNUL: HELO_IP alone passes"
t_eq "$(gd_reason "$GD_DIR/only.log" 1)" "Pass unsuspicious client" "reason"
t_eq "$(gd_req "$S" 203.0.113.5 unknown mx.example.org $A $B)" \
  "$DEFER" "SUSPICIOUS=PTRNUL: no PTR is greylisted"
gd_stop only

# always: classic greylisting, a clean client too; PREPEND on the pass
P=$(t_port 21025)
gd_start always STORE="$GD_DIR/db2" SUSPICIOUS=always PREPEND=yes \
  LISTEN="unix:$GD_DIR/always.sock,inet:127.0.0.1:$P" ||
  t_fail "greyd starts"
gd_clock 0
tcp() {
  { printf 'request=smtpd_access_policy\nprotocol_state=RCPT\n'
    printf 'client_address=%s\nclient_name=%s\n' "$1" "$2"
    printf 'reverse_client_name=%s\nhelo_name=%s\n' "$2" "$3"
    printf 'sender=%s\nrecipient=%s\n\n' "$4" "$5"; } |
    socat -t 10 - TCP:127.0.0.1:$P | head -1
}
M=mail.example.net
t_eq "$(tcp 198.51.100.5 $M $M $A $B)" \
  "$DEFER" "SUSPICIOUS=always greylists a clean client (inet listener)"
gd_clock 312
t_eq "$(tcp 198.51.100.5 $M $M $A $B)" \
  "action=PREPEND X-Greylist: delayed 312 seconds by greyd" \
  "PREPEND on the pass after the delay"
t_eq "$(tcp 198.51.100.5 $M $M $A $B)" \
  "action=DUNNO" "no PREPEND on a cached pass"
# two recipients of one message (one instance, one connection): one header
two() {
  for r in "$@"; do
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\n'
    printf 'client_address=192.0.2.50\nclient_name=unknown\n'
    printf 'helo_name=x\nsender=%s\nrecipient=%s\n' $A "$r"
    printf 'instance=4711.abc.1\n\n'
  done | socat -t 10 - TCP:127.0.0.1:$P | grep action= | tr '\n' ' '
}
gd_clock 2000
two c@example.com d@example.com > /dev/null
gd_clock 2400
t_eq "$(two c@example.com d@example.com)" \
  "action=PREPEND X-Greylist: delayed 400 seconds by greyd action=DUNNO " \
  "one X-Greylist header per message"
# IPv6: the triplet is the /64
gd_clock 1000
t_eq "$(tcp 2001:db8:1:2::5 unknown x $A $B)" "$DEFER" "IPv6 new triplet"
gd_clock 1400
t_eq "$(tcp 2001:db8:1:2:ffff::9 unknown x $A $B)" \
  "action=PREPEND X-Greylist: delayed 400 seconds by greyd" \
  "IPv6 retry from the same /64 passes"
t_eq "$(tcp 2001:db8:1:3::5 unknown x $A $B)" "$DEFER" "another /64 is new"
t_match "$(grep 'client=2001:db8:1:2:ffff::9' "$GD_DIR/always.log")" \
  ' net=2001:db8:1:2::/64 ' \
  "IPv6 net logged as /64"
gd_stop always

# nothing of one request leaks into the next on the same connection
gd_start leak STORE="$GD_DIR/db5" || t_fail "greyd starts"
gd_clock 0
r=$( { printf 'request=smtpd_access_policy\nprotocol_state=RCPT\n'
       printf 'client_address=198.51.100.7\nclient_name=%s\n' $M
       printf 'helo_name=%s\nsender=%s\nrecipient=%s\n\n' $M $A $B
       printf 'request=smtpd_access_policy\nprotocol_state=RCPT\n'
       printf 'client_address=198.51.100.7\nsender=%s\n' $A
       printf 'recipient=%s\n\n' $B; } |
     socat -t 10 - "UNIX-CONNECT:$GD_DIR/leak.sock" | grep action= |
     tr '\n' ' ')
t_eq "$r" "action=DUNNO $DEFER " "a request without name and HELO gets none"
t_match "$(grep ' decision ' "$GD_DIR/leak.log" | sed -n 2p)" \
  ' class=PTRNUL,HELO_NOTFQDN( |$)' "the second request classified alone"
gd_stop leak

# IPV4_CIDR=32: the exact address
gd_start exact STORE="$GD_DIR/db3" IPV4_CIDR=32 || t_fail "greyd starts"
gd_clock 0
gd_req "$GD_DIR/exact.sock" 192.0.2.10 unknown x $A $B > /dev/null
gd_clock 301
t_eq "$(gd_req "$GD_DIR/exact.sock" 192.0.2.11 unknown x $A $B)" \
  "$DEFER" "IPV4_CIDR=32: the neighbour address is a new triplet"
gd_stop exact

# DELAY=1 on the real clock
rm -f "$GD_DIR/clock"
gd_start fast STORE="$GD_DIR/db4" DELAY=1 || t_fail "greyd starts"
t_eq "$(gd_req "$GD_DIR/fast.sock" 192.0.2.20 unknown x $A $B)" \
  "action=DEFER_IF_PERMIT 4.7.1 Greylisted, please try again in 1 seconds" \
  "DELAY=1: new triplet"
sleep 1.2
t_eq "$(gd_req "$GD_DIR/fast.sock" 192.0.2.20 unknown x $A $B)" \
  "action=DUNNO" "DELAY=1: passes a second later"

# RECIPIENT_DELIMITER= (empty) is none, as greyd(8) says: the extension
# stays in the triplet (it was cut at +, the default); greyd-dump's
# import alike
gd_start nodelim STORE="$GD_DIR/db6" RECIPIENT_DELIMITER= ||
  t_fail "greyd starts"
gd_req "$GD_DIR/nodelim.sock" 192.0.2.30 unknown x a+list@example.org $B \
  > /dev/null
gd_stop nodelim
t_eq "$(greyd-dump -t "$GD_DIR/db6" | cut -f3)" "a+list@example.org" \
  "RECIPIENT_DELIMITER= keeps the extension"
printf 'format=print\nHEADER=END\n %s\n %s\nDATA=END\n' \
  192.0.2.30/b+x@example.org/c@example.com 1700000000,1700000000 |
  RECIPIENT_DELIMITER= greyd-dump -p "$GD_DIR/db7" 2> /dev/null
t_eq "$(greyd-dump -t "$GD_DIR/db7" | cut -f3)" "b+x@example.org" \
  "and so does greyd-dump -p"
