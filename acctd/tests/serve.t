#!/bin/sh
# acctd on its own: both protocols from one process, exact bytes on the
# wire, bad input, a missing or corrupt CDB, settings.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
cd "$D" || exit 111
W="python3 $IMGATE_TOP/acctd/tests/wire.py"
P1=$(t_port 21000); P2=$(t_port $((P1 + 1)))
SM=unix:$D/sm.sock SMI=127.0.0.1:$P1 TT=127.0.0.1:$P2

{ cat "$IMGATE_TOP/conf/acctd/accounts.txt"; printf 'josé@example.com\n'; } > acc.txt
acctd-data acc.txt acc.cdb 2>/dev/null || t_fail "build the cdb"

start() {   # start ENV... : acctd with the common settings, log in $D/log
  env CDB="$D/acc.cdb" SOCKETMAP="$SM,inet:$SMI" TCPTABLE="$TT" \
    READ_TIMEOUT=1 IDLE_TIMEOUT=4 STATS_INTERVAL=1 MAXREQUEST=512 "$@" \
    acctd 2>> "$D/log" &
  PID=$!; T_PIDS="$T_PIDS $PID"
  t_wait_path "$D/sm.sock" 5 && t_wait_tcp "$P2" 5
}
start || t_fail "acctd starts"
t_wait_log log 'acctd: info: cdb file=' 5
t_eq "$(grep ' cdb ' log)" "acctd: info: cdb file=$D/acc.cdb entries=6 case=fold" "cdb opened, entries logged"

# --- socketmap, exact replies (unix and inet from the same process)
REQS='sm("alice@example.com", "alice+tag@example.com", "nobody@example.com", "anyone@lists.example.com", "\"john doe\"@example.com", "john doe@example.com", "bob.smith@example.com", "jos\xe9@example.com")'
WANT='5:OK OK,5:OK OK,9:NOTFOUND ,5:OK OK,9:NOTFOUND ,5:OK OK,5:OK OK,5:OK OK,'
t_eq "$($W "$SM" "$REQS")" "$WANT" "socketmap unix: address, +ext, unknown, @domain, quoted, unquoted, UTF-8"
t_eq "$($W "$SMI" "$REQS")" "$WANT" "socketmap inet: the same"
t_eq "$($W "$SM" 'sm("BOB.Smith@EXAMPLE.com")')" "5:OK OK," "socketmap: mixed case found"

# --- tcp_table
t_eq "$($W "$TT" 'b"get alice@example.com\nget alice+x%2By@example.com\nget nobody@example.com\nget x@lists.example.com\nget john%20doe@example.com\nget %22john%20doe%22@example.com\nget jos%C3%A9@example.com\nget MiXeD%40@Example.COM\n"')" "200 OK\n200 OK\n500 NOTFOUND\n200 OK\n200 OK\n500 NOTFOUND\n200 OK\n500 NOTFOUND\n" "tcp_table: exact replies, %XX decoded"

# --- bad input: answered temporary or closed; the connection or the
# others go on
t_eq "$($W "$TT" 'b"get x%zz@example.com\nget alice@example.com\n"')" "400 bad_encoding\n200 OK\n" "tcp: broken %-encoding: 400, connection goes on"
t_eq "$($W "$TT" 'b"put a b\nget alice@example.com\n"')" "400 malformed_request\n200 OK\n" "tcp: unknown command: 400"
t_eq "$($W "$TT" 'b"get " + b"a" * 600' 2)" "400 request_too_long\n[closed]" "tcp: over-long request: 400 and closed"
# MAXREQUEST (512 here) bounds the whole request: a 512-byte netstring
# (507:rcpt KEY, a 502-byte key) or tcp_table line (LF counted) is
# answered, 513 bytes are refused (socketmap refused 505 bytes and up,
# though acctd(8) promised more)
t_eq "$($W "$SM" 'sm("a" * 490 + "@example.com", "alice@example.com")')" "9:NOTFOUND ,5:OK OK," "socketmap: a 512-byte request with MAXREQUEST=512 is answered"
t_eq "$($W "$SM" 'sm("a" * 491 + "@example.com")' 2)" "22:TEMP malformed_request,[closed]" "socketmap: 513 bytes with MAXREQUEST=512: TEMP and closed"
t_eq "$($W "$TT" 'b"get " + b"a" * 495 + b"@example.com\nget alice@example.com\n"')" "500 NOTFOUND\n200 OK\n" "tcp: a 512-byte line with MAXREQUEST=512 is answered"
t_eq "$($W "$TT" 'b"get " + b"a" * 496 + b"@example.com\n"' 2)" "400 request_too_long\n[closed]" "tcp: 513 bytes with MAXREQUEST=512: 400 and closed"
t_eq "$($W "$SM" 'b"10:rcpt alice@example.com,"' 2)" "22:TEMP malformed_request,[closed]" "socketmap: lying length (short): TEMP and closed"
t_eq "$($W "$SM" 'b"30:rcpt alice@example.com,22:rcpt alice@example.com,"' 2)" "22:TEMP malformed_request,[closed]" "socketmap: lying length (long): TEMP and closed"
t_eq "$($W "$SM" 'b"hello there,"' 2)" "22:TEMP malformed_request,[closed]" "socketmap: not a netstring: TEMP and closed"
t_eq "$($W "$SM" 'b"99999999:rcpt "' 2)" "22:TEMP malformed_request,[closed]" "socketmap: huge length: TEMP at once, closed"
t_eq "$($W "$SM" 'b"17:alice@example.com,22:rcpt alice@example.com,"')" "22:TEMP malformed_request,5:OK OK," "socketmap: no map name: TEMP, connection goes on"
t_eq "$($W "$SM" 'b"22:rcpt alice@example.com,22:rcpt alice"' 3)" "5:OK OK,[closed]" "socketmap: half request closed after READ_TIMEOUT"
# A client that sends and never reads: acctd stops reading once 64 KB of
# replies wait, and the half request left in its buffer was logged as
# state=partial_request (a tester's); it is a slow reader.
python3 - "$D/sm.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.setblocking(False)
req, stuck, end = b"22:rcpt alice@example.com," * 1000, 0, time.time() + 8
while time.time() < end and stuck < 20:
    try: s.send(req); stuck = 0
    except BlockingIOError: stuck += 1; time.sleep(0.1)
    except OSError: break
time.sleep(4)
PY
t_wait_log log 'timeout conn=[0-9]+ state=slow_reader' 12
t_match "$(grep ' timeout ' log | tail -1)" '^acctd: warning: timeout conn=[0-9]+ state=slow_reader bytes=[0-9]+$' "a client that never reads its replies: timeout state=slow_reader"
wait $!
t_eq "$($W "$TT" 'b"get alice@exa"' 3)" "[closed]" "tcp: half request closed after READ_TIMEOUT"

# Clients that never finish (30 of them, holding half requests) do not
# slow the others down.
python3 - "$D/sm.sock" "$P2" > slow.out <<'PY' &
import socket, sys, time
cs = []
for i in range(15):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"22:rcpt ali"); cs.append(s)
    t = socket.create_connection(("127.0.0.1", int(sys.argv[2]))); t.sendall(b"get ali"); cs.append(t)
time.sleep(3)
closed = 0
for s in cs:
    s.settimeout(0.2)
    try:
        if s.recv(100) == b"": closed += 1
    except OSError:
        closed += 1
print(closed)
PY
SLOW=$!
sleep 0.5
start_ms=$(date +%s%N)
t_eq "$($W "$SM" 'b"22:rcpt alice@example.com,"' 0.3)" "5:OK OK," "answered while 30 clients hang"
t_eq "$($W "$TT" 'b"get alice@example.com\n"' 0.3)" "200 OK\n" "tcp answered while 30 clients hang"
wait $SLOW
t_eq "$(cat slow.out)" 30 "the 30 hanging clients were closed by READ_TIMEOUT"

t_eq "$($W "$TT" 'b""' 6)" "[closed]" "idle connection closed after IDLE_TIMEOUT"

# --- logs (doc/LOGS)
t_match "$(grep 'result=notfound' log | head -1)" '^acctd: info: lookup proto=socketmap result=notfound key=nobody@example.com conn=[0-9]+$' "notfound logged with key and conn"
t_match "$(grep 'reason=quoted' log | head -1)" '^acctd: info: lookup proto=socketmap result=notfound reason=quoted key="\\"john doe\\"@example.com" conn=[0-9]+$' "quoted key logged escaped"
t_match "$(grep 'bad_request proto=tcp reason="bad' log)" '^acctd: warning: bad_request proto=tcp reason="bad %-encoding" conn=[0-9]+$' "bad %-encoding logged"
t_match "$(grep 'does not match' log | head -1)" '^acctd: warning: bad_request proto=socketmap reason="netstring length does not match its content" conn=[0-9]+$' "lying netstring logged"
t_match "$(grep 'partial_request' log | head -1)" '^acctd: warning: timeout conn=[0-9]+ state=partial_request bytes=[0-9]+$' "half request logged"
t_wait_log log 'acctd: info: stats ' 3
t_match "$(grep ' stats ' log | head -1)" '^acctd: info: stats found=[0-9]+ notfound=[0-9]+ temp=0 bad=[0-9]+ conns=[0-9]+$' "periodic stats line"
grep -q 'result=found\|lookup.*alice@example.com' log && t_fail "found lookups are not logged" || t_ok "found lookups are not logged"

# --- the CDB goes bad, goes away, comes back: no restart.  A corrupt
# or empty replacement is refused and the good copy served on.
cp acc.cdb good.cdb
head -c $(( $(stat -c %s good.cdb) - 9 )) good.cdb > bad.cdb
mv bad.cdb acc.cdb
t_wait_log log 'error="corrupt' 5
t_eq "$($W "$SM" 'b"22:rcpt alice@example.com,"')" "5:OK OK," "corrupt replacement: old copy kept (socketmap)"
t_eq "$($W "$TT" 'b"get nobody@example.com\n"')" "500 NOTFOUND\n" "corrupt replacement: old copy kept (tcp)"
t_match "$(grep 'error="corrupt' log)" "^acctd: warning: cdb file=$D/acc.cdb error=\"corrupt: hash table outside the file\" kept=6\$" "corrupt cdb logged once, old kept"
printf '+10,4:acctd:case->fold\n\n' | cdb -c empty.cdb && mv empty.cdb acc.cdb
t_wait_log log 'error="empty' 5
t_eq "$($W "$SM" 'b"22:rcpt alice@example.com,"')" "5:OK OK," "empty replacement: old copy kept"
t_match "$(grep 'error="empty' log)" "^acctd: warning: cdb file=$D/acc.cdb error=\"empty: no addresses\" kept=6\$" "empty cdb logged, old kept"
rm acc.cdb
t_wait_log log 'error="No such file' 5
t_eq "$($W "$SM" 'b"22:rcpt alice@example.com,"')" "20:TEMP cdb_unavailable," "missing cdb: TEMP"
t_match "$(grep 'result=temp' log | head -1)" '^acctd: warning: lookup proto=socketmap result=temp reason=cdb_unavailable key=alice@example.com conn=[0-9]+$' "temp lookup logged"
cp good.cdb new.cdb; mv new.cdb acc.cdb
i=0; while [ "$($W "$SM" 'b"22:rcpt alice@example.com,"')" != "5:OK OK," ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done
t_eq "$($W "$SM" 'b"22:rcpt alice@example.com,"')" "5:OK OK," "cdb back: found again without restart"
t_eq "$(grep -c ' cdb ' log)" 5 "each change logged once (open, corrupt, empty, missing, open)"

t_stop "$PID"
t_eq "$(kill -0 "$PID" 2>/dev/null; echo $?)" 1 "SIGTERM stops it"

# --- started without a CDB: TEMP until one appears
rm -f acc.cdb sm.sock
: > log
start || t_fail "acctd starts without a cdb"
t_wait_log log "error=\"No such file or directory\"" 5
t_eq "$($W "$TT" 'b"get alice@example.com\n"')" "400 cdb_unavailable\n" "no cdb at start: 400"
head -c $(( $(stat -c %s good.cdb) - 9 )) good.cdb > bad.cdb; mv bad.cdb acc.cdb
t_wait_log log 'error="corrupt' 5
t_eq "$($W "$TT" 'b"get alice@example.com\n"')" "400 cdb_corrupt\n" "corrupt cdb, none before: 400 cdb_corrupt"
t_eq "$($W "$SM" 'b"22:rcpt alice@example.com,"')" "16:TEMP cdb_corrupt," "corrupt cdb, none before: TEMP cdb_corrupt"
t_match "$(grep 'reason=cdb_corrupt' log | head -1)" '^acctd: warning: lookup proto=tcp result=temp reason=cdb_corrupt key=alice@example.com conn=[0-9]+$' "documented reason cdb_corrupt logged"
printf '+10,4:acctd:case->fold\n\n' | cdb -c empty.cdb && mv empty.cdb acc.cdb
t_wait_log log 'error="empty' 5
t_eq "$($W "$SM" 'b"22:rcpt alice@example.com,"')" "14:TEMP cdb_empty," "empty cdb, none before: TEMP cdb_empty (never NOTFOUND)"
t_match "$(grep 'reason=cdb_empty' log | head -1)" '^acctd: warning: lookup proto=socketmap result=temp reason=cdb_empty key=alice@example.com conn=[0-9]+$' "cdb_empty logged"
acctd-data acc.txt acc.cdb 2>/dev/null
i=0; while [ "$($W "$TT" 'b"get alice@example.com\n"')" != "200 OK\n" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done
t_eq "$($W "$TT" 'b"get alice@example.com\n"')" "200 OK\n" "cdb built later: found without restart"
kill "$PID"; wait "$PID"; t_eq "$?" 0 "exit 0 on SIGTERM"

# --- IPv6 loopback, and the connection limit
P3=$(t_port $((P2 + 1)))
CDB=$D/acc.cdb TCPTABLE="[::1]:$P3" SOCKETMAP=unix:$D/sm2.sock MAXCONNS=2 \
  acctd 2> log6 &
PID=$!; T_PIDS="$T_PIDS $PID"
t_wait_path sm2.sock 5
t_eq "$($W "[::1]:$P3" 'b"get alice@example.com\n"')" "200 OK\n" "TCPTABLE on [::1]"
python3 - "$D/sm2.sock" > limit.out <<'PY'
import socket, sys, time
cs = [socket.socket(socket.AF_UNIX) for i in range(3)]
for c in cs: c.connect(sys.argv[1]); time.sleep(0.1)
res = []
for c in cs:
    c.settimeout(1)
    try:
        c.sendall(b"22:rcpt alice@example.com,"); r = c.recv(100)
    except OSError: r = b""
    res.append(r.decode() or "closed")
print(" ".join(res))
PY
t_eq "$(cat limit.out)" "5:OK OK, 5:OK OK, closed" "MAXCONNS=2: the third connection is refused"
t_match "$(grep refuse log6)" '^acctd: warning: refuse reason=too_many conns=2 refused=1$' "refusal logged"
t_stop "$PID"

# --- settings
acctd 2> err; t_eq "$?:$(cat err)" "100:acctd: fatal: CDB is not set" "no CDB: exit 100"
CDB=x acctd 2> err; t_eq "$?:$(cat err)" "100:acctd: fatal: no listener: set SOCKETMAP, TCPTABLE or both" "no listener: exit 100"
CDB=x TCPTABLE=0.0.0.0:$P2 acctd 2> err; t_eq "$?:$(cat err)" "100:acctd: fatal: TCPTABLE: TCP only on loopback (127.0.0.0/8 or [::1]), the protocol has no access control: 0.0.0.0:$P2" "TCPTABLE not loopback: exit 100"
CDB=x TCPTABLE=unix:/tmp/x acctd 2> err; t_eq "$?" 100 "TCPTABLE on a unix socket: exit 100"
CDB=x TCPTABLE=$TT MAXREQUEST=10 acctd 2> err; t_eq "$?:$(cat err)" "100:acctd: fatal: setting MAXREQUEST=10 is out of range (allowed 512 to 65536)" "MAXREQUEST out of range: exit 100"
CDB=x SOCKETMAP=unix:/nonexistent/dir/s acctd 2> err; t_eq "$?" 111 "socket cannot be made: exit 111"
