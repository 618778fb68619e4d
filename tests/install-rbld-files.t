#!/bin/sh
# tests/install-rbld-files.t - package/install's rbld_files (settings.sh)
# makes the files rbld's ZONES name that are missing, and never writes
# through a link there, dangling or not (it once created a dangling
# link's target as root: the data directory is rbld's user's).
TOP=$IMGATE_TOP
. "$TOP/tests/lib/common.sh"
S=$(t_tmpdir)
mkdir -p "$S/data/rbld" "$S/victim"
ln -s "$S/victim/made-by-install" "$S/data/rbld/black6"
echo "# the site's" > "$S/victim/white-real"
ln -s "$S/victim/white-real" "$S/data/rbld/white"
env_get() {
  [ "$2" = ZONES ] && cat "$TOP/package/rbld/env/ZONES"
  [ "$2" = ROOT ] && echo "$S/data/rbld"
}
say() { :; }
. "$TOP/package/gateway/settings.sh"
rbld_files
t_eq "$(ls "$S/victim")" "white-real" "a dangling link is not written through"
t_eq "$(cat "$S/victim/white-real")" "# the site's" "a link's target is kept"
t_eq "$(cd "$S/data/rbld" && for f in local.soa black white black6 white6; do
        if [ -L "$f" ]; then printf '%s:link ' "$f"
        else printf '%s:%s ' "$f" "$(stat -c %a "$f")"; fi; done)" \
  "local.soa:644 black:644 white:link black6:link white6:644 " \
  "the missing files are made, the links left"
t_eq "$(cmp -s "$S/data/rbld/local.soa" "$TOP/conf/rbld/local.soa" &&
        echo same)" same "local.soa is conf/rbld's"
