# package/gateway/cron.sh - sourced by package/install: the gateway's cron
# jobs, in CRON_DIR/imgate (one file, so uninstall removes them at once),
# each calling a small script in ETC/cron/ that can also be run by hand:
#   daily-report   reportd over the last 24 hours, mailed to REPORT_TO
#   harvest        rbld-harvest: the private zones from the daemons' logs
#   expire         greyd-dump --expire: the greylist store stays bounded
# Only the jobs whose program is installed are written.

cron_script() {
  f=$ROOT$ETC/cron/$1
  mkdir -p "${f%/*}"
  cat > "$f.new"
  chmod 755 "$f.new"
  cmp -s "$f.new" "$f" && rm -f "$f.new" || mv -f "$f.new" "$f"
}

# The log sources reportd reads: each daemon's multilog directory and
# Postfix's log.
report_maillog() {
  ml=$(pc -h maillog_file 2>/dev/null)
  echo "${ml:-/var/log/mail.log}"
}
# The inbound smtpd's syslog name, for reportd --inbound, when the wired
# instance does not log as postfix (a second instance, postfix-mx2).
report_inbound() {
  n=$(pc -xh syslog_name 2>/dev/null)
  [ -n "$n" ] && [ "$n" != postfix ] && echo "$n/smtpd"
  return 0
}
report_sources() {
  s=""
  for d in $DAEMONS; do s="$s $ROOT$LOGS/$d"; done
  echo "$s $(report_maillog)"
}

install_cron() {
  cron=$ROOT$CRON_DIR/imgate
  mkdir -p "${cron%/*}"
  {
    echo "# imgate gateway jobs (package/install; removed by package/uninstall)"
    echo "PATH=$BIN:/usr/sbin:/usr/bin:/sbin:/bin"
  } > "$cron.new"
  if [ -x "$BIN/reportd" ]; then
    # reportd's own daily-report (text, and the HTML report attached)
    # when its service has one; else the text report alone
    dr=$ROOT$ETC/service/reportd/daily-report
    if [ -x "$dr" ]; then
      cron_script daily-report <<EOF
#!/bin/sh
# The daily report of every layer, mailed to $REPORT_TO.
PATH=$BIN:/usr/sbin:/usr/bin:/bin
LOGS=$ROOT$LOGS MAILLOG=$(report_maillog) INBOUND=$(report_inbound) \
  exec $dr '$REPORT_TO'
EOF
    else
      cron_script daily-report <<EOF
#!/bin/sh
# The daily report of every layer, mailed to $REPORT_TO.
PATH=$BIN:/usr/sbin:/usr/bin:/bin
{
  printf 'To: %s\nSubject: imgate daily report %s\n\n' \
    '$REPORT_TO' "\$(hostname)"
  reportd --since 24h$(i=$(report_inbound); [ -n "$i" ] &&
    echo " --inbound $i")$(report_sources)
} | sendmail -t
EOF
    fi
    echo "15 6 * * * root $ROOT$ETC/cron/daily-report" >> "$cron.new"
  fi
  if [ -x "$BIN/rbld-harvest" ]; then
    cron_script harvest <<EOF
#!/bin/sh
# The private zones from greyd's and policyd's logs; rbld reloads them.
PATH=$BIN:/usr/bin:/bin
d=\$(cat $ROOT$ETC/service/rbld/env/ROOT 2>/dev/null || echo $ROOT$DATA/rbld)
exec rbld-harvest -n 5 -t 1d -b "\$d/black" -w "\$d/white" \
  -B "\$d/black6" -V "\$d/white6" \
  $ROOT$LOGS/policyd $ROOT$LOGS/greyd
EOF
    echo "*/$HARVEST_MINUTES * * * * root $ROOT$ETC/cron/harvest" >> "$cron.new"
  fi
  if [ "$EXPIRE" = yes ] && [ -x "$BIN/greyd-dump" ]; then
    cron_script expire <<EOF
#!/bin/sh
# Stale triplets and whitelist entries out of greyd's store.
PATH=$BIN:/usr/bin:/bin
exec envdir $ROOT$ETC/service/greyd/env setuidgid greyd greyd-dump --expire
EOF
    echo "40 4 * * * root $ROOT$ETC/cron/expire" >> "$cron.new"
  fi
  cmp -s "$cron.new" "$cron" && rm -f "$cron.new" ||
    { mv -f "$cron.new" "$cron"; chmod 644 "$cron"; say "cron $cron"; }
}
