#!/bin/sh
# greyd/tests/full.t - a store that fails (an LMDB map too small for the
# load) never blocks mail: greyd answers every request, passes what it
# cannot record ("Pass store failure"), logs the failure and reopens.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"

gd_start full STORE="$GD_DIR/db" MAPSIZE=16 ||
  { t_fail "greyd starts"; exit 1; }
out=$(greyd-load -u "$GD_DIR/full.sock" -c 8 -n 200000 -t 120)
t_match "$out" '^requests=200000 .* other=0 errors=0$' \
  "every request answered ($out)"
t_match "$(grep -c 'reason="Pass store failure"' "$GD_DIR/full.log")" \
  '^[1-9][0-9]*$' "requests passed while the store was full"
t_match "$(grep 'store state=down' "$GD_DIR/full.log" | head -1)" \
  'kind=lmdb error=".*MDB_MAP_FULL' "the failure is logged"
w=0
while [ "$(grep -c 'store state=up' "$GD_DIR/full.log")" -lt 2 ] &&
      [ $w -lt 100 ]; do
  sleep 0.1; w=$((w+1))
done
t_match "$(grep -c 'store state=up' "$GD_DIR/full.log")" \
  '^([2-9]|[1-9][0-9]+)$' "the store is reopened"
t_match "$(gd_req "$GD_DIR/full.sock" 192.0.2.99 unknown x a@example.org \
            b@example.com)" '^action=(DUNNO|DEFER_IF_PERMIT)' \
  "greyd still answers"
# a store that opens but cannot be written (the map stays full: the
# test clock stands still, nothing expires) is retried after 1, 2, 4
# seconds, not every second: the back-off starts again only after a
# commit works (it was reset at each open: "retry=1" twice a second)
i=0
while [ "$(grep -c 'store state=down' "$GD_DIR/full.log")" -lt 3 ] &&
      [ $i -lt 80 ]; do
  greyd-load -u "$GD_DIR/full.sock" -c 1 -n 200 -s $((i + 100)) -t 10 \
    > /dev/null
  sleep 0.1; i=$((i + 1))
done
t_eq "$(sed -n 's/.*store state=down.* retry=\([0-9]*\).*/\1/p' \
        "$GD_DIR/full.log" | head -3 | paste -sd' ')" "1 2 4" \
  "a store that stays full is retried after 1, 2, 4 seconds"
