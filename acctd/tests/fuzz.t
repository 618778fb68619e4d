#!/bin/sh
# fuzz.t - the libFuzzer harness for acctd's parsers (codecs, readers,
# CDB checker and lookups) under ASan and UBSan: replays the kept corpus,
# then fuzzes for a bounded time (FUZZ_SECONDS, default 10).
. "$IMGATE_TOP/tests/lib/common.sh"
command -v clang >/dev/null || { t_skip fuzz "no clang"; exit 0; }
W=$(t_tmpdir)
TOP=$IMGATE_TOP
A=$TOP/acctd
if clang -g -O1 -fsanitize=fuzzer,address,undefined -I"$A" -I"$TOP/lib" \
     -D_GNU_SOURCE -o "$W/fuzz_acctd" "$A/fuzz/fuzz_acctd.c" "$A/proto.c" \
     "$A/reader.c" "$A/addrset.c" "$A/addr.c" "$A/db.c" "$A/lookup.c" \
     -lowfat 2> "$W/build.log"; then
  t_ok "fuzz harness builds with libFuzzer, ASan and UBSan"
else
  t_fail "fuzz harness builds" "$(tail -3 "$W/build.log")"; exit 1
fi
cd "$W" || exit 111
mkdir corpus
cp "$A"/fuzz/corpus/* corpus/
if ./fuzz_acctd "$A"/fuzz/corpus/* > replay.log 2>&1; then
  t_ok "kept corpus replays clean"
else
  t_fail "kept corpus replays clean" "$(tail -5 replay.log)"
fi
if ./fuzz_acctd -max_total_time="${FUZZ_SECONDS:-10}" -max_len=4096 \
     -rss_limit_mb=1024 -print_final_stats=1 corpus > fuzz.log 2>&1; then
  t_ok "fuzzing for ${FUZZ_SECONDS:-10}s finds nothing ($(grep -o 'stat::number_of_executed_units: [0-9]*' fuzz.log | cut -d' ' -f2) runs)"
else
  t_fail "fuzzing finds nothing" "$(grep -A8 'ERROR' fuzz.log | head -12)"
  cp crash-* leak-* timeout-* "$IMGATE_TESTLOGS/" 2>/dev/null
fi
