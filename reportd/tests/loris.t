#!/bin/sh
# reportd/tests/loris.t - the status server under a slow-loris: 64 idle
# connections, then 64 holding half a request head, fill every slot; a
# real request is still answered within 1 s (the slot quiet longest is
# given up for it), and the half requests are closed after 2 s.
. "$IMGATE_TOP/tests/lib/common.sh"
T=$(t_tmpdir)
PORT=$(t_port 20350)
LISTEN=inet:127.0.0.1:$PORT SERVICE_DIR=$T t_bg reportd --serve \
  2> "$T/serve.log"
t_wait_tcp "$PORT" 10 || { t_fail "status server listens"; exit 1; }

# loris MODE: open 64 connections (MODE idle: send nothing; half: the
# first line of a head), then ask for /status.txt on a 65th; prints the
# reply's status line, the milliseconds it took, and what became of the
# first of the 64 and of the last one (open, or EOF) 4 s later.
# Every socket has a timeout: nothing here waits more than a few seconds.
loris() {
  python3 - "$PORT" "$1" <<'PY'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
held = []
for i in range(64):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if mode == "half":
        s.sendall(b"GET / HTTP/1.1\r\n")
    held.append(s)
time.sleep(0.5)
t = time.monotonic()
c = socket.create_connection(("127.0.0.1", port), timeout=5)
c.sendall(b"GET /status.txt HTTP/1.0\r\n\r\n")
data = b""
try:
    while True:
        r = c.recv(65536)
        if not r:
            break
        data += r
except OSError as e:
    data += b" error " + str(e).encode()
ms = int((time.monotonic() - t) * 1000)
print(data.split(b"\r\n")[0].decode())
print("fast" if ms < 1000 else "slow %d ms" % ms)
time.sleep(4)
def state(s):
    s.settimeout(0.5)
    try:
        return "EOF" if s.recv(1) == b"" else "data"
    except socket.timeout:
        return "open"
    except OSError:
        return "EOF"
print(state(held[0]), state(held[-1]))
PY
}

out=$(loris idle)
t_eq "$(echo "$out" | sed -n 1p)" "HTTP/1.0 200 OK" \
  "64 idle connections: a request is answered"
t_eq "$(echo "$out" | sed -n 2p)" fast "...within 1 s"
t_eq "$(echo "$out" | sed -n 3p)" "EOF EOF" \
  "the idle ones: one evicted, the rest closed after 2 s"
out=$(loris half)
t_eq "$(echo "$out" | sed -n 1p)" "HTTP/1.0 200 OK" \
  "64 half requests: a request is answered"
t_eq "$(echo "$out" | sed -n 2p)" fast "...within 1 s"
t_eq "$(echo "$out" | sed -n 3p)" "EOF EOF" \
  "the half requests: one evicted, the rest closed after 2 s"
t_eq "$(grep -c 'evict conns=63 evicted=1$' "$T/serve.log")" 2 \
  "each eviction logged: evict conns=63 evicted=1"
t_eq "$(grep -c 'timeout conn=[0-9]* state=partial_request bytes=16$' \
        "$T/serve.log")" 63 "the 63 other half requests timed out"
t_eq "$(grep -c 'refuse' "$T/serve.log")" 0 "nobody refused"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$PORT/status.txt")" 200 "and it still serves"
