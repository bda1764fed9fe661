#!/usr/bin/env bash
# Every pass on every model the repository has: `nng optimize` with several flag
# combinations on each example and golden input must succeed or refuse with a user error
# (exit 1); an internal error (exit 3) or a crash is a bug in a pass. The output must read
# back (`nng print -`).
# Usage: optimize_all_test.sh NNG_BINARY
set -uo pipefail
nng=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dump_files=()

combos=(
  "-O2 --batch 4"
  "-O2 --grad --fp16 --checkpoint --streams 2 --batch 4"
  "--grad --bf16 --fuse --reuse --batch 3"
  "--prune --grad --checkpoint=budget:1KiB --batch 2"
  "--fuse --fp16 --streams 3"
)
count=0
for src in "$root"/examples/*.nn "$root"/tests/golden/inputs/*.nn; do
  for flags in "${combos[@]}"; do
    count=$((count + 1))
    # shellcheck disable=SC2086 # flags are words
    (cd "$(dirname "$src")" && "$nng" optimize $flags "$(basename "$src")") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [[ $rc -ne 0 && $rc -ne 1 ]]; then
      fail "$(basename "$src") [$flags]: exit $rc: $(head -n 5 "$tmp/err")"
    elif [[ $rc -eq 0 ]] && ! "$nng" print - <"$tmp/out" >/dev/null 2>"$tmp/err"; then
      fail "$(basename "$src") [$flags]: the output does not read back: $(head -n 5 "$tmp/err")"
    fi
  done
done
finish "optimize_all ($count runs of nng optimize)"
