#!/bin/sh
# greyd/tests/dump.t - greyd-dump finds a store or fails: listing and
# --expire never make one (a mistyped path left an empty store behind,
# exit 0), no STORE at all is a usage error, a listing only reads; the
# import (-p) makes a new store.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)

out=$(greyd-dump "$D/nx" 2>&1)
t_eq "$?" 111 "listing a missing directory exits 111"
t_eq "$out" \
  "greyd-dump: fatal: unable to open the store: \"no store $D/nx: No such file or directory\"" \
  "and says why"
t_eq "$(ls -A "$D")" "" "and makes nothing"
greyd-dump --expire "$D/nx" > /dev/null 2>&1
t_eq "$?" 111 "--expire of a missing directory exits 111"
t_eq "$(ls -A "$D")" "" "and makes nothing"

mkdir "$D/empty"
out=$(greyd-dump -t "$D/empty" 2>&1)
t_eq "$?" 111 "listing a directory without data.mdb exits 111"
t_eq "$out" \
  "greyd-dump: fatal: unable to open the store: \"no store $D/empty: data.mdb: No such file or directory\"" \
  "and says why"
out=$(STORE="$D/empty" greyd-dump --expire 2>&1)
t_eq "$?" 111 "--expire without data.mdb (STORE) exits 111"
t_eq "$(ls -A "$D/empty")" "" "neither makes data.mdb or lock.mdb"

# no STORE: a usage error (greyd's default /var/lib/greyd is not the
# package's store); a private /var/lib, so that a wrong build makes
# nothing on the machine
if [ "$(id -u)" = 0 ]; then
  out=$(cd "$D" && unshare -m sh -c 'mount -t tmpfs none /var/lib &&
    env -u STORE greyd-dump -t 2>&1; echo "rc=$?"; ls -A /var/lib')
  t_eq "$out" \
    "$(printf '%s\n%s' \
      "greyd-dump: fatal: no store: name it, or set STORE (envdir the service's env/)" \
      "rc=100")" \
    "no STORE and no argument: exit 100, /var/lib untouched"
else
  t_skip "no STORE" "needs root for a private /var/lib"
fi

# the import makes the store, and lists it
cat > "$D/dump" <<'EOF'
VERSION=3
format=print
type=btree
HEADER=END
 203.0.113.77/a@example.org/b@example.com
 1700000000,1700000400
DATA=END
VERSION=3
format=print
type=btree
HEADER=END
 198.51.100.9
 5,1700000000
DATA=END
EOF
out=$(greyd-dump -p "$D/new" < "$D/dump" 2>&1)
t_eq "$out" "greyd-dump: imported 1 triplets, 1 clients, skipped 0" \
  "-p makes a new store"
WANT=$(printf 'triplet\t203.0.113.0/24\ta@example.org\tb@example.com\t%s\n%s' \
  "1700000000	1700000400	1" \
  "client	198.51.100.9	5	1700000000	1700000000")
t_eq "$(greyd-dump "$D/new")" "$WANT" "and lists it"

# a listing only reads: it works on a read-only copy of the store
if [ "$(id -u)" = 0 ]; then
  out=$(unshare -m sh -c "mount --bind '$D/new' '$D/new' &&
    mount -o remount,bind,ro '$D/new' && greyd-dump '$D/new' 2>&1;
    echo \"rc=\$?\"")
  t_eq "$out" "$(printf '%s\nrc=0' "$WANT")" \
    "listing a store on a read-only mount"
  out=$(unshare -m sh -c "mount --bind '$D/new' '$D/new' &&
    mount -o remount,bind,ro '$D/new' && greyd-dump --expire '$D/new' 2>&1;
    echo \"rc=\$?\"")
  t_eq "$(printf '%s\n' "$out" | tail -1)" "rc=111" \
    "--expire (it writes) on a read-only mount exits 111"
else
  t_skip "read-only listing" "needs root for a read-only mount"
fi
