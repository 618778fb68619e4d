#!/usr/bin/env python3
"""pq.py - send Postfix policy requests to policyd and print the answers.

    pq.py SOCKET < requests
SOCKET is a unix socket path or 127.0.0.1:PORT.  Each input line is one
request: "CLIENT HELO PTR [name=value ...]" (PTR "-" means unknown).
All requests go over one connection, one after the other, as an smtpd
sends them.  Each answer is printed as "ACTION-LINE<TAB>MILLISECONDS".
"""
import socket
import sys
import time


def connect(where):
    if "/" in where:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(where)
    else:
        host, port = where.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(30)
    return s


def request(client, helo, ptr, extra):
    attrs = {
        "request": "smtpd_access_policy", "protocol_state": "RCPT",
        "protocol_name": "ESMTP", "client_address": client,
        "client_name": "unknown" if ptr == "-" else ptr,
        "reverse_client_name": "unknown" if ptr == "-" else ptr,
        "helo_name": helo, "sender": "someone@example.net",
        "recipient": "user@example.com", "instance": "1.2.3",
    }
    for kv in extra:
        k, _, v = kv.partition("=")
        attrs[k] = v
    return "".join("%s=%s\n" % kv for kv in attrs.items()) + "\n"


def main():
    s = connect(sys.argv[1])
    buf = b""
    for line in sys.stdin:
        w = line.split()
        if not w or w[0].startswith("#"):
            continue
        t0 = time.monotonic()
        s.sendall(request(w[0], w[1], w[2], w[3:]).encode())
        while b"\n\n" not in buf:
            data = s.recv(4096)
            if not data:
                print("EOF\t%.1f" % ((time.monotonic() - t0) * 1000))
                return 1
            buf += data
        reply, buf = buf.split(b"\n\n", 1)
        ms = (time.monotonic() - t0) * 1000
        print("%s\t%.1f" % (reply.decode(), ms), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
