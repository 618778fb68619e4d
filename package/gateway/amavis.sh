# package/gateway/amavis.sh - sourced by package/install and uninstall:
# amavisd-new's side of layer 4 (CONTENT_FILTER=amavis; Postfix's side
# is in postfix.sh).
#   - conf/gateway/amavis.conf becomes AMAVIS_CONF/60-imgate (after
#     Debian's files, so it overrides them), under ROOT.  A file already
#     there is the site's and is kept, as env/ files are.
#   - clamav joins group amavis: clamd must read amavis's temporary
#     files (Debian's README.Debian of amavisd-new asks the same).
# What was done is kept in ETC/amavis.done for uninstall: "group" when
# clamav was added to amavis here (not when it was in it already).
# amavisd-new must be restarted to read the new file.

AMAVIS_CONF=${AMAVIS_CONF:-/etc/amavis/conf.d}

amavis_done() { grep -qx "$1" "$ROOT$ETC/amavis.done" 2>/dev/null; }
amavis_record() {
  mkdir -p "$ROOT$ETC"
  amavis_done "$1" || echo "$1" >> "$ROOT$ETC/amavis.done"
}

install_amavis() {
  f=$ROOT$AMAVIS_CONF/60-imgate
  if [ ! -e "$f" ]; then
    mkdir -p "${f%/*}"
    cp "$TOP/conf/gateway/amavis.conf" "$f.new" && chmod 644 "$f.new" &&
      mv -f "$f.new" "$f"
    say "amavis $f (restart amavisd-new to read it)"
  fi
  if ! id -u clamav >/dev/null 2>&1 || ! getent group amavis >/dev/null
  then
    say "warning: no user clamav or no group amavis: install" \
      "amavisd-new and clamav-daemon (package/deps), then run this again"
    return 0
  fi
  case " $(id -nG clamav) " in *" amavis "*) return 0 ;; esac
  usermod -a -G amavis clamav
  amavis_record group
  say "user clamav in group amavis"
}

# Undoes install_amavis: the file only if it is still the package's
# (a site's edit is kept, and said), the group only if added here.
uninstall_amavis() {
  f=$ROOT$AMAVIS_CONF/60-imgate
  if [ -e "$f" ]; then
    if cmp -s "$f" "$TOP/conf/gateway/amavis.conf"; then
      rm -f "$f"; say "amavis $f removed"
    else
      say "amavis $f kept: it differs from conf/gateway/amavis.conf"
    fi
  fi
  if amavis_done group; then
    case " $(id -nG clamav 2>/dev/null) " in *" amavis "*)
      gpasswd -d clamav amavis >/dev/null && say "user clamav out of group amavis" ;;
    esac
  fi
  rm -f "$ROOT$ETC/amavis.done"
}
