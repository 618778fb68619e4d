#!/usr/bin/env python3
# greyd/tests/pipeline.py SOCK N CONNS TAG [same] - write N complete policy
# requests in one send on each of CONNS connections (triplets distinct by
# TAG; with "same", the N requests of a connection are one triplet), read
# every answer; prints "answers=A defer=D other=O" summed over all.
import socket, sys, time

sock, n, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tag = sys.argv[4].encode()
same = len(sys.argv) > 5 and sys.argv[5] == "same"
deadline = time.time() + 30
ss, bufs = [], []
for k in range(conns):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sock)
    req = b"".join(
        b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
        b"client_address=192.0.2.%d\nclient_name=unknown\n"
        b"helo_name=x\nsender=s%d@example.org\n"
        b"recipient=%s.%d.%d@example.com\n\n"
        % (k % 250 + 1, 0 if same else i, tag, k, 0 if same else i)
        for i in range(n))
    s.sendall(req)
    ss.append(s)
    bufs.append(b"")
ans = defer = other = 0
for k, s in enumerate(ss):
    while bufs[k].count(b"\n\n") < n and time.time() < deadline:
        d = s.recv(65536)
        if not d:
            break
        bufs[k] += d
    for a in bufs[k].split(b"\n\n")[:-1]:
        ans += 1
        if a.startswith(b"action=DEFER_IF_PERMIT"):
            defer += 1
        else:
            other += 1
    s.close()
print("answers=%d defer=%d other=%d" % (ans, defer, other))
