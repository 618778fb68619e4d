# greyd/tests/lib.sh - helpers for greyd's end-to-end tests (sourced
# after tests/lib/common.sh).
#   gd_start NAME [VAR=value ...]  start greyd with a unix socket
#                                  $GD_DIR/NAME.sock, log $GD_DIR/NAME.log,
#                                  test clock $GD_DIR/clock; PID in GD_PID_NAME
#   gd_req SOCK ADDR NAME HELO SENDER RCPT [STATE]   the action line
#   gd_reason LOG N                the reason of the Nth decision line
#   gd_clock SECONDS               greyd's time: GD_T0 + SECONDS, frozen
[ -n "${GD_DIR:-}" ] || { GD_DIR=$(t_tmpdir); T_DIRS="$T_DIRS $GD_DIR"; }
GD_T0=1700000000
echo $GD_T0 > "$GD_DIR/clock"

gd_start() {
  gd_n=$1; shift
  rm -f "$GD_DIR/$gd_n.sock"
  env LISTEN="unix:$GD_DIR/$gd_n.sock" SOCKET_MODE=0666 \
    GREYD_TEST_CLOCK="$GD_DIR/clock" "$@" \
    greyd 2>> "$GD_DIR/$gd_n.log" &
  eval "GD_PID_$gd_n=$!"
  T_PIDS="$T_PIDS $!"
  t_wait_path "$GD_DIR/$gd_n.sock" 10 &&
    t_wait_log "$GD_DIR/$gd_n.log" 'store state=' 10
}

gd_stop() { eval "t_stop \$GD_PID_$1"; }

gd_clock() { echo $((GD_T0 + $1)) > "$GD_DIR/clock.new" &&
  mv "$GD_DIR/clock.new" "$GD_DIR/clock"; }

gd_req() {
  { printf 'request=smtpd_access_policy\nprotocol_state=%s\n' "${7:-RCPT}"
    printf 'client_address=%s\nclient_name=%s\n' "$2" "$3"
    printf 'reverse_client_name=%s\nhelo_name=%s\n' "$3" "$4"
    printf 'sender=%s\nrecipient=%s\n\n' "$5" "$6"; } |
    socat -t 10 - "UNIX-CONNECT:$1" | head -1
}

# the reason="..." of decision line N (waits for it)
gd_reason() {
  gd_i=0
  while [ "$(grep -c ' decision ' "$1" 2>/dev/null)" -lt "$2" ] &&
        [ $gd_i -lt 50 ]; do
    sleep 0.1; gd_i=$((gd_i+1))
  done
  grep ' decision ' "$1" | sed -n "${2}p" | sed 's/.* reason="\([^"]*\)".*/\1/'
}
