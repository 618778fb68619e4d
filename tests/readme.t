#!/bin/sh
# tests/readme.t - README is what doc/mkreadme makes of its parts, so a
# daemon's section edited in doc/README.NAME cannot drift from README.
TOP=$IMGATE_TOP
. "$TOP/tests/lib/common.sh"
D=$(t_tmpdir)
"$TOP/doc/mkreadme" "$D/README"
if cmp -s "$D/README" "$TOP/README"; then
  echo "ok - README is doc/mkreadme's assembly of doc/README.*"
else
  echo "not ok - README differs from doc/mkreadme's output (run doc/mkreadme)"
  diff "$TOP/README" "$D/README" | head -20
fi
