#!/bin/sh
# greyd/tests/postgrey.t - a real postgrey database (Debian's postgrey,
# fed through its own policy socket, times set with its policy_test_time
# attribute) dumped with db_dump, imported with greyd-dump -p, and then
# greyd continues where postgrey stopped.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"
t_need_root "postgrey runs as its own user"
command -v postgrey >/dev/null && command -v db_dump >/dev/null ||
  { t_skip "postgrey import" "postgrey or db_dump missing"; exit 0; }

P=$GD_DIR/postgrey
mkdir -p "$P/db"
chown postgrey:postgrey "$P/db"
postgrey --unix="$P/sock" --dbdir="$P/db" --delay=300 --user=postgrey \
  --group=postgrey --whitelist-clients=/dev/null \
  --whitelist-recipients=/dev/null 2> "$P/log" &
PG=$!
T_PIDS="$T_PIDS $PG"
t_wait_path "$P/sock" 20 || { t_fail "postgrey starts"; cat "$P/log"; exit 1; }

T0=1700000000
preq() {
  { printf 'request=smtpd_access_policy\nprotocol_state=RCPT\n'
    printf 'client_address=%s\nclient_name=unknown\n' "$1"
    printf 'sender=%s\nrecipient=%s\n' "$2" "$3"
    printf 'policy_test_time=%s\n\n' "$4"; } |
    socat -t 10 - "UNIX-CONNECT:$P/sock" | head -1
}
preq 203.0.113.77 passed@example.org b@example.com $T0 > /dev/null
r=$(preq 203.0.113.77 passed@example.org b@example.com $((T0 + 400)))
t_match "$r" '^action=PREPEND X-Greylist' "postgrey passed a retried triplet"
preq 203.0.113.77 waiting@example.org b@example.com $((T0 + 100)) > /dev/null
i=0
for s in alpha bravo charlie delta echo; do
  t=$((T0 + i * 4000)); i=$((i+1))
  preq 198.51.100.9 $s@example.net c@example.com $t > /dev/null
  preq 198.51.100.9 $s@example.net c@example.com $((t + 301)) > /dev/null
done
t_stop "$PG"

# postgrey's writes may still be only in BerkeleyDB's transaction log:
# db_recover puts them into the database files (as an admin would)
db_recover -h "$P/db" 2> "$P/recover.err"
t_eq "$?" 0 "db_recover applies postgrey's log"
db_dump -p "$P/db/postgrey.db" > "$P/dump" 2> "$P/dump.err" &&
  db_dump "$P/db/postgrey_clients.db" >> "$P/dump" 2>> "$P/dump.err"
t_eq "$?" 0 "db_dump reads postgrey's databases"
out=$(greyd-dump -p "$GD_DIR/db" < "$P/dump" 2>&1)
t_eq "$out" "greyd-dump: imported 7 triplets, 2 clients, skipped 0" \
  "greyd-dump -p imports them"
t_eq "$(greyd-dump -t "$GD_DIR/db" | grep passed@ | cut -f2-7)" \
  "$(printf '203.0.113.0/24\tpassed@example.org\tb@example.com\t%s\t%s\t1' \
     $T0 $((T0 + 400)))" \
  "passed triplet imported as passed"
t_eq "$(greyd-dump -t "$GD_DIR/db" | grep waiting@ | cut -f7)" 0 \
  "waiting triplet imported as waiting"
t_eq "$(greyd-dump -c "$GD_DIR/db" | grep 198.51.100.9 | cut -f2,3)" \
  "$(printf '198.51.100.9\t5')" \
  "auto-whitelisted client imported with its count"

# greyd goes on from there (the test clock puts it at T0 + 1000;
# lib.sh's GD_T0 is the same T0)
gd_clock 1000
gd_start imp STORE="$GD_DIR/db" || { t_fail "greyd starts"; exit 1; }
S=$GD_DIR/imp.sock
t_eq "$(gd_req "$S" 203.0.113.77 unknown x passed@example.org b@example.com)" \
  "action=DUNNO" "imported passed triplet passes"
t_eq "$(gd_reason "$GD_DIR/imp.log" 1)" "Pass cached triplet" \
  "as a cached triplet"
t_eq "$(gd_req "$S" 203.0.113.77 unknown x waiting@example.org b@example.com)" \
  "action=DUNNO" "imported waiting triplet passes its retry"
t_eq "$(gd_reason "$GD_DIR/imp.log" 2)" "Pass retry" "as a retry"
t_eq "$(gd_req "$S" 198.51.100.9 unknown x new@example.net c@example.com)" \
  "action=DUNNO" "imported auto-whitelisted client passes"
t_eq "$(gd_reason "$GD_DIR/imp.log" 3)" \
  "Pass new triplet from white listed IP" \
  "as a whitelisted client"

# Senders of 512 bytes and more: postgrey keeps them (it cuts request
# attributes at 512 bytes; a database written by another version, or by
# hand, may hold longer), and greyd keys them by their first bytes and a
# hash of the whole.  The import must compute the very key greyd does
# live.  db_dump's default (hex) format makes the 2500-byte sender a line
# of over 5000 characters; the pair after it must still be read as a pair.
A600=$(printf '%600s' '' | tr ' ' a)@example.org
B2500=$(printf '%2500s' '' | tr ' ' b)@example.net
printf '%s\n%s\n' "203.0.113.0/$A600/r@example.com" "$T0,$((T0 + 400))" \
  "203.0.113.0/$B2500/r@example.com" "$T0,$((T0 + 400))" \
  "203.0.113.0/after@example.org/r@example.com" "$T0,$((T0 + 100))" \
  > "$P/long.txt"
db_load -T -t hash -f "$P/long.txt" "$P/long.db" &&
  db_dump "$P/long.db" > "$P/long.dump"
t_eq "$?" 0 "db_dump writes the long senders"
out=$(greyd-dump -p "$GD_DIR/long" < "$P/long.dump" 2>&1)
t_eq "$out" "greyd-dump: imported 3 triplets, 0 clients, skipped 0" \
  "greyd-dump -p imports long senders"
# The sender column greyd-dump -t lists for such a triplet.  greyd's
# form of an address of ADDR_MAX (512) bytes or more is its first 494
# bytes, \001 and a 64-bit FNV-1a hash of the whole (normalise.c's fit(),
# greyd's offset basis).  An LMDB key holds 511 bytes at most, so the
# store keys the triplet NET\0SENDER\0RCPT by its first 480 bytes, \001
# and the same hash of all of it (store_lmdb.c): the listing shows the
# net, the rest of those 480 bytes and the hash as the sender, and an
# empty recipient (it is inside the hash).
lmdb_sender() {
  python3 -c 'import sys
def fnv(b):
    h = 1469598103934665603
    for c in b: h = ((h ^ c) * 1099511628211) % 2**64
    return b"\001%016x" % h
net, s, r = (a.encode() for a in sys.argv[1:4])
s = s[:494] + fnv(s)
full = net + b"\0" + s + b"\0" + r
sys.stdout.write((full[len(net) + 1:480] + fnv(full)).decode())' "$@"
}
L=203.0.113.0/24
t_eq "$(greyd-dump -t "$GD_DIR/long" | grep '^triplet.*aaaa' | cut -f2-7)" \
  "$(printf '%s\t%s\t\t%s\t%s\t1' $L \
     "$(lmdb_sender $L "$A600" r@example.com)" $T0 $((T0 + 400)))" \
  "600-byte sender: greyd's key (cut, hash of the whole), passed"
t_eq "$(greyd-dump -t "$GD_DIR/long" | grep '^triplet.*bbbb' | cut -f2-7)" \
  "$(printf '%s\t%s\t\t%s\t%s\t1' $L \
     "$(lmdb_sender $L "$B2500" r@example.com)" $T0 $((T0 + 400)))" \
  "2500-byte sender on a 5000-byte dump line: greyd's key, passed"
t_eq "$(greyd-dump -t "$GD_DIR/long" | grep after@ | cut -f2-7)" \
  "$(printf '203.0.113.0/24\tafter@example.org\tr@example.com\t%s\t%s\t0' \
     $T0 $((T0 + 100)))" \
  "the pair after the long line imported as a pair"

# the same senders live: greyd keys them as the import did
gd_start live STORE="$GD_DIR/live" || { t_fail "greyd starts"; exit 1; }
for s in "$A600" "$B2500"; do
  gd_req "$GD_DIR/live.sock" 203.0.113.77 unknown x "$s" r@example.com \
    > /dev/null
done
gd_stop live
t_eq "$(greyd-dump -t "$GD_DIR/live" | cut -f2-4 | sort)" \
  "$(greyd-dump -t "$GD_DIR/long" | grep -v after@ | cut -f2-4 | sort)" \
  "greyd's live keys for the long senders equal the imported ones"
gd_start long STORE="$GD_DIR/long" || { t_fail "greyd starts"; exit 1; }
t_eq "$(gd_req "$GD_DIR/long.sock" 203.0.113.77 unknown x "$A600" \
        r@example.com)" "action=DUNNO" "imported long sender passes"
t_eq "$(gd_reason "$GD_DIR/long.log" 1)" "Pass cached triplet" \
  "as a cached triplet"
gd_stop long

# damaged dumps: a record whose last is before its first is skipped; a
# dump cut short (no DATA=END, or a key without its value) or with no
# database at all is exit 100, whatever came before it imported
dump_head='VERSION=3
format=print
type=btree
HEADER=END'
printf '%s\n 192.0.2.1/a@example.org/r@example.com\n 1700000400,1700000000\n 192.0.2.1/b@example.org/r@example.com\n 1700000000,1700000400\nDATA=END\n' \
  "$dump_head" > "$P/backwards"
out=$(greyd-dump -p "$GD_DIR/dmg" < "$P/backwards" 2>&1)
t_eq "$?/$out" "0/greyd-dump: imported 1 triplets, 0 clients, skipped 1" \
  "last before first: skipped, the good record imported"
printf '%s\n 192.0.2.2/c@example.org/r@example.com\n 1700000000,1700000400\n 192.0.2.2/d@example.org/r@example.com\n' \
  "$dump_head" > "$P/cut"
out=$(greyd-dump -p "$GD_DIR/dmg" < "$P/cut" 2>&1)
t_eq "$?" 100 "a cut dump: exit 100"
t_eq "$out" "greyd-dump: imported 1 triplets, 0 clients, skipped 0
greyd-dump: fatal: the dump ends inside a database (no DATA=END): it was \
cut; import the whole dump again" "a cut dump: says so"
out=$(greyd-dump -p "$GD_DIR/dmg" < /dev/null 2>&1)
t_eq "$?" 100 "no database in the input: exit 100"
