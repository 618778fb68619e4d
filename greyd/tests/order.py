#!/usr/bin/env python3
# greyd/tests/order.py SOCK - one write of five requests on one
# connection: suspicious, clean, suspicious, a DATA-stage request, clean
# (the clean and the DATA ones need no store, the suspicious ones wait
# for the batch); prints the five actions in the order they came back,
# one a line.
import socket, sys, time

def req(client, name, helo, rcpt, state=b"RCPT"):
    return (b"request=smtpd_access_policy\nprotocol_state=%s\n"
            b"client_address=%s\nclient_name=%s\n"
            b"reverse_client_name=%s\nhelo_name=%s\n"
            b"sender=s@example.org\nrecipient=%s@example.com\n\n"
            % (state, client, name, name, helo, rcpt))

s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(req(b"192.0.2.10", b"unknown", b"x", b"r1")
          + req(b"198.51.100.20", b"mail.example.net", b"mail.example.net",
                b"r2")
          + req(b"192.0.2.11", b"unknown", b"x", b"r3")
          + req(b"192.0.2.12", b"unknown", b"x", b"r5", b"DATA")
          + req(b"198.51.100.21", b"mx.example.net", b"mx.example.net",
                b"r4"))
buf, deadline = b"", time.time() + 10
while buf.count(b"\n\n") < 5 and time.time() < deadline:
    d = s.recv(65536)
    if not d:
        break
    buf += d
for a in buf.split(b"\n\n")[:5]:
    print(a.decode().split(" ")[0])
