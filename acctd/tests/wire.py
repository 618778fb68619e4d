#!/usr/bin/env python3
"""wire.py ADDR BYTES [QUIET] - send BYTES to ADDR (unix:/path or
127.0.0.1:PORT) and print what comes back, as latin-1 text with each LF
shown as \\n, followed by "[closed]" if the server closed the connection.
BYTES is a Python expression: a bytes literal (b"get x\\n"), or
sm("a@example.com", ...) for socketmap requests "N:rcpt KEY," (str keys
are sent as UTF-8).  Stops after QUIET seconds (default 0.5) with
nothing new, and after 20 s in any case."""
import socket, sys, time

def sm(*keys):
    out = b""
    for k in keys:
        body = b"rcpt " + (k.encode() if isinstance(k, str) else k)
        out += str(len(body)).encode() + b":" + body + b","
    return out

addr = sys.argv[1]
data = eval(sys.argv[2], {"__builtins__": {}}, {"sm": sm})
quiet = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
if addr.startswith("unix:"):
    s = socket.socket(socket.AF_UNIX); s.connect(addr[5:])
else:
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host.strip("[]"), int(port)))
try:
    s.sendall(data)
except OSError:
    pass
out, closed, end = b"", False, time.time() + 20
s.settimeout(quiet)
while time.time() < end:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    except OSError:
        closed = True; break
    if not b:
        closed = True; break
    out += b
sys.stdout.write(out.decode("latin-1").replace("\n", "\\n")
                 + ("[closed]" if closed else ""))
