#!/bin/sh
# The HTML report: one self-contained page (no script, no external
# reference), the same counts as the text report, two inline SVG charts;
# loaded in headless Chromium from file:// without errors, and a
# screenshot taken.
. "$IMGATE_TOP/tests/lib/common.sh"
export TZ=UTC
T=$(t_tmpdir)
D=$IMGATE_TOP/reportd/tests/data/newyear
reportd --html --since "2025-12-31 12:00" --until "2026-01-01 12:00" \
  "$D/mail.log" > "$T/report.html"
t_eq $? 0 "--html exits 0"
h=$(cat "$T/report.html")
t_match "$h" "^<!DOCTYPE html>$" "an HTML5 page"
t_eq "$(grep -c '<svg ' "$T/report.html")" 2 "two inline SVG charts"
t_match "$h" "<tr><td class=n>3</td><td>rejected as unknown \(550 5.1.1\)</td></tr>" \
  "counts in tables"
t_match "$h" "<tr class=rate><td class=n>50.0%</td><td>blocked</td></tr>" \
  "rates in tables"
t_match "$h" "<title>recipient validation: 2</title>" \
  "hour bar of 22:00 for recipient validation"
t_match "$h" "<title>content scanning: 3</title>" \
  "hour bar of 01:00 for content scanning"
if grep -Eiq '<script|src=|href=|url\(|@import' "$T/report.html"; then
  t_fail "self-contained: no script, no external reference"
else t_ok "self-contained: no script, no external reference"; fi

# Text from the log is escaped
printf '%s\n' '@4000000069567a8000000000 <script>alert(1)</script> x' \
  > "$T/evil.log"
reportd --html --since 2026-01-01 --until 2026-01-02 "$T/evil.log" \
  > "$T/evil.html"
if grep -q '<script>' "$T/evil.html"; then t_fail "log text escaped in HTML"
else t_ok "log text escaped in HTML"; fi
t_match "$(cat "$T/evil.html")" "&lt;script&gt;alert\(1\)&lt;/script&gt;" \
  "unknown line shown escaped"

command -v chromium > /dev/null ||
  { t_skip "chromium report" "chromium not installed (package/deps)"; exit 0; }
shot=$IMGATE_TESTLOGS/reportd-report.png
chrome() {
  timeout 60 chromium --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --user-data-dir="$(mktemp -d)" \
    --enable-logging=stderr "$@"
}
chrome --window-size=1000,2400 --screenshot="$shot" \
  "file://$T/report.html" > "$T/chromium.out" 2>&1
t_eq $? 0 "chromium loads the report"
if grep -E 'CONSOLE|Uncaught|ERR_|Failed to load|not well-formed' \
   "$T/chromium.out" | grep -v -e dbus -e 'chrome://' > "$T/chromium.err"; then
  t_fail "no errors in chromium" "$(head -3 "$T/chromium.err")"
else t_ok "no errors in chromium"; fi
t_eq "$(head -c 4 "$shot" 2>/dev/null | tail -c 3)" PNG "report screenshot taken"
# what Chromium built from the page: both charts, every section
chrome --dump-dom "file://$T/report.html" > "$T/dom.html" 2> /dev/null
t_eq "$(grep -c '<svg' "$T/dom.html")" 2 "both charts in the DOM"
t_eq "$(grep -c "<h2>" "$T/dom.html")" 10 "every section in the DOM"
