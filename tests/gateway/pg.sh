# tests/gateway/pg.sh - a throwaway PostgreSQL on 127.0.0.1 for the
# gateway's tests (sourced after tests/lib/common.sh): run as the user
# postgres (initdb refuses root), data in a temporary directory, stopped
# by its PID at exit.
#   gw_pg_start   sets GW_PG_URI (superuser greyd, trust), GW_PG_PID
GW_PG_BIN=${GW_PG_BIN:-/usr/lib/postgresql/15/bin}

gw_pg_usable() {
  [ -x "$GW_PG_BIN/initdb" ] && [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1
}

gw_pg_stop() {
  [ -n "${GW_PG_PID:-}" ] || return 0
  kill -INT "$GW_PG_PID" 2>/dev/null        # fast shutdown
  i=0
  while kill -0 "$GW_PG_PID" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i+1))
  done
  kill -9 "$GW_PG_PID" 2>/dev/null
  GW_PG_PID=
}

gw_pg_start() {
  gw_pg_usable || return 1
  port=$(t_port 25532)
  d=$(t_tmpdir)
  chown postgres "$d"
  runuser -u postgres -- "$GW_PG_BIN/initdb" -D "$d/data" -U greyd \
    --auth=trust -E UTF8 --no-sync > "$d/initdb.log" 2>&1 ||
    { cat "$d/initdb.log" >&2; return 1; }
  runuser -u postgres -- "$GW_PG_BIN/pg_ctl" -D "$d/data" -w -t 30 \
    -l "$d/server.log" -o "-c listen_addresses=127.0.0.1 -p $port -k $d \
    -c fsync=off" start > "$d/pg_ctl.log" 2>&1 ||
    { cat "$d/pg_ctl.log" "$d/server.log" >&2; return 1; }
  GW_PG_PID=$(head -n 1 "$d/data/postmaster.pid")
  t_atexit gw_pg_stop
  GW_PG_URI="postgresql://greyd@127.0.0.1:$port/postgres"
}
