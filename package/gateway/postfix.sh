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
#
# smtpd stays chrooted in the queue directory, as Debian ships it: the
# policy sockets are inside it (QUEUE/imgate/D/policy, named relative to
# it: Postfix's daemons work in the queue directory, chrooted or not),
# and acctd's map is read through proxymap(8), which is not chrooted.
# A site's own relay_recipient_maps stay, after acctd's.  A running
# instance is reloaded when main.cf or master.cf changed.

pc() { postconf -c "$POSTFIX_CONFIG" "$@"; }

PF_PARAMS="relay_domains relay_recipient_maps smtpd_recipient_restrictions
content_filter relay_transport proxy_read_maps"

# Postfix's queue directory for the instance wired, empty when there is
# none: a chrooted smtpd (Debian's master.cf) sees nothing outside it.
pf_queue_dir() {
  [ -r "$POSTFIX_CONFIG/main.cf" ] || return 0
  command -v postconf >/dev/null || PATH=$PATH:/usr/sbin
  postconf -c "$POSTFIX_CONFIG" -h queue_directory 2>/dev/null || true
}

# The smtpd services of master.cf as NAME/TYPE: smtp/inet, and
# postscreen's smtpd/pass or a submission's, whatever their type.
pf_smtpds() {
  pc -F '*/*/command' 2>/dev/null |
    sed -n 's#^\([^/]*/[^/]*\)/command = smtpd\( .*\)\{0,1\}$#\1#p'
}
pf_chroot_of() { pc -F "$1/chroot" | sed 's/.* = //'; }

# A parameter as it was: "param NAME = VALUE" or "unset NAME".
pf_saved_line() {
  v=$(pc -n "$1" 2>/dev/null) && [ -n "$v" ] && echo "param $v" ||
    echo "unset $1"
}

# Saves, on the first install, how things were.  A parameter an earlier
# install did not record (it did not change it then) is recorded now.
pf_save() {
  f=$ROOT$ETC/postfix.saved
  if [ -e "$f" ]; then
    for p in $PF_PARAMS; do
      grep -q "^param $p =\|^unset $p\$" "$f" || pf_saved_line "$p" >> "$f"
    done
    pf_smtpds | while read -r s; do
      pf_saved_chroots | grep -q "^$s " && continue
      [ "$s" = "127.0.0.1:$REINJECT_PORT/inet" ] && continue
      echo "chroot $s $(pf_chroot_of "$s")" >> "$f"
    done
    return 0
  fi
  mkdir -p "${f%/*}"
  {
    for p in $PF_PARAMS; do pf_saved_line "$p"; done
    pf_smtpds | while read -r s; do echo "chroot $s $(pf_chroot_of "$s")"; done
  } > "$f.tmp"
  mv "$f.tmp" "$f"
}

pf_set() {
  [ "$(pc -h "$1" 2>/dev/null)" = "$2" ] && return 0
  pc -e "$1 = $2"
  say "postfix $1 = $2"
}

# A socket inside the queue directory by its name relative to it; one
# elsewhere (a site's own LISTEN) by its full path, which only an smtpd
# out of its chroot reaches: said on stderr.
pf_endpoint() {
  q=$(pf_queue_dir)
  case $1 in
    "$q"/*) [ -n "$q" ] && { echo "unix:${1#$q/}"; return 0; } ;;
  esac
  [ "${SMTPD_CHROOT_OFF:-no}" = yes ] && { echo "unix:$1"; return 0; }
  for s in $(pf_smtpds); do
    case $(pf_chroot_of "$s") in n|-) ;; *)
      say "warning: $s runs chrooted in $q: it cannot reach $1" \
        "(put the socket inside $q, or SMTPD_CHROOT_OFF=yes)" >&2
      break ;;
    esac
  done
  echo "unix:$1"
}

# The endpoints of a daemon's listener list, in lib/endpoint.h's grammar
# (unix:/path, /path, inet:ADDR:PORT or ADDR:PORT, ADDR IPv4 or [IPv6],
# separated by commas and/or spaces), one a line as Postfix names them:
# unix:/path or inet:ADDR:PORT (a wildcard address as loopback's).  One
# that Postfix cannot be given is printed as "bad:ENDPOINT".
ep_list() {
  printf '%s\n' "$1" | awk '
    function port(p) { return p ~ /^[0-9]+$/ && p + 0 >= 1 && p + 0 <= 65535 }
    function ip4(a,   o, i, n) {
      if (a !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) return 0
      n = split(a, o, ".")
      for (i = 1; i <= n; i++) if (o[i] + 0 > 255) return 0
      return 1
    }
    function one(e,   s, a, p) {
      if (e ~ /^unix:\//) e = substr(e, 6)
      if (e ~ /^\//) {
        if (e ~ /[{}=]/) return "bad:" e
        return "unix:" e
      }
      s = e; sub(/^inet:/, "", s)
      p = s; sub(/.*:/, "", p); a = substr(s, 1, length(s) - length(p) - 1)
      if (!port(p)) return "bad:" e
      if (a == "0.0.0.0") a = "127.0.0.1"
      if (a == "[::]") a = "[::1]"
      if (ip4(a) || a ~ /^\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]$/)
        return "inet:" a ":" p
      return "bad:" e
    }
    { n = split($0, t, /[, \t]+/)
      for (i = 1; i <= n; i++) if (t[i] != "") print one(t[i]) }'
}

# Refuses (exit 100) a listener list of which an endpoint cannot be
# wired: an smtpd or a map left without its service would accept what
# the layer should refuse.  WHO is "D's SETTING".
ep_check() {
  l=$(ep_list "$2")
  [ -n "$l" ] || fail "$1 is empty: Postfix cannot be wired to it"
  bad=$(printf '%s\n' "$l" | sed -n 's/^bad://p' | head -n 1)
  [ -z "$bad" ] || fail "$1: cannot wire \"$bad\": Postfix needs" \
    "unix:/path, /path, inet:ADDR:PORT or ADDR:PORT (ADDR IPv4 or [IPv6])"
  return 0
}

# The one endpoint of a policy service Postfix is given: a unix socket
# in the queue directory (a chrooted smtpd reaches it), else the first.
ep_policy() {
  l=$(ep_list "$1") q=$(pf_queue_dir)
  for e in $l; do
    case $e in "unix:$q"/?*) [ -n "$q" ] && { echo "$e"; return 0; } ;; esac
  done
  printf '%s\n' "$l" | head -n 1
}

# acctd's endpoint for proxymap (not chrooted): a unix socket, else the
# first.
ep_map() {
  l=$(ep_list "$1")
  e=$(printf '%s\n' "$l" | grep -m 1 '^unix:' || true)
  [ -n "$e" ] && echo "$e" || printf '%s\n' "$l" | head -n 1
}

pf_policy_daemons() {
  for d in greyd policyd; do
    case " $DAEMONS " in *" $d "*) echo "$d" ;; esac
  done
}

pf_restrictions() {
  r="reject_unauth_destination, reject_unlisted_recipient, permit_mynetworks"
  for d in $(pf_policy_daemons); do
    e=$(ep_policy "$(env_get "$d" LISTEN)")
    case $e in unix:*) e=$(pf_endpoint "${e#unix:}") ;; esac
    r="$r, check_policy_service { $e, default_action=DUNNO }"
  done
  echo "$r"
}

# The site's own relay_recipient_maps, as postfix.saved recorded them
# before the first install, verbatim.
pf_site_maps() {
  sed -n 's/^param relay_recipient_maps = *//p' "$ROOT$ETC/postfix.saved"
}

# relay_recipient_maps through proxymap, which runs outside the chroot
# and reaches acctd's socket in RUN; the site's own maps after acctd's
# (an address they list stays valid).  proxymap serves only the maps
# that proxy_read_maps lists: Postfix's default lists
# $relay_recipient_maps; a site's own list (even an empty one) gets it.
pf_recipient_map() {
  m="proxy:socketmap:$1:accounts"
  site=$(pf_site_maps)
  v=$m${site:+, $site}
  if [ "$(pc -h relay_recipient_maps 2>/dev/null)" != "$v" ] && [ -n "$site" ]
  then
    say "postfix relay_recipient_maps: the site's $site kept, after acctd's"
  fi
  pf_set relay_recipient_maps "$v"
  cur=$(pc -n proxy_read_maps 2>/dev/null) || return 0
  [ -n "$cur" ] || return 0
  cur=$(printf '%s\n' "$cur" | sed 's/^[^=]*= *//')
  for t in $(printf '%s\n' "$cur" | tr ',' ' '); do
    case $t in '$relay_recipient_maps'|'${relay_recipient_maps}'|\
      '$(relay_recipient_maps)') return 0 ;;
    esac
  done
  case $cur in
    "") v='$relay_recipient_maps' ;;
    *,*) v="$cur, \$relay_recipient_maps" ;;
    *) v="$cur \$relay_recipient_maps" ;;
  esac
  pf_set proxy_read_maps "$v"
}

# SMTPD_CHROOT_OFF=yes: smtpd out of its chroot (its own choice, not
# needed by imgate).  no: an smtpd that an earlier install took out of
# its chroot goes back as postfix.saved recorded it.
pf_chroot() {
  if [ "$SMTPD_CHROOT_OFF" = yes ]; then
    pf_smtpds | while read -r s; do
      [ "$(pf_chroot_of "$s")" = n ] && continue
      pc -F "$s/chroot = n"; say "postfix $s chroot = n"
    done
    return 0
  fi
  pf_saved_chroots | while read -r s v; do
    [ "$(pf_chroot_of "$s")" = n ] && [ "$v" != n ] || continue
    pc -F "$s/chroot = $v"; say "postfix $s chroot = $v"
  done
}

# postfix.saved's smtpd chroot lines as "NAME/TYPE VALUE" (an older
# install recorded inet services by their NAME alone).
pf_saved_chroots() {
  sed -n 's/^chroot //p' "$ROOT$ETC/postfix.saved" | while read -r s v; do
    case $s in */*) ;; *) s=$s/inet ;; esac
    echo "$s $v"
  done
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

# Postfix as the instance's files have it, to tell whether they changed.
pf_state() { pc -n 2>/dev/null; pc -M 2>/dev/null; }

# A running instance reads main.cf and master.cf again only when told:
# until then, its smtpd and qmgr keep the old settings.
pf_reload() {
  [ "$(pf_state)" = "$1" ] && return 0
  postfix -c "$POSTFIX_CONFIG" status >/dev/null 2>&1 || {
    say "postfix $POSTFIX_CONFIG: not running (it reads the settings at start)"
    return 0
  }
  postfix -c "$POSTFIX_CONFIG" reload >/dev/null 2>&1 ||
    die "postfix -c $POSTFIX_CONFIG reload failed: run it by hand"
  say "postfix $POSTFIX_CONFIG reloaded"
}

# Every listener Postfix is to be given, checked before anything changes.
pf_check_listeners() {
  case " $DAEMONS " in *" acctd "*)
    ep_check "acctd's SOCKETMAP" "$(env_get acctd SOCKETMAP)" ;;
  esac
  for d in $(pf_policy_daemons); do
    ep_check "$d's LISTEN" "$(env_get "$d" LISTEN)"
  done
}

wire_postfix() {
  command -v postconf >/dev/null || PATH=$PATH:/usr/sbin
  [ -r "$POSTFIX_CONFIG/main.cf" ] ||
    die "no $POSTFIX_CONFIG/main.cf: configure Postfix first (or POSTFIX=no)"
  pf_check_listeners
  was=$(pf_state)
  pf_save
  [ -n "$RELAY_DOMAINS" ] && pf_set relay_domains "$RELAY_DOMAINS"
  case " $DAEMONS " in *" acctd "*)
    pf_recipient_map "$(ep_map "$(env_get acctd SOCKETMAP)")" ;;
  esac
  pf_set smtpd_recipient_restrictions "$(pf_restrictions)"
  [ -n "$MAILBOX_SERVER" ] && pf_set relay_transport "relay:$MAILBOX_SERVER"
  pf_chroot
  [ "$CONTENT_FILTER" = amavis ] && pf_content_filter
  pf_altconf
  pf_reload "$was"
}

# Puts back what pf_save recorded.
unwire_postfix() {
  command -v postconf >/dev/null || PATH=$PATH:/usr/sbin
  pf_unaltconf
  f=$ROOT$ETC/postfix.saved
  [ -r "$f" ] && [ -r "$POSTFIX_CONFIG/main.cf" ] || return 0
  was=$(pf_state)
  pf_saved_chroots | while read -r s v; do
    pc -F "$s/chroot = $v" 2>/dev/null || true
  done
  while read -r kind a b; do
    case $kind in
      param) v=${b#=}; v=${v# }; pc -e "$a = $v" ;;
      unset) pc -X "$a" 2>/dev/null || true ;;
    esac
  done < "$f"
  pc -MX smtp-amavis/unix 2>/dev/null || true
  pc -MX "127.0.0.1:$REINJECT_PORT/inet" 2>/dev/null || true
  rm -f "$f"
  say "postfix settings restored"
  pf_reload "$was"
}
