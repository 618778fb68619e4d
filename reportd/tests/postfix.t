#!/bin/sh
# A real Postfix on loopback writes its log (maillog_file); reportd reads
# it and must count exactly what the SMTP clients were told: accepted
# mail, unknown recipients (550 5.1.1), a temporary lookup failure
# (451 4.3.0), relay denied, per client (XCLIENT gives each session its
# own address).
. "$IMGATE_TOP/tests/lib/common.sh"
t_need_root postfix
. "$IMGATE_TOP/tests/lib/postfix.sh"
command -v swaks > /dev/null || { t_skip postfix "no swaks"; exit 0; }
T=$(t_tmpdir)
PFX_DIR=$T/pfx
PFX_PORT=$(t_port 2625)
printf 'alice@example.com OK\nbob@example.com OK\nhold@example.com OK\n' > "$T/rcpt"
PFX_RECIPIENT_MAP=cdb:$T/rcpt
# mail to hold@ stays in the hold queue, for the status page
PFX_RCPT_RESTRICTIONS="reject_unauth_destination, reject_unlisted_recipient, check_recipient_access inline:{ hold@example.com=HOLD }"
pfx_write_config
postmap -c "$PFX_DIR/etc" "cdb:$T/rcpt" || t_fail "postmap"
pfx_start || { t_fail "postfix starts"; exit 0; }

r=$(pfx_send --xclient-addr 192.0.2.1 --from s@example.net --to alice@example.com)
t_match "$r" "^250 .*queued" "mail to a known recipient accepted"
r=$(pfx_rcpt --xclient-addr 192.0.2.7 --from s@example.net --to nobody@example.com)
t_match "$r" "^550 5.1.1" "unknown recipient 550"
r=$(pfx_rcpt --xclient-addr 192.0.2.7 --from s@example.net --to noone@example.com)
t_match "$r" "^550 5.1.1" "second unknown recipient 550"
r=$(pfx_rcpt --xclient-addr 198.51.100.9 --from s@example.net --to x@example.org)
t_match "$r" "^554 5.7.1 .*Relay access denied" "relay denied"
# the recipient table behind a dead socket: a temporary failure
PFX_RECIPIENT_MAP="cdb:$T/rcpt, socketmap:unix:$T/none.sock:rcpt"
pfx_reload
sleep 1
r=$(pfx_rcpt --xclient-addr 198.51.100.8 --from s@example.net --to carol@example.com)
t_match "$r" "^451 4.3.0" "lookup failure 451"
t_wait_log "$(pfx_log)" "status=sent" 10 || t_fail "mail delivered (discarded)"
# postlogd writes a little after the client got its reply: wait for the
# four RCPT rejections before reading
i=0
while [ "$(grep -c 'reject: RCPT from' "$(pfx_log)")" -lt 4 ] && [ $i -lt 100 ]
do sleep 0.1; i=$((i+1)); done

until=@$(( $(date +%s) + 60 ))
out=$(reportd --since -1h --until "$until" "$(pfx_log)")
t_eq $? 0 "report of Postfix's own log"
section() { printf '%s\n' "$out" | sed -n "/^$1/,/^\$/p"; }
want='Recipient validation (Postfix)
         1  passed on
         1  temporary lookup failures (451 4.3.0)
         2  rejected as unknown (550 5.1.1)
         4  recipients in all
     50.0%  rejected as unknown
     25.0%  failed temporarily
  other RCPT rejections by Postfix: 1 relay access denied, 0 by policy services and other restrictions'
t_eq "$(section 'Recipient validation')" "$want" "recipient validation counts"
want='Clients rejected most (top 10)
         1  198.51.100.8
         1  198.51.100.9
         2  192.0.2.7'
t_eq "$(section 'Clients rejected')" "$want" "clients rejected"
t_match "$out" "^ +5  connected to smtpd$" "connections"
t_match "$out" "^ +1  sent a message$" "messages"
t_match "$out" "^ +0  lines not understood$" "every Postfix line understood"

# The status page counts Postfix's queues: from the directories as root,
# through postqueue -j as any other user.
r=$(pfx_send --xclient-addr 192.0.2.1 --from s@example.net --to hold@example.com)
t_match "$r" "^250 .*queued" "mail to hold@ accepted"
t_wait_log "$(pfx_log)" "hold: " 10
# cleanup is done with it when it logs its message-id: then it is held
i=0
while [ "$(grep -c 'cleanup.*: message-id=' "$(pfx_log)")" -lt 2 ] &&
      [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
sleep 1
export SERVICE_DIR=$T/none POSTFIX_QUEUE=$PFX_DIR/queue \
  POSTFIX_CONFIG=$PFX_DIR/etc DISK_DIRS=$T PROCS=master
t_match "$(reportd --status)" "^ +1  hold$" "hold queue counted (directories)"
# postqueue lets a user other than root name another instance only if
# the default main.cf lists it: give it one, in a mount namespace of its
# own so that nothing else sees it.
mkdir "$T/etcpf"
cp -a /etc/postfix/. "$T/etcpf/"
echo "alternate_config_directories = $PFX_DIR/etc" > "$T/etcpf/main.cf"
out=$(unshare -m sh -c 'mount --bind "$1" /etc/postfix &&
      exec setuidgid nobody reportd --status' - "$T/etcpf" 2>&1)
t_match "$out" "^ +1  hold$" "hold queue counted (postqueue -j, not root)"
# without it, the page says why it cannot count (postqueue's own words)
printf 'compatibility_level = 3.6\n' > "$T/etcpf/main.cf"
out=$(unshare -m sh -c 'mount --bind "$1" /etc/postfix &&
      exec setuidgid nobody reportd --status' - "$T/etcpf" 2>&1)
t_match "$out" "^  cannot read the queue: postqueue: error: unauthorized configuration directory name: $PFX_DIR/etc; postqueue: fatal: specify \"alternate_config_directories = $PFX_DIR/etc\"" \
  "an instance postqueue may not read: postqueue's reason shown"
