#!/bin/sh
# Requests policyd cannot judge, or need not: DUNNO every time, never a
# rule's answer.  No attributes, no or a bad client_address, no
# protocol_state, a request type other than smtpd_access_policy: a
# bad_request warning, not a decision.  A stage other than RCPT: a
# "skipped" line.  The connection stays open for the next request.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/policyd/tests/lib.sh"

printf 'PTRNUL HELO_IP reject\nPTRNUL HELO_NOTFQDN reject\n' > "$D/rules"
pd_start br "$D/rules" 127.0.0.1:9

# raw requests (\n escapes, the final empty line added), one connection;
# after each, a judgeable request must still get its REJECT
send() {
  python3 - "$D/br.sock" "$1" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.settimeout(10)
good = ("request=smtpd_access_policy\nprotocol_state=RCPT\n"
        "client_address=198.51.100.9\nclient_name=unknown\n"
        "reverse_client_name=unknown\nhelo_name=[198.51.100.9]\n\n")
for req in (sys.argv[2].encode().decode("unicode_escape") + "\n", good):
    s.sendall(req.encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        b = s.recv(4096)
        if not b: break
        buf += b
    print(buf.decode().split("\n")[0])
EOP
}

H='request=smtpd_access_policy\n'
C='client_name=unknown\nreverse_client_name=unknown\nhelo_name=[192.0.2.7]\n'
n=0
while IFS='|' read -r name req line; do
  n=$((n+1))
  before=$(grep -c . "$D/br.log")
  t_eq "$(send "$req" | tr '\n' ' ')" \
    "action=DUNNO action=REJECT 5.7.1 Rejected by policy (PTRNUL HELO_IP) " \
    "$name: DUNNO, and the connection serves the next request"
  got=$(sed -n "$((before+1))p" "$D/br.log")
  t_match "$got" "$line" "$name: logged as $line"
done <<EOT
empty line (no attributes)||policyd: warning: bad_request conn=[0-9]* reason=empty\$
no client_address|${H}protocol_state=RCPT\n$C|reason=no_client_address\$
empty client_address|${H}protocol_state=RCPT\nclient_address=\n$C|reason=no_client_address\$
client_address a name|${H}protocol_state=RCPT\nclient_address=mx.example\n$C|reason=bad_client_address client=mx.example\$
client_address 3 octets|${H}protocol_state=RCPT\nclient_address=192.0.2\n$C|reason=bad_client_address client=192.0.2\$
client_address octet 256|${H}protocol_state=RCPT\nclient_address=192.0.2.256\n$C|reason=bad_client_address client=192.0.2.256\$
client_address with port|${H}protocol_state=RCPT\nclient_address=192.0.2.7:25\n$C|reason=bad_client_address
client_address bad IPv6|${H}protocol_state=RCPT\nclient_address=2001:db8:::1:x\n$C|reason=bad_client_address
no protocol_state|${H}client_address=192.0.2.7\n$C|reason=no_protocol_state client=192.0.2.7\$
no request type|protocol_state=RCPT\nclient_address=192.0.2.7\n$C|reason=request_type client=192.0.2.7\$
other request type|request=junk\nprotocol_state=RCPT\nclient_address=192.0.2.7\n$C|reason=request_type
state DATA|${H}protocol_state=DATA\nclient_address=192.0.2.7\n$C|policyd: info: skipped conn=[0-9]* state=DATA client=192.0.2.7\$
state END-OF-MESSAGE|${H}protocol_state=END-OF-MESSAGE\nclient_address=192.0.2.7\n$C|info: skipped .*state=END-OF-MESSAGE client=192.0.2.7\$
state CONNECT|${H}protocol_state=CONNECT\nclient_address=192.0.2.7\n$C|info: skipped .*state=CONNECT
state MAIL|${H}protocol_state=MAIL\nclient_address=192.0.2.7\n$C|info: skipped .*state=MAIL
EOT

# none of them was a decision: only the REJECTs of the good requests
t_eq "$(grep -c 'decision' "$D/br.log")" "$n" "no decision line for any of the $n"
t_eq "$(grep -c 'decision .*client=198.51.100.9 ' "$D/br.log")" "$n" \
  "...the $n decisions are the good requests'"
# an IPv6 client is judged as usual
t_eq "$(send "${H}protocol_state=RCPT\nclient_address=2001:db8::7\nclient_name=unknown\nreverse_client_name=unknown\nhelo_name=[IPv6:2001:db8::7]\n" | sed -n 1p)" \
  "action=REJECT 5.7.1 Rejected by policy (PTRNUL HELO_IP)" "IPv6 client judged"

# A line without "=" and a request over 16 KiB close the connection with
# no answer; each is logged and counted in bad= (both were once left
# out of the count, and the long one logged nothing).  Prints the bytes
# answered, then "closed" if policyd closed the connection.
send_close() {
  python3 - "$D/br.sock" "$1" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.settimeout(10)
if sys.argv[2] == "long":
    req = ("request=smtpd_access_policy\nprotocol_state=RCPT\n"
           "client_address=192.0.2.9\nsender=" + "a" * 70000 + "\n\n")
else:
    req = "garbage\n\n"
try:
    s.sendall(req.encode())
except BrokenPipeError:
    pass
buf = b""
while True:
    try:
        b = s.recv(4096)
    except ConnectionResetError:
        b = b""
    if not b: break
    buf += b
print("%d closed" % len(buf))
EOP
}
before=$(grep -c . "$D/br.log")
t_eq "$(send_close malformed)" "0 closed" "malformed: no answer, closed"
t_wait_log "$D/br.log" 'reason=malformed' 5
t_eq "$(sed -n "$((before+1)),\$p" "$D/br.log" | sed 's/conn=[0-9]*/conn=N/')" \
  "policyd: warning: bad_request conn=N reason=malformed" "malformed: logged"
before=$(grep -c . "$D/br.log")
t_eq "$(send_close long)" "0 closed" "70 KB request: no answer, closed"
t_wait_log "$D/br.log" 'reason=too_long' 5
t_eq "$(sed -n "$((before+1)),\$p" "$D/br.log" | sed 's/conn=[0-9]*/conn=N/')" \
  "policyd: warning: bad_request conn=N reason=too_long" \
  "70 KB request: logged as too_long"
t_eq "$(grep -c 'bad_request' "$D/br.log")" 13 "13 bad_request lines"

kill "$PD_PID"
t_wait_log "$D/br.log" 'info: stats ' 5
t_match "$(grep 'info: stats' "$D/br.log")" " bad=13 skipped=4 " \
  "stats count the bad (malformed and too long too) and the skipped"
