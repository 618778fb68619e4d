# package/gateway/settings.sh - sourced by package/install: the settings
# of each service that the gateway's wiring depends on (where its socket
# is, where its data lives).  A setting the service's env/ already has is
# kept: the site may have chosen another path, and the Postfix wiring
# reads the socket back from env/.

# env_default D NAME VALUE: set NAME only when env/ has no such file.
env_default() {
  [ -e "$ROOT$ETC/service/$1/env/$2" ] || env_set "$1" "$2" "$3"
}

service_settings() {
  case $1 in
    acctd)
      env_default acctd CDB "$ROOT$DATA/acctd/accounts.cdb"
      env_default acctd SOCKETMAP "unix:$ROOT$RUN/acctd/socketmap"
      cdb=$(env_get acctd CDB)
      if [ ! -e "$cdb" ]; then
        src=$ROOT$ETC/accounts.txt
        if [ -r "$src" ] && [ -x "$BIN/acctd-data" ]; then
          "$BIN/acctd-data" "$src" "$cdb" && chmod 644 "$cdb"
          say "accounts $cdb from $src"
        else
          # acctd answers TEMP without its CDB: mail is deferred, never
          # bounced, until the accounts are there
          say "note: no $cdb yet: run acctd-data ACCOUNTS $cdb"
        fi
      fi ;;
    greyd)
      env_default greyd LISTEN "unix:$ROOT$RUN/greyd/policy"
      env_default greyd STORE "$ROOT$DATA/greyd" ;;
    policyd)
      env_default policyd LISTEN "unix:$ROOT$RUN/policyd/policy"
      env_default policyd DNS "127.0.0.1:53"
      rules=$(env_get policyd RULES)
      if [ -z "$rules" ]; then
        rules=$ROOT$ETC/policyd.rules
        env_set policyd RULES "$rules"
      fi
      [ -e "$rules" ] || for s in "$TOP"/conf/policyd/*rules* \
                                   "$TOP"/conf/policyd.rules; do
        [ -f "$s" ] && { cp "$s" "$rules"; say "rules $rules"; break; }
      done ;;
    reportd)
      # the status page looks at the Postfix instance that was wired
      if [ "$POSTFIX" = yes ] && [ -r "$POSTFIX_CONFIG/main.cf" ]; then
        env_set reportd POSTFIX_CONFIG "$POSTFIX_CONFIG"
        q=$(postconf -c "$POSTFIX_CONFIG" -h queue_directory 2>/dev/null)
        [ -n "$q" ] && env_set reportd POSTFIX_QUEUE "$q"
      fi ;;
  esac
  return 0
}
