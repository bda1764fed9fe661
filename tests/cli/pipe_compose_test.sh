#!/usr/bin/env bash
# Passes compose across a pipe: for every example and pairs of passes a, b (a before b
# in the canonical order), `nng optimize A m.nn | nng optimize B -` prints exactly what
# `nng optimize A B m.nn` prints, up to the passes' trailing `# notes`, which are
# comments and so do not survive a parse.
# Usage: pipe_compose_test.sh NNG_BINARY
set -uo pipefail
nng=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dump_files=()

pairs=(
  "--prune|--fuse"
  "--fuse|--fp16"
  "--fuse|--bf16"
  "--grad|--fuse"
  "--grad --fuse|--fp16"
  "--grad|--checkpoint"
  "--grad --fuse|--reuse"
  "--prune --grad|--streams 2"
)
for src in "$root"/examples/*.nn; do
  name=$(basename "$src")
  for pair in "${pairs[@]}"; do
    a=${pair%%|*}
    b=${pair#*|}
    # shellcheck disable=SC2086 # flags are words
    if ! "$nng" optimize $a $b --batch 4 "$src" >"$tmp/direct" 2>"$tmp/err"; then
      fail "$name: nng optimize $a $b failed: $(cat "$tmp/err")"
      continue
    fi
    # shellcheck disable=SC2086
    if ! "$nng" optimize $a --batch 4 "$src" | "$nng" optimize $b --batch 4 - >"$tmp/piped" 2>"$tmp/err"; then
      fail "$name: nng optimize $a | nng optimize $b - failed: $(cat "$tmp/err")"
      continue
    fi
    sed -i 's/  # .*$//' "$tmp/direct" "$tmp/piped"
    if ! diff -u "$tmp/direct" "$tmp/piped" >"$tmp/diff"; then
      fail "$name: '$a | $b' differs from '$a $b' (- direct, + piped): $(head -n 40 "$tmp/diff")"
    fi
  done
done
finish pipe_compose
