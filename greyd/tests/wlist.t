#!/bin/sh
# greyd/tests/wlist.t - a client whitelist entry that could never match
# (*.example.net, 192.0.2.300, example..com, 2001:db8::/200, postgrey's
# /regex/ and partial addresses) is a bad entry: exit 100 at start, the
# old lists kept on a change, as for any malformed line.  Debian's
# postgrey whitelist_clients is refused as it is and loads after the
# README's recipe.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"
W=$GD_DIR/wl
PG="postgrey's form"
WILD="a wildcard; example.net already covers every name under it"

# greyd's words (store lines aside) and its exit code
start_with() {
  printf '%s\n' "$1" > "$W"
  env LISTEN="unix:$GD_DIR/x.sock" STORE="$GD_DIR/db" \
    WHITELIST_CLIENTS="$W" timeout 5 greyd > "$GD_DIR/x.out" 2>&1
  echo "rc=$?" >> "$GD_DIR/x.out"
  grep -v ' store state=' "$GD_DIR/x.out"
}
for e in "*.example.net|$WILD" \
         '192.0.2.300|not an address, and not a host name' \
         'example..com|not a host name (empty or long label)' \
         '2001:db8::/200|not an address or network' \
         "/^mx\\d+\\.example\\.com\$/|a regular expression ($PG); greyd \
takes addresses, networks and domains" \
         "195.235.39|a partial address ($PG); write a network, as \
192.0.2.0/24"; do
  entry=${e%%|*} why=${e#*|}
  t_eq "$(start_with "$entry")" \
    "greyd: fatal: unable to load \"$W line 1: bad entry: $why\"
rc=100" "start with '$entry': exit 100"
done

# on a change: the old list is kept, and still matches
printf '.example.com\n192.0.2.0/24\n' > "$W"
gd_start r STORE="$GD_DIR/db" WHITELIST_CLIENTS="$W" ||
  { t_fail "greyd starts with .example.com"; cat "$GD_DIR/r.log"; exit 1; }
S=$GD_DIR/r.sock
gd_req "$S" 203.0.113.9 mx.example.com x a@example.org b@example.com \
  > /dev/null
t_eq "$(gd_reason "$GD_DIR/r.log" 1)" "Pass whitelisted client" \
  ".example.com passes mx.example.com"
printf '192.0.2.0/24\n*.example.net\n' > "$W.new" && mv "$W.new" "$W"
t_wait_log "$GD_DIR/r.log" 'reload result=kept' 5
t_eq "$(grep ' reload ' "$GD_DIR/r.log")" \
  "greyd: warning: reload result=kept error=\"$W line 2: bad entry: $WILD\"" \
  "a wildcard on reload: reported, old lists kept"
gd_req "$S" 203.0.113.9 mx.example.com x a@example.org b@example.com \
  > /dev/null
t_eq "$(gd_reason "$GD_DIR/r.log" 2)" "Pass whitelisted client" \
  "the old list still matches"
gd_stop r

P=/etc/postgrey/whitelist_clients
if [ -r "$P" ] && grep -q '^/' "$P"; then
  out=$(env LISTEN="unix:$GD_DIR/p.sock" STORE="$GD_DIR/db" \
    WHITELIST_CLIENTS="$P" timeout 5 greyd 2>&1)
  t_eq "$?" 100 "Debian's postgrey whitelist_clients: exit 100"
  t_match "$out" \
    "^greyd: fatal: unable to load \"$P line [0-9]+: bad entry: a regular" \
    "naming its first /regex/ line"
  grep -v '^[[:space:]]*/' "$P" |
    sed -E 's,^([0-9]+\.[0-9]+\.[0-9]+)[[:space:]]*$,\1.0/24,' \
    > "$GD_DIR/pc"
  if gd_start pc STORE="$GD_DIR/db" WHITELIST_CLIENTS="$GD_DIR/pc"; then
    t_ok "the README's recipe makes a list greyd loads"
  else
    t_fail "the README's recipe makes a list greyd loads"
    cat "$GD_DIR/pc.log"
  fi
  gd_stop pc
else
  t_skip "postgrey's whitelist_clients" "$P missing"
fi
