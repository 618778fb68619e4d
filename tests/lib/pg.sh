# tests/lib/pg.sh - a throwaway PostgreSQL on 127.0.0.1 for a test or a
# benchmark (sourced after tests/lib/common.sh).  Runs as the user
# postgres (initdb refuses root); data in a temporary directory;
# superuser greyd, trust authentication; stopped by its PID at exit.
#   pg_usable         PostgreSQL 15 and the user postgres are there (root)
#   pg_start [PORT]   initdb and start; sets PG_URI, PG_PID, PG_DIR, PG_PORT
#   pg_stop           stop (SIGINT: fast shutdown), by PID
#   pg_run            start the same cluster again
# PG_FSYNC (off) and PG_OPTS (more server options) tune the server.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_usable() {
  [ -x "$PG_BIN/initdb" ] && [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1
}

pg_stop() {
  [ -n "${PG_PID:-}" ] || return 0
  kill -INT "$PG_PID" 2>/dev/null
  i=0
  while kill -0 "$PG_PID" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i+1))
  done
  kill -9 "$PG_PID" 2>/dev/null
  PG_PID=
}

pg_run() {
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 30 \
    -l "$PG_DIR/server.log" -o "-c listen_addresses=127.0.0.1 \
    -p $PG_PORT -k $PG_DIR -c fsync=${PG_FSYNC:-off} \
    -c max_connections=50 ${PG_OPTS:-}" start > "$PG_DIR/pg_ctl.log" 2>&1 || {
    cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2; return 1; }
  PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
}

pg_start() {
  pg_usable || return 1
  PG_PORT=${1:-$(t_port 25432)}
  PG_DIR=$(t_tmpdir); T_DIRS="$T_DIRS $PG_DIR"
  chown postgres "$PG_DIR"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U greyd \
    --auth=trust -E UTF8 --no-sync > "$PG_DIR/initdb.log" 2>&1 || {
    cat "$PG_DIR/initdb.log" >&2; return 1; }
  pg_run || return 1
  t_atexit pg_stop
  PG_URI="postgresql://greyd@127.0.0.1:$PG_PORT/postgres"
}
