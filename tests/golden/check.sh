#!/usr/bin/env bash
# Golden test of one source: `nng print --format F` must equal, byte for byte, the
# reviewed expected/NAME.F for every format F the source's "# golden:" line names.
# Usage: check.sh NNG_BINARY NAME SOURCE
set -uo pipefail
source "$(dirname "$0")/lib.sh"
nng=$(realpath "$1")
name=$2
src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
for fmt in $(golden_formats "$src"); do
  expected="$golden_dir/expected/$name.$fmt"
  if [[ ! -f "$expected" ]]; then
    echo "FAIL $name.$fmt: no expected output; run tests/golden/update.sh BUILD_DIR and review it"
    status=1
    continue
  fi
  if ! golden_print "$nng" "$src" "$fmt" "$tmp/out.$fmt" 2>"$tmp/err"; then
    echo "FAIL $name.$fmt: nng print failed:"
    cat "$tmp/err"
    status=1
    continue
  fi
  if diff -u "$expected" "$tmp/out.$fmt" >"$tmp/diff"; then
    echo "ok $name.$fmt"
  else
    echo "FAIL $name.$fmt differs from tests/golden/expected/$name.$fmt (- expected, + got):"
    head -n 200 "$tmp/diff"
    status=1
  fi
done
exit $status
