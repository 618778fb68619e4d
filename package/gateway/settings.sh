# package/gateway/settings.sh - sourced by package/install: the settings
# of each service that the gateway's wiring depends on (where its socket
# is, where its data lives).  A setting the service's env/ already has is
# kept: the site may have chosen another path, and the Postfix wiring
# reads the socket back from env/.

# conf/D's sample files become ETC/D's when missing (the greylisting
# whitelists, policyd's rules ...); a sample list of accounts only as
# NAME.sample: the gateway must never accept the sample's addresses.
install_conf() {
  [ -d "$TOP/conf/$1" ] || return 0
  mkdir -p "$ROOT$ETC/$1"
  for f in "$TOP/conf/$1"/*; do
    [ -f "$f" ] || continue
    n=${f##*/}
    case $1/$n in acctd/accounts.*) n=$n.sample ;; esac
    [ -e "$ROOT$ETC/$1/$n" ] && continue
    cp "$f" "$ROOT$ETC/$1/$n"; chmod 644 "$ROOT$ETC/$1/$n"
    say "config $ROOT$ETC/$1/$n"
  done
}

# env_default D NAME VALUE: set NAME only when env/ has no such file.
env_default() {
  [ -e "$ROOT$ETC/service/$1/env/$2" ] || env_set "$1" "$2" "$3"
}

# A policy service's socket goes where a chrooted smtpd reaches it:
# QUEUE/imgate/D/policy (Postfix names it imgate/D/policy, relative to
# the queue directory, chrooted or not).  The directory is the daemon's
# and its group's, 0750: Postfix's user, in that group, connects (the
# socket is 0660 by SOCKET_MODE); no one else gets in.  A LISTEN the
# site chose is kept; the packaged one (RUN/D/policy, which an earlier
# install also wrote) is moved.
policy_socket() {
  d=$1 u=$(daemon_user "$1")
  q=$(pf_queue_dir)
  if [ -z "$q" ]; then
    env_default "$d" LISTEN "unix:$ROOT$RUN/$d/policy"; return 0
  fi
  mkdir -p "$q/imgate/$d"
  chown root:root "$q/imgate"; chmod 755 "$q/imgate"
  chown "$u:$u" "$q/imgate/$d"; chmod 750 "$q/imgate/$d"
  case $(env_get "$d" LISTEN) in ""|"unix:$ROOT$RUN/$d/policy")
    env_set "$d" LISTEN "unix:$q/imgate/$d/policy"
    say "$d: socket unix:$q/imgate/$d/policy (Postfix's queue directory)"
    # a running daemon (an earlier install's) listens there once restarted
    [ -n "$NEW_SERVICE" ] || svc -t "$ROOT$ETC/service/$d" 2>/dev/null || true
  esac
  return 0
}

# rbld does not start while a file its ZONES names is missing: a file
# of conf/rbld (local.soa) is copied, any other starts empty until
# rbld-harvest (the private zones) or the site's rsync (copies of public
# zones) fills it.  Names outside the data directory are the site's.
rbld_files() {
  r=$(env_get rbld ROOT)
  [ -n "$r" ] || r=$ROOT$DATA/rbld
  for spec in $(env_get rbld ZONES); do
    files=${spec#*:}; files=${files#*:}
    for f in $(echo "$files" | tr , ' '); do
      case $f in /*|*/*) continue ;; esac
      # a link (dangling too) is the site's: never written through
      [ -e "$r/$f" ] || [ -L "$r/$f" ] && continue
      if [ -f "$TOP/conf/rbld/$f" ]; then cp "$TOP/conf/rbld/$f" "$r/$f"
      else : > "$r/$f"; fi
      chmod 644 "$r/$f"
      say "rbld: $r/$f$([ -s "$r/$f" ] || echo ' (empty)')"
    done
  done
}

service_settings() {
  install_conf "$1"
  [ -n "$SOFTLIMIT" ] && env_default "$1" SOFTLIMIT "$SOFTLIMIT"
  case $1 in
    acctd)
      env_default acctd CDB "$ROOT$DATA/acctd/accounts.cdb"
      env_default acctd SOCKETMAP "unix:$ROOT$RUN/acctd/socketmap"
      cdb=$(env_get acctd CDB)
      if [ ! -e "$cdb" ]; then
        src=$ROOT$ETC/acctd/accounts.txt
        if [ -r "$src" ] && [ -x "$BIN/acctd-data" ]; then
          "$BIN/acctd-data" "$src" "$cdb" && chmod 644 "$cdb"
          say "accounts $cdb from $src"
        elif [ -n "$NEW_SERVICE" ]; then
          # acctd answers TEMP without its CDB: mail is deferred, never
          # bounced, until the accounts are there.  Said once, when the
          # service is new: a run that changes nothing prints nothing
          # (acctd's own log and the status page keep saying it).
          say "note: no $cdb yet: run acctd-data ACCOUNTS $cdb"
        fi
      fi ;;
    greyd)
      policy_socket greyd
      env_default greyd STORE "$ROOT$DATA/greyd" ;;
    policyd)
      policy_socket policyd
      env_default policyd DNS "127.0.0.1:53"
      env_default policyd RULES "$ROOT$ETC/policyd/rules" ;;
    rbld)
      rbld_files ;;
    reportd)
      # the status page looks at the Postfix instance that was wired
      if [ "$POSTFIX" = yes ] && [ -r "$POSTFIX_CONFIG/main.cf" ]; then
        env_set reportd POSTFIX_CONFIG "$POSTFIX_CONFIG"
        q=$(postconf -c "$POSTFIX_CONFIG" -h queue_directory 2>/dev/null)
        [ -n "$q" ] && env_set reportd POSTFIX_QUEUE "$q"
        m=$(postconf -c "$POSTFIX_CONFIG" -h maillog_file 2>/dev/null)
        [ -n "$m" ] && env_set reportd MAILLOG "$m"
      fi ;;
  esac
  return 0
}
