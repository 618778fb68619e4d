#!/bin/sh
# greyd/tests/conf.t - the shipped conf/greyd files and package/greyd
# settings load, and do what their comments say; bad settings exit 100.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"
C=$IMGATE_TOP/conf/greyd

gd_start conf STORE="$GD_DIR/db" WHITELIST_CLIENTS="$C/whitelist_clients" \
  WHITELIST_RECIPIENTS="$C/whitelist_recipients" \
  WHITELIST_SENDERS="$C/whitelist_senders" PATTERNS="$C/patterns" ||
  { t_fail "greyd starts with conf/greyd"; cat "$GD_DIR/conf.log"; exit 1; }
t_ok "greyd starts with conf/greyd"
S=$GD_DIR/conf.sock
gd_req "$S" 203.0.113.5 unknown x a@example.org abuse@example.com > /dev/null
t_eq "$(gd_reason "$GD_DIR/conf.log" 1)" "Pass whitelisted recipient" \
  "abuse@ is whitelisted"
gd_req "$S" 203.0.113.5 a.kabel.example.de mx.example.org a@example.org \
  b@example.com > /dev/null
t_match "$(grep ' decision ' "$GD_DIR/conf.log" | sed -n 2p)" \
  ' class=PTR_ACCNET ' "the pattern file's word applies"
kill -TERM "$GD_PID_conf"
wait "$GD_PID_conf"
t_eq "$?" 0 "SIGTERM: greyd drains and exits 0"
t_match "$(tail -1 "$GD_DIR/conf.log")" '^greyd: ' "no signal death"

# the package's env/ as the service would read it: every value valid
out=$(cd "$IMGATE_TOP/package/greyd" && env - PATH="$PATH" envdir ./env \
  env LISTEN="unix:$GD_DIR/pkg.sock" STORE="$GD_DIR/pkgdb" \
  timeout 2 greyd 2>&1)
t_match "$out" 'store state=up kind=lmdb' "package/greyd/env settings load"

for bad in DELAY=0 DELAY=2x SUSPICIOUS=PTRNUL,BOGUS IPV4_CIDR=33 \
           AWL_CLIENTS=-1 "PATTERNS=$GD_DIR/badpat"; do
  printf '/unterminated\n' > "$GD_DIR/badpat"
  env LISTEN="unix:$GD_DIR/bad.sock" STORE="$GD_DIR/db" "$bad" greyd \
    > "$GD_DIR/bad.out" 2>&1
  t_eq "$?" 100 "bad setting $bad exits 100"
done
env STORE="$GD_DIR/db" greyd > /dev/null 2>&1
t_eq "$?" 100 "no LISTEN exits 100"

# settings that started greyd and then did nothing useful: SUSPICIOUS=
# (empty: taken as unset, it meant any) and a relative STORE (made under
# the working directory, or failing there for good, "Pass store
# failure" forever); refused at start, with the reason, and no store
# made
REL="is neither an absolute directory (LMDB) nor a postgresql:// URI"
mkdir "$GD_DIR/cwd"
for e in "SUSPICIOUS=|setting SUSPICIOUS= is empty (any, always or a list \
such as PTRNUL,HELO_IP)" "STORE=db|setting STORE=db $REL" \
         "STORE=./db|setting STORE=./db $REL" \
         "STORE=mysql://db/x|setting STORE=mysql://db/x $REL"; do
  set=${e%%|*} why=${e#*|}
  out=$(cd "$GD_DIR/cwd" && env LISTEN="unix:$GD_DIR/bad.sock" \
    STORE="$GD_DIR/cwd/db9" "$set" timeout 5 greyd 2>&1; echo "rc=$?")
  t_eq "$out" "greyd: fatal: $why
rc=100" "$set: exit 100 at start"
done
t_eq "$(ls -A "$GD_DIR/cwd")" "" \
  "and no store made"
