#!/bin/sh
# package/reportd: the service directory's files, and daily-report, the
# cron job's script, producing one MIME mail with the text report as its
# body and the HTML report attached.
. "$IMGATE_TOP/tests/lib/common.sh"
P=$IMGATE_TOP/package/reportd
for f in run log/run daily-report; do
  [ -x "$P/$f" ] && t_ok "$f executable" || t_fail "$f executable"
  sh -n "$P/$f" && t_ok "$f parses" || t_fail "$f parses"
done
t_match "$(cat "$P/run")" "^exec envdir \./env sh -c" "run: envdir"
t_match "$(cat "$P/run")" "exec setuidgid reportd softlimit -d " \
  "run: setuidgid, softlimit"
t_eq "$(cat "$P/env/LISTEN")" "inet:127.0.0.1:9025" "listens on loopback"
# every env file is a setting reportd accepts
out=$(cd "$P" && envdir ./env reportd --status 2>&1)
t_eq $? 0 "the shipped settings are valid"
T=$(t_tmpdir)
mkdir -p "$T/logs/greyd"
cp "$IMGATE_TOP/reportd/tests/data/multilog/grey/current" "$T/logs/greyd/"
printf '#!/bin/sh\ncat > "%s/mail"\n' "$T" > "$T/fake-sendmail"
chmod +x "$T/fake-sendmail"
LOGS=$T/logs MAILLOG=/nonexistent SENDMAIL=$T/fake-sendmail \
  "$P/daily-report" ops@example.com
t_eq $? 0 "daily-report exits 0"
m=$(cat "$T/mail")
t_match "$m" "^To: ops@example.com$" "addressed"
t_match "$m" "^Subject: imgate daily report of " "subject"
t_match "$m" "^Content-Type: multipart/mixed; boundary=" "MIME multipart"
t_match "$m" "^imgate report from " "text report in the body"
t_match "$m" "^Greylisting \(greyd\)$" "greyd's section"
t_match "$m" "filename=\"report.html\"" "HTML report attached"
t_eq "$(printf '%s\n' "$m" | grep -c '<svg ')" 2 "attachment has the charts"
t_eq "$(printf '%s\n' "$m" | awk 'length > 998' | wc -l)" 0 \
  "no line longer than SMTP allows"

# INBOUND names the inbound smtpd for reportd --inbound (another Postfix
# instance here); without it that smtpd is left out of the funnel
now=$(date -d '1 minute ago' '+%b %e %H:%M:%S')
printf '%s mx postfix-mx2/smtpd[7]: connect from x[192.0.2.1]\n' "$now" \
  > "$T/mail.log"
LOGS=$T/logs MAILLOG=$T/mail.log SENDMAIL=$T/fake-sendmail \
  INBOUND=postfix-mx2/smtpd "$P/daily-report" ops@example.com
t_match "$(cat "$T/mail")" "^ +1  connected to smtpd$" \
  "daily-report: INBOUND names the inbound smtpd"
LOGS=$T/logs MAILLOG=$T/mail.log SENDMAIL=$T/fake-sendmail \
  "$P/daily-report" ops@example.com
t_match "$(cat "$T/mail")" "^  not counted: 1 connections to other smtpd services than postfix/smtpd$" \
  "daily-report: other smtpd left out by default"
