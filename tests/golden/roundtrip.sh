#!/usr/bin/env bash
# The round-trip property: what `nng print` writes reads back as the same graph, so
# `nng print F | nng print -` is byte for byte `nng print F`.
# Usage: roundtrip.sh NNG_BINARY SOURCE
set -uo pipefail
nng=$(realpath "$1")
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$(dirname "$src")" || exit 1
name=$(basename "$src")

if ! "$nng" print "$name" >"$tmp/once" 2>"$tmp/err"; then
  echo "FAIL $name: nng print failed:"
  cat "$tmp/err"
  exit 1
fi
if ! "$nng" print "$name" | "$nng" print - >"$tmp/twice" 2>"$tmp/err"; then
  echo "FAIL $name: the printed form does not read back:"
  cat "$tmp/err"
  echo "--- the printed form:"
  cat -n "$tmp/once"
  exit 1
fi
if ! diff -u "$tmp/once" "$tmp/twice"; then
  echo "FAIL $name: printing the printed form changed it (- first print, + second print)"
  exit 1
fi
echo "ok $name round-trips"
