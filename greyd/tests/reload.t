#!/bin/sh
# greyd/tests/reload.t - a list file that is missing is said once, when
# it goes: a reload for another file's change, or on SIGHUP, does not
# repeat the warning; it comes again only when the file, back meanwhile,
# goes once more.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"

W=$GD_DIR/wl
mkdir -p "$W"
printf 'example.edu\n' > "$W/senders"
MISS='reload file=[^ ]*/wl/clients error="missing, taken as empty"'
misses() { grep -c -- "$MISS" "$GD_DIR/r.log"; }
oks() { grep -c 'reload result=ok' "$GD_DIR/r.log"; }
# until reload line number N is written (5 s at most)
wait_oks() {
  i=0
  while [ "$(oks)" -lt "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
}
# replace FILE by TEXT (a new inode: seen on the next tick), wait for
# reload number N
change() { printf '%s\n' "$2" > "$1.new" && mv "$1.new" "$1"; wait_oks "$3"; }

gd_start r STORE="$GD_DIR/db" WHITELIST_CLIENTS="$W/clients" \
  WHITELIST_SENDERS="$W/senders" ||
  { t_fail "greyd starts"; cat "$GD_DIR/r.log"; exit 1; }
t_eq "$(misses)" 1 "missing at start: said once"

change "$W/senders" 'example.edu
example.net' 1
t_eq "$(oks)" 1 "senders changed: reloaded"
change "$W/senders" 'example.org' 2
t_eq "$(oks)" 2 "senders changed again: reloaded"
t_eq "$(misses)" 1 "reloads for another file: missing not said again"

kill -HUP "$GD_PID_r"
wait_oks 3
t_eq "$(oks)" 3 "SIGHUP: reloaded"
t_eq "$(misses)" 1 "SIGHUP: missing not said again"

change "$W/clients" '192.0.2.7' 4
t_eq "$(oks)" 4 "clients created: reloaded"
t_eq "$(misses)" 1 "clients back: nothing said of it"
rm "$W/clients"
wait_oks 5
t_eq "$(misses)" 2 "clients gone again: said once more"
change "$W/senders" 'example.com' 6
t_eq "$(oks)" 6 "senders changed: reloaded"
t_eq "$(misses)" 2 "and missing not said a third time"
t_eq "$(grep -c ' warning: ' "$GD_DIR/r.log")" 2 "no other warning"
