#!/bin/sh
# SIGUSR1 and SIGUSR2 to every daemon on lib/server.c: ignored, never
# fatal (the default action killed acctd, greyd and policyd with exit
# 138, so one "svc -1" across the services, meant for rbld's counters,
# took them down).  Each still answers afterwards.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
cd "$D" || exit 111
W="python3 $IMGATE_TOP/acctd/tests/wire.py"
acctd-data "$IMGATE_TOP/conf/acctd/accounts.txt" acctd.cdb 2>/dev/null ||
  t_fail "build the cdb"
mkdir store

t_bg env CDB="$D/acctd.cdb" SOCKETMAP="unix:$D/acctd.sock" acctd 2> acctd.log
PID_acctd=$T_PID
t_bg env LISTEN="unix:$D/greyd.sock" STORE="$D/store" greyd 2> greyd.log
PID_greyd=$T_PID
t_bg env LISTEN="unix:$D/policyd.sock" DNS=127.0.0.1:1 \
  RULES="$IMGATE_TOP/conf/policyd/rules" policyd 2> policyd.log
PID_policyd=$T_PID
t_bg env LISTEN="unix:$D/reportd.sock" reportd --serve 2> reportd.log
PID_reportd=$T_PID

# ask NAME: what NAME says to a request it answers at once (want NAME)
ask() {
  case $1 in
  acctd) $W "unix:$D/acctd.sock" 'sm("alice@example.com")' ;;
  greyd|policyd) $W "unix:$D/$1.sock" 'b"\n"' ;;
  reportd) $W "unix:$D/reportd.sock" 'b"GET /status.txt HTTP/1.0\r\n\r\n"' |
             head -c 15 ;;
  esac
}
want() {
  case $1 in
  acctd) echo "5:OK OK," ;;
  greyd|policyd) printf '%s\n' 'action=DUNNO\n\n' ;;
  reportd) echo "HTTP/1.0 200 OK" ;;
  esac
}

for n in acctd greyd policyd reportd; do
  t_wait_path "$D/$n.sock" 5 || t_fail "$n starts" "$(cat "$n.log")"
done
for n in acctd greyd policyd reportd; do
  eval "pid=\$PID_$n"
  kill -USR1 "$pid"; sleep 0.2; kill -USR2 "$pid"; sleep 0.2
  if kill -0 "$pid" 2>/dev/null; then t_ok "$n: alive after USR1, USR2"
  else wait "$pid"; t_fail "$n: alive after USR1, USR2" "exit $?"; fi
  t_eq "$(ask "$n")" "$(want "$n")" "$n: answers after USR1, USR2"
done
