#!/bin/sh
# The status page: two services under a real supervise (one steady, one
# crashing in a loop), a fake Postfix queue, disks, the latest warnings
# of a service's multilog log; over HTTP on loopback, and with basic
# authentication when bound to anything else; the page in headless
# Chromium.
. "$IMGATE_TOP/tests/lib/common.sh"
command -v supervise > /dev/null || { t_skip status "no daemontools"; exit 0; }
T=$(t_tmpdir)
S=$T/service
mkdir -p "$S/good/log/main" "$S/crashy" "$T/queue/deferred/A" \
  "$T/queue/active" "$T/queue/hold"
# a name of our own, so that processes elsewhere on the machine do not
# change the count
SLEEPER=rpt$$zz
ln -s "$(command -v sleep)" "$T/$SLEEPER"
printf '#!/bin/sh\nexec %s 300\n' "$T/$SLEEPER" > "$S/good/run"
printf '#!/bin/sh\nsleep 0.2\nexit 1\n' > "$S/crashy/run"
chmod +x "$S/good/run" "$S/crashy/run"
touch "$T/queue/deferred/A/1" "$T/queue/deferred/A/2" "$T/queue/active/3"
{
  echo '@4000000069567a8000000000 greyd: info: listen addr=x'
  echo '@4000000069567a8000000000 greyd: warning: store timeout ms=1000'
  echo '@4000000069567a8100000000 greyd: fatal: unable to open /x: No such file or directory'
  echo '@4000000069567a8200000000 greyd: info: decision action=pass'
} > "$S/good/log/main/current"
mkdir -p "$S/good/log"
printf '#!/bin/sh\nexec sleep 300\n' > "$S/good/log/run"
chmod +x "$S/good/log/run"
t_bg supervise "$S/good"; SV1=$T_PID
t_bg supervise "$S/good/log"
t_bg supervise "$S/crashy"; SV2=$T_PID
t_atexit "svc -dx '$S/good' '$S/good/log' '$S/crashy'"
sleep 1

export SERVICE_DIR=$S POSTFIX_QUEUE=$T/queue DISK_DIRS="$T /nonexistent"
export PROCS="$SLEEPER nosuchprocess"
printf '%s\n' 'Dec  4 10:00:00 mx postfix/smtpd[9]: connect from x[192.0.2.1]' \
  'Dec  4 10:00:01 mx postfix/smtpd[9]: warning: hostname x does not resolve to address 192.0.2.1' \
  > "$T/mail.log"
export MAILLOG=$T/mail.log
TZ=UTC; export TZ

out=$(reportd --status)
t_eq $? 0 "--status exits 0"
# one look: a service found running has started, not restarted
t_match "$out" "^  good +up \(pid [0-9]+\) [0-9]+ seconds +0 restarts in the last hour$" \
  "steady service up, no restart"
t_match "$out" "^  good/log +up \(pid [0-9]+\) [0-9]+ seconds +0 restarts in the last hour$" \
  "its log service too"
t_match "$out" "^ +2  deferred$" "deferred queue counted"
t_match "$out" "^ +1  active$" "active queue counted"
t_match "$out" "^ +0  hold$" "empty hold queue"
t_match "$out" "^  /nonexistent +not found$" "missing disk directory"
t_match "$out" "^  $T +[0-9]+ MiB free of +[0-9]+ MiB" "disk space"
t_match "$out" "^ +1  $SLEEPER$" "process count"
t_match "$out" "^ +0  nosuchprocess$" "process count zero"
t_match "$out" "^    2026-01-01 13:45 greyd: warning: store timeout ms=1000$" \
  "latest warning with its time"
t_match "$out" "greyd: fatal: unable to open /x" "latest fatal error"
t_match "$out" "^    Dec  4 10:00:01 mx postfix/smtpd\[9\]: warning: hostname x" \
  "Postfix's latest warning"
if printf '%s\n' "$out" | grep -q 'decision action=pass'; then
  t_fail "info lines are not errors"
else t_ok "info lines are not errors"; fi

PORT=$(t_port 20250)
LISTEN=inet:127.0.0.1:$PORT t_bg reportd --serve 2> "$T/serve.log"
SRV=$T_PID
t_wait_tcp "$PORT" 10 || t_fail "status server listens"
t_wait_log "$T/serve.log" "listen addr=inet:127.0.0.1:$PORT scope=loopback auth=none" 5 &&
  t_ok "says it listens on loopback without authentication" ||
  t_fail "says it listens on loopback without authentication" "$(cat "$T/serve.log")"
# the crash loop is noticed by the server's look every second
sleep 5
txt=$(curl -s "http://127.0.0.1:$PORT/status.txt")
t_match "$txt" "^  crashy .* restarts in the last hour  FLAPPING$" \
  "crash loop flagged as flapping"
t_match "$txt" "^  good +up .* 0 restarts in the last hour$" \
  "a service started once has no restart"
t_match "$txt" "^  good/log +up .* 0 restarts in the last hour$" \
  "steady log service: no restart"
# a real restart counts, once
p1=$(svstat "$S/good" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
svc -t "$S/good"
i=0
while [ "$(svstat "$S/good" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')" = "$p1" ] &&
      [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
sleep 2
txt=$(curl -s "http://127.0.0.1:$PORT/status.txt")
t_match "$txt" "^  good +up .* 1 restart in the last hour$" \
  "a restart is counted"
t_match "$txt" "^  good/log +up .* 0 restarts in the last hour$" \
  "its logger's count unchanged"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
t_eq "$code" 404 "unknown path 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/")
t_eq "$code" 405 "POST 405"
hdr=$(curl -sI "http://127.0.0.1:$PORT/" | tr -d '\r')
t_match "$hdr" "^Content-Type: text/html; charset=utf-8$" "HEAD of the page"
curl -s "http://127.0.0.1:$PORT/" > "$T/status.html"
t_match "$(cat "$T/status.html")" "<td class=bad>FLAPPING</td>" "HTML flags flapping"

# A query string is ignored (it made the path unknown: 404); the log
# line names the target as asked.
code=$(curl -s -o "$T/q.txt" -w '%{http_code}' \
  "http://127.0.0.1:$PORT/status.txt?x=1")
t_eq "$code" 200 "/status.txt?x=1: 200"
t_match "$(cat "$T/q.txt")" "^  good +up " "/status.txt?x=1: the text status"
hdr=$(curl -sI "http://127.0.0.1:$PORT/?refresh=1" | tr -d '\r')
t_match "$hdr" "^Content-Type: text/html; charset=utf-8$" "/?refresh=1: the page"
t_wait_log "$T/serve.log" 'path=/status.txt\?x=1 ' 5
t_eq "$(grep -c '^reportd: info: request method=GET path=/status.txt?x=1 status=200 conn=[0-9]*$' "$T/serve.log")" 1 \
  "/status.txt?x=1 logged with its query"
# A request line without target and version (400) and a head over
# 8 KiB (413) are answered and now logged as well.
raw() {
  python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
req = b"GET /\r\n\r\n" if sys.argv[2] == "bad" else b"GET /" + b"x" * 9000
try:
    s.sendall(req)
except OSError:
    pass
buf = b""
while True:
    try:
        b = s.recv(4096)
    except OSError:
        break
    if not b: break
    buf += b
print(buf.split(b"\r\n")[0].decode())
PY
}
t_eq "$(raw bad)" "HTTP/1.0 400 Bad Request" "request line without version: 400"
t_eq "$(raw big)" "HTTP/1.0 413 Request Entity Too Large" "9000-byte head: 413"
t_wait_log "$T/serve.log" 'status=413' 5
t_eq "$(grep -E 'status=(400|413) ' "$T/serve.log" | sed 's/conn=[0-9]*/conn=N/')" \
"reportd: info: request method=- path=- status=400 conn=N
reportd: info: request method=- path=- status=413 conn=N" \
  "400 and 413 logged"

# The page in headless Chromium: loads, no console error, a screenshot.
if command -v chromium > /dev/null; then
  shot=$IMGATE_TESTLOGS/reportd-status.png
  timeout 60 chromium --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --user-data-dir="$(mktemp -d)" \
    --enable-logging=stderr --window-size=1000,1200 \
    --screenshot="$shot" "http://127.0.0.1:$PORT/" > "$T/chromium.out" 2>&1
  t_eq $? 0 "chromium loads the status page"
  if grep -E 'CONSOLE|Uncaught|ERR_|Failed to load' "$T/chromium.out" |
     grep -v -e dbus -e 'chrome://' > "$T/chromium.err"; then
    t_fail "no errors in chromium" "$(head -3 "$T/chromium.err")"
  else t_ok "no errors in chromium"; fi
  t_eq "$(head -c 4 "$shot" 2>/dev/null | tail -c 3)" PNG "status screenshot taken"
  t_match "$(grep -c 'GET path=/ ' "$T/serve.log")" '^[1-9]' \
    "chromium's request reached the server"
else
  t_skip "chromium status page" "chromium not installed (package/deps)"
fi
t_stop "$SRV"

# Anything but loopback needs a password file, and says so at start.
LISTEN=inet:0.0.0.0:$PORT reportd --serve > "$T/noauth.out" 2>&1
t_eq $? 100 "public address without PASSWORD_FILE exits 100"
t_match "$(cat "$T/noauth.out")" "PASSWORD_FILE is required" \
  "says why it refuses"
# a malformed or empty LISTEN is named as such, password file or not
for l in 127.0.0.1:0 127.0.0.1:65536 unix: " , "; do
  out=$(LISTEN="$l" timeout 5 reportd --serve 2>&1)
  t_eq $? 100 "LISTEN='$l' exits 100"
  case $l in
    *,*) want="reportd: fatal: LISTEN: no address to listen on in \"$l\"" ;;
    *) want="reportd: fatal: bad listen address (want unix:/PATH or \
ADDR:PORT): $l" ;;
  esac
  t_eq "$out" "$want" "LISTEN='$l': says what is wrong"
done
printf '# users\nadmin:s3cret\n' > "$T/pw"
PORT2=$(t_port $((PORT + 1)))
LISTEN=inet:0.0.0.0:$PORT2 PASSWORD_FILE=$T/pw t_bg reportd --serve \
  2> "$T/auth.log"
t_wait_tcp "$PORT2" 10
t_match "$(cat "$T/auth.log")" "scope=network auth=basic" \
  "says it requires authentication"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT2/")
t_eq "$code" 401 "no credentials 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:wrong "http://127.0.0.1:$PORT2/")
t_eq "$code" 401 "wrong password 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:s3cret "http://127.0.0.1:$PORT2/status.txt")
t_eq "$code" 200 "right password 200"
code=$(curl -s -o /dev/null -w '%{http_code}' \
  -H "authorization:  basic $(printf admin:s3cret | base64)" \
  "http://127.0.0.1:$PORT2/status.txt")
t_eq "$code" 200 "header name and scheme in any case"
code=$(curl -s -o /dev/null -w '%{http_code}' -u '# users:' "http://127.0.0.1:$PORT2/")
t_eq "$code" 401 "comment lines are no accounts"
AUTHSRV=$T_PID
# SIGHUP reads the password file again; a broken one keeps the old
printf 'admin:n3w\n' > "$T/pw"
kill -HUP "$AUTHSRV"
t_wait_log "$T/auth.log" "reload file=$T/pw result=ok" 5 &&
  t_ok "SIGHUP reloads the password file" ||
  t_fail "SIGHUP reloads the password file" "$(cat "$T/auth.log")"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:n3w "http://127.0.0.1:$PORT2/")
t_eq "$code" 200 "new password accepted"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:s3cret "http://127.0.0.1:$PORT2/")
t_eq "$code" 401 "old password refused"
echo 'garbage' > "$T/pw"
kill -HUP "$AUTHSRV"
t_wait_log "$T/auth.log" "result=kept_old" 5 &&
  t_ok "a broken password file is not taken" ||
  t_fail "a broken password file is not taken" "$(cat "$T/auth.log")"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:n3w "http://127.0.0.1:$PORT2/")
t_eq "$code" 200 "the last good password still works"
