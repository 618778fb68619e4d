#!/bin/sh
# server.t - the daemon end to end: chroot and dropped privileges, TCP
# (rbldnsd has none), EDNS0 replies, TC over UDP, malformed packets
# (no reply, server keeps answering), version.bind, stats and pid file.
T=$(dirname "$0")
B=${IMGATE_BUILD:-build}
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-server.XXXXXX") && [ -n "$D" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
chmod 755 "$D"
mkdir "$D/root"
chmod 755 "$D/root"
cd "$D/root" || exit 1
{
  echo '$SOA 0 ns.example.net h.example.net 9 1h 1h 1w 5m'
  echo '$NS 1h ns1.example.net ns2.example.net'
  echo ':127.0.0.2:listed $'
  echo '1.2.3.4'
  i=0
  while [ $i -lt 30 ]; do echo "50.0.0.1 :$((i + 1)):long text number $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i + 1)); done
} > bl
chmod 644 bl
: > stats                       # inside the jail, writable by rbld's user
chown nobody stats
Q="python3 $T/dnsq.py"
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
cd "$D" || exit 1
$B/rbld -u nobody -r "$D/root" -w / -p "$D/pid" -s /stats -c 1 \
  -b 127.0.0.1/5395 bl.example:ip4set:bl 2> rbld.log
ok "without -n rbld goes to the background, exit 0" "[ $? = 0 ]"
sleep 0.5
P=$(cat "$D/pid" 2>/dev/null)
trap 'kill $P 2>/dev/null' EXIT
ok "pid file written" "[ -n '$P' ] && kill -0 $P"
ok "runs as nobody" "grep -q \"^Uid:.*\$(id -u nobody)\" /proc/$P/status"
ok "chrooted into -r" "[ \"\$(readlink /proc/$P/root)\" = '$D/root' ]"
ok "answers from the chroot" \
  "$Q ask 127.0.0.1:5395 4.3.2.1.bl.example A | grep -q 'A 127.0.0.2'"
ok "UDP: too big an answer sets TC" \
  "$Q ask 127.0.0.1:5395 1.0.0.50.bl.example TXT | grep -q 'tc=1'"
ok "TCP: the whole answer" \
  "[ \$($Q ask 127.0.0.1:5395 1.0.0.50.bl.example TXT +tcp | grep -c 'AN .*TXT') = 30 ]"
ok "TCP: tc clear" \
  "$Q ask 127.0.0.1:5395 1.0.0.50.bl.example TXT +tcp | grep -q 'tc=0'"
ok "EDNS query: OPT in the reply" \
  "$Q ask 127.0.0.1:5395 4.3.2.1.bl.example A +edns | grep -q '^AR OPT udp=1232 ext=0 ver=0'"
ok "EDNS 1232: 30 TXT do not fit, TC" \
  "$Q ask 127.0.0.1:5395 1.0.0.50.bl.example TXT +edns | grep -q tc=1"
ok "no EDNS: no OPT" \
  "! $Q ask 127.0.0.1:5395 4.3.2.1.bl.example A | grep -q OPT"
for e in two bad; do   # two OPT RRs; an OPT running past the packet
  $Q ask 127.0.0.1:5395 4.3.2.1.bl.example A +edns=$e > edns-$e.out
  ok "EDNS $e: FORMERR without OPT" \
    "grep -q '^rcode=1 ' edns-$e.out && ! grep -q 'OPT\|^AN' edns-$e.out"
done
ok "version.bind CH TXT" \
  "$Q ask 127.0.0.1:5395 version.bind TXT CH | grep -q 'TXT \"rbld\"'"
python3 - <<'PY' > malformed.out
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
bad = [b"", b"\x12", b"\x00" * 11, b"\x12\x34\x81\x00\x00\x01" + b"\0" * 6 + b"\0\0\1\0\1",
       b"\x12\x34\x01\x00\x00\x02" + b"\0" * 6 + b"\0\0\1\0\1",
       b"\x12\x34\x01\x00\x00\x01" + b"\0" * 6 + b"\x40" + b"a" * 64 + b"\0\0\1\0\1",
       b"\x12\x34\x01\x00\x00\x01" + b"\0" * 6 + b"\xc0\x0c\0\1\0\1",
       b"\x12\x34\x01\x00\x00\x01" + b"\0" * 6 + b"\x05abc"]
answered = 0
for p in bad:
    s.sendto(p, ("127.0.0.1", 5395))
    try:
        s.recv(4096); answered += 1
    except socket.timeout:
        pass
print("answered", answered)
PY
ok "malformed packets draw no reply" "grep -q 'answered 0' malformed.out"
ok "still answering after them" \
  "$Q ask 127.0.0.1:5395 4.3.2.1.bl.example A | grep -q 'A 127.0.0.2'"
python3 - <<'PY' > tcpbad.out
import socket
s = socket.create_connection(("127.0.0.1", 5395))
s.sendall(b"\xff\xff" + b"x" * 100)       # 65535-byte query: refused
s.settimeout(2)
try:
    print("closed" if s.recv(10) == b"" else "data")
except Exception as e:
    print("error", e)
PY
ok "TCP: oversized length closes the connection" "grep -q closed tcpbad.out"
# 300 idle TCP connections (every third with half a length prefix)
# must not lock a new TCP query out; UDP goes on; an idle connection
# is closed about 5 s after its last complete query, bytes dribbled in
# do not keep it open.  Bounded: 300 connections, 12 s at most.
python3 - "$T/dnsq.py" <<'PY' > tcpidle.out
import socket, struct, sys, time, select, importlib.util
sp = importlib.util.spec_from_file_location("dnsq", sys.argv[1])
dq = importlib.util.module_from_spec(sp); sp.loader.exec_module(dq)
srv = "127.0.0.1:5395"
def query(tcp):
    qid, pkt = dq.build("4.3.2.1.bl.example", "A")
    try:
        r = dq.send_tcp(srv, pkt) if tcp else dq.send_udp(srv, pkt, qid)
    except OSError as e:
        return "error %s" % e
    return "answered" if r and r[3] & 15 == 0 and r[7] == 1 else "no answer"
idle = []
for i in range(300):
    try:
        s = socket.create_connection(("127.0.0.1", 5395), timeout=3)
    except OSError:
        continue
    if i % 3 == 0:
        s.sendall(b"\0")
    idle.append(s)
print("held", len(idle))
print("tcp1", query(True))
print("udp", query(False))
print("tcp2", query(True))
closed = 0
for s in idle:
    r, _, _ = select.select([s], [], [], 0)
    try:
        closed += bool(r) and s.recv(1) == b""
    except OSError:
        closed += 1
print("closed", closed)
for s in idle: s.close()
t0 = time.time()
s = socket.create_connection(("127.0.0.1", 5395), timeout=3)
qid, pkt = dq.build("4.3.2.1.bl.example", "A")
s.sendall(struct.pack(">H", len(pkt)) + pkt)
s.recv(600)
end = None
while time.time() - t0 < 12:
    r, _, _ = select.select([s], [], [], 1)
    if r:
        try:
            if s.recv(1) == b"": end = time.time() - t0; break
        except OSError:
            end = time.time() - t0; break
    elif time.time() - t0 < 3.5:
        s.send(b"\0" if time.time() - t0 < 1.5 else b"")  # dribble a byte
print("idle_closed_after %d" % round(end) if end else "idle_open")
PY
ok "TCP: 300 idle connections held open" "grep -q '^held 300' tcpidle.out"
ok "TCP: a new query is answered while 300 idle ones are held" \
  "grep -q '^tcp1 answered' tcpidle.out && grep -q '^tcp2 answered' tcpidle.out"
ok "UDP answered meanwhile" "grep -q '^udp answered' tcpidle.out"
ok "TCP: the longest idle connections made room" \
  "[ \$(sed -n 's/^closed //p' tcpidle.out) -ge 236 ]"
ok "TCP: idle connection closed 5 s after its last query" \
  "grep -q '^idle_closed_after [56]$' tcpidle.out"
sleep 1.2
ok "stats file written (rbldnsd's format)" \
  "grep -q '^[0-9]* bl.example:[0-9]*:[0-9]*:[0-9]*:[0-9]*:[0-9]* \*:' root/stats"
kill $P
sleep 0.3
ok "SIGTERM: exits and logs the counters" "grep -q 'rbld: info: stats zone=bl.example queries=' rbld.log"
$B/rbld -u root -b 127.0.0.1/5396 bl.example:ip4set:bl 2> root.log
ok "refuses to run as root (exit 100)" "[ $? = 100 ] && grep -q 'refusing to run as root' root.log"
$B/rbld -b 127.0.0.1/5396 2> usage.log
ok "usage error exits 100" "[ $? = 100 ]"
$B/rbld -n -u nobody -b 127.0.0.1/5396 bl.example:ip4set:/nonexistent 2> missing.log
ok "missing data at start: exit 111, file named" \
  "[ $? = 111 ] && grep -q 'file=/nonexistent' missing.log"
