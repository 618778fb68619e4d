#!/bin/sh
# Hand-made logs with the exact report expected: multilog directories
# (TAI64N labels, a rotated file before the window that is skipped, one
# rotated inside it, a partial last line, unknown lines, warnings) and a
# syslog file across New Year (year inference, RFC 3339 stamps, Postfix,
# amavis, lines of other programs).  data/NAME/args holds the arguments,
# data/NAME/expected the report.
. "$IMGATE_TOP/tests/lib/common.sh"
export TZ=UTC
D=$IMGATE_TOP/reportd/tests/data
for c in "$D"/*/; do
  n=$(basename "$c")
  out=$(cd "$c" && eval "reportd $(cat args)" 2>&1)
  rc=$?
  t_eq "$rc" 0 "golden $n: exit code"
  want=$(cat "$c/expected")
  if [ "$out" = "$want" ]; then t_ok "golden $n: report"
  else
    t_fail "golden $n: report"
    printf '%s\n' "$out" > "$IMGATE_TESTLOGS/golden-$n.out"
    diff "$c/expected" "$IMGATE_TESTLOGS/golden-$n.out" | sed 's/^/#   /' | head -40
  fi
done

# The same logs given twice count nothing twice within one file, but a
# second LOG is read: the counts double.
cd "$D/newyear" || exit 1
one=$(reportd --since "2025-12-31 12:00" --until "2026-01-01 12:00" mail.log |
      grep 'rejected as unknown (550')
two=$(reportd --since "2025-12-31 12:00" --until "2026-01-01 12:00" - < mail.log |
      grep 'rejected as unknown (550')
t_eq "$two" "$one" "standard input read like a file"
# a log compressed by logrotate gives the same report as the plain one
T=$(t_tmpdir)
gzip -c mail.log > "$T/mail.log.2.gz"
touch -r mail.log "$T/mail.log.2.gz"
plain=$(reportd --since "2025-12-31 12:00" --until "2026-01-01 12:00" mail.log)
gz=$(reportd --since "2025-12-31 12:00" --until "2026-01-01 12:00" \
     "$T/mail.log.2.gz")
t_eq "$gz" "$plain" "a .gz log read like the plain one"
printf 'not gzip at all\n' > "$T/bad.gz"
reportd --since 2026-01-01 --until 2026-01-02 "$T/bad.gz" > /dev/null 2>&1
t_eq $? 0 "a .gz that is no gzip is read as plain text (zlib's way)"
# a compressed log cut short or with a bad checksum: a warning naming
# it, exit 111 (as for a missing log), the report of what was read
for cut in 12 half trailer crc; do
  size=$(stat -c %s "$T/mail.log.2.gz")
  case $cut in
    12) head -c 12 "$T/mail.log.2.gz" ;;
    half) head -c $((size / 2)) "$T/mail.log.2.gz" ;;
    trailer) head -c $((size - 4)) "$T/mail.log.2.gz" ;;
    crc) head -c $((size - 8)) "$T/mail.log.2.gz"; printf '\001\002\003\004'
         tail -c 4 "$T/mail.log.2.gz" ;;
  esac > "$T/cut.log.gz"
  out=$(reportd --since "2025-12-31 12:00" --until "2026-01-01 12:00" \
        "$T/cut.log.gz" 2>"$T/cut.err")
  t_eq $? 111 "gzip cut ($cut): exit 111"
  t_match "$(cat "$T/cut.err")" "damaged gzip file .*cut\.log\.gz" \
    "gzip cut ($cut): a warning names the file"
  t_match "$out" "^imgate report" "gzip cut ($cut): the report is printed"
done

# Usage and bad times are permanent errors; a missing log is temporary
# and the report is still printed.
reportd --since yesterday mail.log > /dev/null 2>&1
t_eq $? 100 "bad --since exits 100"
reportd > /dev/null 2>&1
t_eq $? 100 "no LOG exits 100"
reportd --since 2026-01-02 --until 2026-01-01 mail.log > /dev/null 2>&1
t_eq $? 100 "empty window exits 100"
out=$(reportd --since "2025-12-31 12:00" --until "2026-01-01 12:00" mail.log \
      /nonexistent 2>&1)
rc=$?
t_eq $rc 111 "missing log exits 111"
t_match "$out" "reportd: warning: unable to open /nonexistent" \
  "missing log is named"
t_match "$out" "3  rejected as unknown" "report printed despite a missing log"

# Truncated and rotated while being read, at a scale where the reader
# is mid-file: a writer appends while reportd reads, then rotates.
mkdir "$T/svc"
line='@4000000069567a8000000000 greyd: info: decision action=defer reason="Reject new triplet" client=192.0.2.7'
i=0
while [ $i -lt 2000 ]; do echo "$line"; i=$((i+1)); done > "$T/chunk"
i=0
while [ $i -lt 100 ]; do cat "$T/chunk"; i=$((i+1)); done > "$T/svc/current"
( sleep 0.01; mv "$T/svc/current" "$T/svc/@4000000069567a9000000000.s"
  cat "$T/chunk" > "$T/svc/current" ) &
w=$!
n=$(reportd --since 2026-01-01 --until 2026-01-02 "$T/svc" |
    awk '/Reject new triplet$/ { print $1 }')
wait $w
# 200000 if reportd was done before the rename, 202000 if not; never
# the rotated file read a second time (400000 or more)
case $n in
  200000|202000) t_ok "rotation while reading: no line twice ($n)" ;;
  *) t_fail "rotation while reading: no line twice" "got $n" ;;
esac
n=$(reportd --since 2026-01-01 --until 2026-01-02 "$T/svc" |
    awk '/Reject new triplet$/ { print $1 }')
t_eq "$n" 202000 "after rotation: every line once"
