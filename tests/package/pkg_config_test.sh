#!/bin/sh
# Builds and runs the consumer against an installed wsenergy with nothing but pkg-config's flags.
# Usage: pkg_config_test.sh PREFIX DATADIR CXX SOURCE OUTPUT
set -eu
export PKG_CONFIG_PATH="$1/$2/pkgconfig"
flags=$(pkg-config --cflags --libs wsenergy)
[ "$(pkg-config --modversion wsenergy)" = "$6" ] || {
  echo "pkg-config version $(pkg-config --modversion wsenergy), expected $6" >&2; exit 1; }
# shellcheck disable=SC2086 # the flags are words
"$3" "$4" $flags -o "$5"
"$5"
