#!/bin/sh
# What every daemon on lib/server.c does with what it finds at its unix
# socket path: a socket left by a server that stopped is taken over, a
# live one is not, and anything else (a CDB named by mistake, a
# directory, a symbolic link) is refused with exit 100 and left alone.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
cd "$D" || exit 111
W="python3 $IMGATE_TOP/acctd/tests/wire.py"
acctd-data "$IMGATE_TOP/conf/acctd/accounts.txt" acc.cdb 2>/dev/null ||
  t_fail "build the cdb"
cp acc.cdb orig.cdb
mkdir store

# run NAME PATH: NAME in the foreground listening at unix:PATH (bounded:
# a daemon that wrongly starts is stopped after 5 s, exit 124)
run() {
  case $1 in
  acctd) timeout 5 env CDB="$D/acc.cdb" SOCKETMAP="unix:$2" acctd ;;
  greyd) timeout 5 env LISTEN="unix:$2" STORE="$D/store" greyd ;;
  policyd) timeout 5 env LISTEN="unix:$2" DNS=127.0.0.1:1 \
             RULES="$IMGATE_TOP/conf/policyd/rules" policyd ;;
  reportd) timeout 5 env LISTEN="unix:$2" reportd --serve ;;
  esac
}

# refused NAME PATH KIND: run NAME at PATH; exit 100, the fatal line
refused() {
  err=$(run "$1" "$2" 2>&1 >/dev/null); rc=$?
  t_eq "$rc" 100 "$1: $3 at the socket path: exit 100"
  t_eq "$(printf '%s\n' "$err" | grep ': fatal: ')" \
    "$1: fatal: refusing to remove $3 (not a socket) to listen at unix:$2" \
    "$1: $3 at the socket path: named in the fatal line"
}

for n in acctd greyd policyd reportd; do
  cp acc.cdb "$n.cdb"
  refused "$n" "$D/$n.cdb" "a regular file"
  if cmp -s orig.cdb "$n.cdb"; then t_ok "$n: the file is left as it was"
  else t_fail "$n: the file is left as it was" "$(ls -l "$n.cdb")"; fi
done

mkdir dir
refused greyd "$D/dir" "a directory"
t_eq "$(ls -ld dir | cut -c1)" d "greyd: the directory is left as it was"
ln -s acc.cdb link
refused acctd "$D/link" "a symbolic link"
t_eq "$(readlink link)" acc.cdb "acctd: the symbolic link is left"
if cmp -s orig.cdb acc.cdb; then t_ok "acctd: the link's target is untouched"
else t_fail "acctd: the link's target is untouched" "$(ls -l acc.cdb)"; fi

# A socket nobody answers (its server was killed) is taken over; one a
# server answers is not (exit 111), and that server goes on answering.
t_bg env CDB="$D/acc.cdb" SOCKETMAP="unix:$D/sm.sock" acctd 2>> log
A=$T_PID
t_wait_path sm.sock 5 || t_fail "acctd starts"
kill -9 "$A"; wait "$A" 2>/dev/null
t_eq "$(ls -l sm.sock | cut -c1)" s "a killed acctd leaves its socket"
t_bg env CDB="$D/acc.cdb" SOCKETMAP="unix:$D/sm.sock" acctd 2>> log
A=$T_PID
t_wait_log log 'cdb file=.*' 5
t_eq "$($W "unix:$D/sm.sock" 'sm("alice@example.com")')" "5:OK OK," \
  "the stale socket is taken over: the new acctd answers"
err=$(run acctd "$D/sm.sock" 2>&1 >/dev/null); rc=$?
t_eq "$rc" 111 "a second acctd on the live socket: exit 111"
t_eq "$(printf '%s\n' "$err" | grep ': fatal: ')" \
  "acctd: fatal: unable to take over the live socket unix:$D/sm.sock: Address already in use" \
  "a second acctd on the live socket: the fatal line"
t_eq "$($W "unix:$D/sm.sock" 'sm("alice@example.com")')" "5:OK OK," \
  "the first acctd still answers"
