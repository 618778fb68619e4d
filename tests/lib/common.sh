# tests/lib/common.sh - helpers for end-to-end tests (sourced).
#
#   t_ok NAME / t_fail NAME [DETAIL]    one result line each
#   t_eq GOT WANT NAME                  exact comparison, shows both
#   t_match GOT REGEX NAME              extended regex match
#   t_skip NAME WHY
#   t_tmpdir                            a fresh directory, removed at exit,
#                                       searchable by user postfix
#   t_bg CMD...                         start in the background; its PID is
#                                       in $T_PID and it is stopped at exit
#   t_stop PID                          TERM, wait up to 5 s, then KILL
#   t_wait_path PATH [SECONDS]          until a socket/file exists
#   t_wait_tcp PORT [SECONDS]           until 127.0.0.1:PORT listens
#   t_wait_log FILE REGEX [SECONDS]     until a line matches
# Everything started here is stopped by PID from the EXIT trap.

T_PIDS=""
T_DIRS=""
T_CLEANUPS=""

t_ok()   { echo "ok - $1"; }
t_fail() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '#   %s\n' "$2"; return 0; }
t_skip() { echo "skip - $1: $2"; }

t_eq() {
  if [ "$1" = "$2" ]; then t_ok "$3"
  else echo "not ok - $3"; printf '#   want: [%s]\n#   got:  [%s]\n' "$2" "$1"; fi
}

t_match() {
  if printf '%s\n' "$1" | grep -Eq -- "$2"; then t_ok "$3"
  else echo "not ok - $3"; printf '#   want match: %s\n#   got: [%s]\n' "$2" "$1"; fi
}

# t_tmpdir is usually called as D=$(t_tmpdir), in a subshell that cannot
# register anything with this shell; so every directory it makes lives
# under one root made here, in the test's own shell, and removed at exit.
T_ROOT=$(mktemp -d /tmp/imgate-t.XXXXXX)
chmod 755 "$T_ROOT"
T_DIRS="$T_ROOT"

t_tmpdir() {
  d=$(mktemp -d "$T_ROOT/d.XXXXXX")
  chmod 755 "$d"
  echo "$d"
}

t_bg() {
  "$@" &
  T_PID=$!
  T_PIDS="$T_PIDS $T_PID"
}

t_stop() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || return 0
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

# t_atexit CMD: run CMD (a shell string) at exit, before processes stop.
t_atexit() { T_CLEANUPS="$1; $T_CLEANUPS"; }

t_cleanup() {
  eval "$T_CLEANUPS" 2>/dev/null
  for p in $T_PIDS; do t_stop "$p"; done
  [ -n "${T_KEEP:-}" ] || for d in $T_DIRS; do rm -rf "$d"; done
}
# Every signal that ends a test by the way runs the exit trap: HUP when
# the session that ran it goes, PIPE when its output was piped into head
# (untrapped, they left the directories and the daemons behind).
trap t_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 131' QUIT
trap 'exit 141' PIPE
trap 'exit 143' TERM

t_wait_path() {
  i=0; n=$(( ${2:-10} * 10 ))
  while [ ! -e "$1" ]; do
    i=$((i+1)); [ $i -le $n ] || return 1; sleep 0.1
  done
}

t_wait_tcp() {
  i=0; n=$(( ${2:-10} * 10 ))
  while ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN; do
    i=$((i+1)); [ $i -le $n ] || return 1; sleep 0.1
  done
}

t_wait_log() {
  i=0; n=$(( ${3:-10} * 10 ))
  while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
    i=$((i+1)); [ $i -le $n ] || return 1; sleep 0.1
  done
}

# A free TCP port on 127.0.0.1 (in the test's own namespace almost all are).
t_port() {
  p=${1:-20000}
  while ss -Hltn "sport = :$p" 2>/dev/null | grep -q LISTEN; do p=$((p+1)); done
  echo "$p"
}

t_need_root() {
  [ "$(id -u)" = 0 ] && return 0
  t_skip "$1" "needs root (a real Postfix)"
  exit 0
}

: "${IMGATE_BUILD:=$IMGATE_TOP/build}"

# t_own_mounts NAME "$0" "$@": run the test again in a mount namespace
# of its own (it mounts a private /etc, say), once; root only, or the
# test is skipped.  Call it right after sourcing this file.
t_own_mounts() {
  [ -n "${IMGATE_OWN_MOUNTS:-}" ] && return 0
  t_om_name=$1; shift
  [ "$(id -u)" = 0 ] || { echo "skip - $t_om_name: needs root"; exit 0; }
  # the run again makes its own T_ROOT; exec runs no EXIT trap
  rm -rf "$T_ROOT"
  IMGATE_OWN_MOUNTS=1 exec unshare -m "$@"
}
