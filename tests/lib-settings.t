#!/bin/sh
# Settings holding a control character are refused (exit 100), the value
# shown escaped: an env file saved with CRLF line ends gave "setting
# READ_TIMEOUT=10 is not a time" (the value was "10\r"), and a delimiter
# "+\r" was taken without a word.  Spaces stay allowed.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
cd "$D" || exit 111
acctd-data "$IMGATE_TOP/conf/acctd/accounts.txt" acc.cdb 2>/dev/null ||
  t_fail "build the cdb"
mkdir store
CR=$(printf '\r')
WHY='holds a control character (a file saved with CRLF line ends?)'

# check NAME WANT-LINE: the command's exit code and fatal line, in $rc $err
check() {
  t_eq "$rc" 100 "$1: exit 100"
  t_eq "$(printf '%s\n' "$err" | grep ': fatal: ')" "$2" "$1: the fatal line"
}
acctd_env() { timeout 5 env CDB="$D/acc.cdb" SOCKETMAP="unix:$D/a.sock" "$@"; }

err=$(acctd_env READ_TIMEOUT="10$CR" acctd 2>&1); rc=$?
check "acctd READ_TIMEOUT=10 CR" \
  "acctd: fatal: setting READ_TIMEOUT=\"10\\x0d\" $WHY"
err=$(acctd_env DELIMITER="+$CR" acctd 2>&1); rc=$?
check "acctd DELIMITER=+ CR" "acctd: fatal: setting DELIMITER=\"+\\x0d\" $WHY"
err=$(timeout 5 env LISTEN="unix:$D/g.sock" STORE="$D/store" \
        RECIPIENT_DELIMITER="+$CR" greyd 2>&1); rc=$?
check "greyd RECIPIENT_DELIMITER=+ CR" \
  "greyd: fatal: setting RECIPIENT_DELIMITER=\"+\\x0d\" $WHY"
TAB=$(printf '\t')
err=$(timeout 5 env LISTEN="unix:$D/g.sock" STORE="$D/store" \
        GREYLIST_TEXT="Greylisted,${TAB}retry in %s s" greyd 2>&1); rc=$?
check "greyd GREYLIST_TEXT with a tab" \
  "greyd: fatal: setting GREYLIST_TEXT=\"Greylisted,\\x09retry in %s s\" $WHY"
err=$(timeout 5 env LISTEN="unix:$D/p.sock$CR" DNS=127.0.0.1:1 \
        RULES="$IMGATE_TOP/conf/policyd/rules" policyd 2>&1); rc=$?
check "policyd LISTEN ending in CR" \
  "policyd: fatal: setting LISTEN=\"unix:$D/p.sock\\x0d\" $WHY"

# the way it happens: an env/ file written with CRLF, read by envdir
if command -v envdir > /dev/null; then
  mkdir env
  printf '10\r\n' > env/READ_TIMEOUT
  err=$(acctd_env envdir env acctd 2>&1); rc=$?
  check "envdir, READ_TIMEOUT file with CRLF" \
    "acctd: fatal: setting READ_TIMEOUT=\"10\\x0d\" $WHY"
else
  t_skip "envdir, READ_TIMEOUT file with CRLF" "no daemontools"
fi

# without a control character the message is as before, range included
err=$(acctd_env READ_TIMEOUT=10x acctd 2>&1); rc=$?
check "acctd READ_TIMEOUT=10x" "acctd: fatal: setting READ_TIMEOUT=10x is not a time (number with s, m, h, d or w) (allowed 1 to 3600 seconds)"

# spaces are no control characters: greyd starts with this text
t_bg env LISTEN="unix:$D/g.sock" STORE="$D/store" \
  GREYLIST_TEXT="Greylisted, please come back in %s seconds" greyd 2> g.log
if t_wait_path g.sock 5; then t_ok "greyd GREYLIST_TEXT with spaces: starts"
else t_fail "greyd GREYLIST_TEXT with spaces: starts" "$(cat g.log)"; fi
