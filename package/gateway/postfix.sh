# package/gateway/postfix.sh - sourced by package/install and uninstall:
# Postfix's settings for the gateway, in the order of the layers:
#
#   smtpd_recipient_restrictions =
#       reject_unauth_destination,     (not our domain: 554, nothing asked)
#       reject_unlisted_recipient,     (layer 1, acctd via socketmap: 550)
#       permit_mynetworks,             (our own hosts are not filtered)
#       check_policy_service { greyd, default_action=DUNNO },    (layer 2)
#       check_policy_service { policyd, default_action=DUNNO }   (layer 3)
#   content_filter = smtp-amavis:[127.0.0.1]:10024               (layer 4)
#
# default_action=DUNNO: a policy daemon that is down, slow or broken lets
# mail through to the next layer instead of failing it (Postfix's own
# default would answer 451 to every RCPT).  The old values of every
# parameter changed are saved once in ETC/postfix.saved, for uninstall.

pc() { postconf -c "$POSTFIX_CONFIG" "$@"; }

PF_PARAMS="relay_domains relay_recipient_maps smtpd_recipient_restrictions
content_filter relay_transport"

# Saves, on the first install only, how things were.
pf_save() {
  f=$ROOT$ETC/postfix.saved
  [ -e "$f" ] && return 0
  mkdir -p "${f%/*}"
  {
    for p in $PF_PARAMS; do
      v=$(pc -n "$p" 2>/dev/null) && [ -n "$v" ] && echo "param $v" ||
        echo "unset $p"
    done
    pc -F '*/inet/command' 2>/dev/null |
      sed -n 's#^\([^/]*\)/inet/command = smtpd.*#\1#p' | while read -r s; do
        echo "chroot $s $(pc -F "$s/inet/chroot" | sed 's/.* = //')"
      done
  } > "$f.tmp"
  mv "$f.tmp" "$f"
}

pf_set() {
  [ "$(pc -h "$1" 2>/dev/null)" = "$2" ] && return 0
  pc -e "$1 = $2"
  say "postfix $1 = $2"
}

pf_restrictions() {
  r="reject_unauth_destination, reject_unlisted_recipient, permit_mynetworks"
  for d in greyd policyd; do
    case " $DAEMONS " in *" $d "*) ;; *) continue ;; esac
    s=$(unix_of "$(env_get "$d" LISTEN)")
    [ -n "$s" ] &&
      r="$r, check_policy_service { unix:$s, default_action=DUNNO }"
  done
  echo "$r"
}

# master.cf: the amavis client and the re-injection smtpd.  The
# re-injection listener skips every check: the mail passed them already.
pf_content_filter() {
  pc -Me "smtp-amavis/unix = smtp-amavis unix - - n - 2 smtp \
-o smtp_data_done_timeout=1200 -o smtp_send_xforward_command=yes \
-o smtp_dns_support_level=disabled -o max_use=20"
  r=127.0.0.1:$REINJECT_PORT
  pc -Me "$r/inet = $r inet n - n - - \
smtpd -o syslog_name=postfix/reinject -o content_filter= \
-o smtpd_delay_reject=no \
-o smtpd_client_restrictions= -o smtpd_helo_restrictions= \
-o smtpd_sender_restrictions= \
-o smtpd_recipient_restrictions=permit_mynetworks,reject \
-o smtpd_relay_restrictions=permit_mynetworks,reject -o mynetworks=127.0.0.0/8 \
-o smtpd_data_restrictions= -o smtpd_end_of_data_restrictions= \
-o smtpd_authorized_xforward_hosts=127.0.0.0/8 \
-o receive_override_options=no_unknown_recipient_checks,\
no_header_body_checks,no_milters"
  pf_set content_filter "smtp-amavis:[127.0.0.1]:$AMAVIS_PORT"
}

# Postfix's set-gid commands (postqueue, postdrop) run by a user other
# than root take "-c DIR" only for a DIR that the default main.cf lists
# in alternate_config_directories: without it reportd's status page,
# not root, cannot ask postqueue about an instance outside /etc/postfix.
# What was done is kept in ETC/postfix.altconf for uninstall: "added"
# (to an existing main.cf) or "created" (there was none).
pf_default_dir() { postconf -d -h config_directory 2>/dev/null || echo /etc/postfix; }

pf_altconf() {
  dd=$(pf_default_dir)
  [ "$POSTFIX_CONFIG" = "$dd" ] && return 0
  f=$ROOT$ETC/postfix.altconf
  how=added
  if [ ! -e "$dd/main.cf" ]; then
    mkdir -p "$dd" && : > "$dd/main.cf" && how=created
  fi
  cur=$(postconf -c "$dd" -h alternate_config_directories 2>/dev/null)
  case ", $cur," in *", $POSTFIX_CONFIG,"*) return 0 ;; esac
  case ", $cur," in *" $POSTFIX_CONFIG,"*|*",$POSTFIX_CONFIG,"*) return 0 ;; esac
  postconf -c "$dd" -e \
    "alternate_config_directories = ${cur:+$cur, }$POSTFIX_CONFIG"
  mkdir -p "${f%/*}"
  [ -e "$f" ] || echo "$how $dd $POSTFIX_CONFIG" > "$f"
  say "postfix $dd/main.cf: alternate_config_directories += $POSTFIX_CONFIG"
}

# Takes POSTFIX_CONFIG out of the default main.cf's list again.
pf_unaltconf() {
  f=$ROOT$ETC/postfix.altconf
  [ -r "$f" ] || return 0
  read -r how dd dir < "$f"
  if [ -r "$dd/main.cf" ]; then
    cur=$(postconf -c "$dd" -h alternate_config_directories 2>/dev/null)
    new=$(printf '%s\n' "$cur" | tr ', ' '\n\n' | grep -v '^$' |
          grep -vxF "$dir" | paste -sd, - | sed 's/,/, /g')
    if [ -n "$new" ]; then
      postconf -c "$dd" -e "alternate_config_directories = $new"
    else
      postconf -c "$dd" -X alternate_config_directories
      [ "$how" = created ] && [ ! -s "$dd/main.cf" ] && rm -f "$dd/main.cf"
    fi
  fi
  rm -f "$f"
  say "postfix $dd/main.cf: alternate_config_directories -= $dir"
}

wire_postfix() {
  command -v postconf >/dev/null || PATH=$PATH:/usr/sbin
  [ -r "$POSTFIX_CONFIG/main.cf" ] ||
    die "no $POSTFIX_CONFIG/main.cf: configure Postfix first (or POSTFIX=no)"
  pf_save
  [ -n "$RELAY_DOMAINS" ] && pf_set relay_domains "$RELAY_DOMAINS"
  case " $DAEMONS " in *" acctd "*)
    s=$(unix_of "$(env_get acctd SOCKETMAP)")
    [ -n "$s" ] && pf_set relay_recipient_maps "socketmap:unix:$s:accounts"
  esac
  pf_set smtpd_recipient_restrictions "$(pf_restrictions)"
  [ -n "$MAILBOX_SERVER" ] && pf_set relay_transport "relay:$MAILBOX_SERVER"
  # A chrooted smtpd (Debian's default) cannot reach sockets in RUN.
  if [ "$SMTPD_CHROOT_OFF" = yes ]; then
    pc -F '*/inet/command' | sed -n 's#^\([^/]*\)/inet/command = smtpd.*#\1#p' |
      while read -r s; do
        [ "$(pc -F "$s/inet/chroot" | sed 's/.* = //')" = n ] && continue
        pc -F "$s/inet/chroot = n"; say "postfix $s/inet chroot = n"
      done
  fi
  [ "$CONTENT_FILTER" = amavis ] && pf_content_filter
  pf_altconf
  return 0
}

# Puts back what pf_save recorded.
unwire_postfix() {
  command -v postconf >/dev/null || PATH=$PATH:/usr/sbin
  pf_unaltconf
  f=$ROOT$ETC/postfix.saved
  [ -r "$f" ] && [ -r "$POSTFIX_CONFIG/main.cf" ] || return 0
  while read -r kind a b; do
    case $kind in
      param) v=${b#=}; v=${v# }; pc -e "$a = $v" ;;
      unset) pc -X "$a" 2>/dev/null || true ;;
      chroot) pc -F "$a/inet/chroot = $b" ;;
    esac
  done < "$f"
  pc -MX smtp-amavis/unix 2>/dev/null || true
  pc -MX "127.0.0.1:$REINJECT_PORT/inet" 2>/dev/null || true
  rm -f "$f"
  say "postfix settings restored"
}
