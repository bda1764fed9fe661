#!/usr/bin/env bash
# Every primitive op is golden-tested: each op in the table of docs/ops.md (which the
# ops unit test keeps equal to the registry) appears as `= OP(` in some expected/*.nn.
# An op added without a golden input that uses it fails here.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ops=$(sed -n 's/^| `\([a-z_0-9]*\)`.*/\1/p' "$repo_dir/docs/ops.md" | sort -u)
if [[ -z "$ops" ]]; then
  echo "FAIL: no op rows ('| \`name\` |') found in docs/ops.md"
  exit 1
fi
missing=()
for op in $ops; do
  grep -q -F -- "= $op(" "$golden_dir"/expected/*.nn || missing+=("$op")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "FAIL: no golden input uses: ${missing[*]} (add one to tests/golden/inputs/)"
  exit 1
fi
echo "ok: all $(wc -w <<<"$ops") ops of docs/ops.md appear in the golden outputs"
