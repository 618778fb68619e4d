#!/bin/sh
# fuzz.t - builds the libFuzzer harness (clang, ASan, UBSan), replays the
# kept corpus and regression inputs, then fuzzes for a bounded time
# (RBLD_FUZZ_SECONDS, default 20; bench/rbld runs 60).
TOP=${IMGATE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
SECS=${RBLD_FUZZ_SECONDS:-20}
command -v clang >/dev/null || { echo "skip - fuzz: no clang"; exit 0; }
W=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-fuzz.XXXXXX") && [ -n "$W" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
SRC="rbld/fuzz/fuzz_reply.c rbld/util.c rbld/load.c rbld/sort.c rbld/ptab.c
  rbld/reply.c rbld/zone.c rbld/ds_ip4set.c rbld/ds_ip4tset.c rbld/ds_dnset.c
  rbld/ds_ip4trie.c rbld/ds_ip6trie.c rbld/ds_ip6tset.c rbld/ds_generic.c
  rbld/ds_combined.c rbld/ds_acl.c lib/log.c"
cd "$TOP" || exit 1
if clang -g -O1 -fsanitize=fuzzer,address,undefined \
     -fno-sanitize-recover=undefined -D_GNU_SOURCE -I. -Ilib -Irbld \
     -o "$W/fuzz_reply" $SRC -lz 2> "$W/build.log"; then
  echo "ok - fuzz harness builds with libFuzzer, ASan and UBSan"
else
  sed 's/^/# /' "$W/build.log" | head -20
  echo "not ok - fuzz harness builds"; exit 1
fi
cd "$W" || exit 1
# replay the kept inputs (corpus and crash regressions) one by one
if ./fuzz_reply "$TOP"/rbld/fuzz/corpus/* > replay.log 2>&1; then
  echo "ok - replay of $(ls "$TOP"/rbld/fuzz/corpus | wc -l) kept inputs"
else
  tail -20 replay.log | sed 's/^/# /'; echo "not ok - replay of kept inputs"
fi
mkdir -p corpus
cp "$TOP"/rbld/fuzz/corpus/* corpus/
if ./fuzz_reply -max_total_time="$SECS" -max_len=600 -rss_limit_mb=1024 \
     corpus > fuzz.log 2>&1; then
  echo "# $(grep -o 'stat::number_of_executed_units: [0-9]*' fuzz.log)"
  echo "ok - fuzzed $SECS s without a crash ($(tail -1 fuzz.log | cut -c1-60))"
else
  grep -A15 'ERROR\|runtime error' fuzz.log | head -30 | sed 's/^/# /'
  ls crash-* 2>/dev/null | sed 's/^/# kept: /'
  echo "not ok - fuzzing found a crash"
fi
