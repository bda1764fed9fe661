#!/usr/bin/env bash
# `nng grad`, `nng gradcheck` and `nng run`, end to end: the printed backward graph
# parses back to the same text; gradcheck passes on the example MLP; and `nng run` on
# `nng grad`'s output computes a gradient whose values are checked by hand: with every
# input row equal, dL/dW[i][c] = p_c - (share of class c in the labels) for every i.
#
# Usage: grad_flow_test.sh NNG_BINARY
set -uo pipefail
nng=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
export OMP_NUM_THREADS=1 # see sigint_test.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dump_files=("$tmp/out" "$tmp/err")

# ---- grad | print - prints the same text as grad, for every example
for f in "$root"/examples/*.nn; do
  name=$(basename "$f")
  "$nng" grad "$f" >"$tmp/g1.nn" 2>"$tmp/err" || fail "grad $name failed: $(head -n 2 "$tmp/err")"
  "$nng" grad "$f" | "$nng" print - >"$tmp/g2.nn" 2>"$tmp/err" ||
    fail "grad $name | print - failed: $(head -n 2 "$tmp/err")"
  cmp -s "$tmp/g1.nn" "$tmp/g2.nn" || fail "grad $name | print - differs from grad $name"
done
# The MLP's backward graph has a gradient output per parameter.
"$nng" grad "$root/examples/mlp.nn" >"$tmp/g1.nn"
for p in fc1.weight fc1.bias fc2.weight fc2.bias logits.weight logits.bias; do
  grep -q "^  output grad\.$p;$" "$tmp/g1.nn" || fail "grad mlp.nn: no 'output grad.$p;'"
done

# ---- gradcheck
"$nng" gradcheck "$root/examples/mlp.nn" >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 0 ]] || fail "gradcheck mlp.nn: exit code $code"
[[ -s "$tmp/err" ]] && fail "gradcheck mlp.nn: wrote to stderr"
[[ "$(tail -n 1 "$tmp/out")" == "ok: every gradient within 1e-06 relative error" ]] ||
  fail "gradcheck mlp.nn: the last line is not 'ok: ...'"
[[ $(grep -c -E '^(fc1|fc2|logits)\.(weight|bias) ' "$tmp/out") -eq 6 ]] ||
  fail "gradcheck mlp.nn: not one line per parameter"
grep -q FAIL "$tmp/out" && fail "gradcheck mlp.nn: a FAIL line"
# A tolerance nothing can meet makes it fail with exit 1.
"$nng" gradcheck "$root/examples/mlp.nn" --tolerance 1e-30 >"$tmp/out" 2>&1
code=$?
[[ $code -eq 1 ]] || fail "gradcheck --tolerance 1e-30: exit code $code, expected 1"
grep -q '^FAILED: some gradients differ' "$tmp/out" || fail "gradcheck --tolerance 1e-30: no FAILED line"

# ---- run on grad's output: tiny.nn is logits = x @ W + b, mean cross-entropy
inputs=$here/cases/inputs/train # x.npy: f32[4, 4] of ones; labels.npy: i64 [0, 1, 2, 0]
out=$tmp/grads.safetensors
"$nng" grad "$inputs/tiny.nn" | "$nng" run - --feed "x=$inputs/x.npy" \
  --feed "label=$inputs/labels.npy" --fetch grad.logits.weight --fetch loss --seed 5 -o "$out" \
  >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 0 ]] || fail "grad | run -: exit code $code: $(head -n 3 "$tmp/err")"
[[ -s "$tmp/out" || -s "$tmp/err" ]] && fail "grad | run -: printed something"
if [[ ! -f "$out" ]]; then
  fail "run wrote no $out"
elif ! header=$(safetensors_header "$out" 2>"$tmp/why"); then
  fail "run: not valid safetensors: $(cat "$tmp/why")"
else
  grep -q '"grad.logits.weight":{"dtype":"F32","shape":\[4,3\]' <<<"$header" ||
    fail "run: no F32 [4, 3] tensor grad.logits.weight in $header"
  grep -q '"loss":{"dtype":"F32","shape":\[\]' <<<"$header" || fail "run: no scalar loss in $header"
  grep -q '"grad.logits.bias"' <<<"$header" && fail "run: wrote a value that was not fetched"
  safetensors_f32 "$out" grad.logits.weight >"$tmp/g"
  safetensors_f32 "$out" loss >"$tmp/loss"
  # Every row equal; p_c = g_c + share_c is a distribution; the loss is
  # -(2 log p0 + log p1 + log p2) / 4 (labels 0, 1, 2, 0).
  awk -v lossf="$tmp/loss" '
    { g[NR - 1] = $1 }
    END {
      getline loss < lossf
      if (NR != 12) { print "grad has " NR " values, expected 12"; exit 1 }
      for (i = 1; i < 4; i++) for (c = 0; c < 3; c++)
        if (g[i * 3 + c] != g[c]) { print "row " i " differs from row 0"; exit 1 }
      p0 = g[0] + 0.5; p1 = g[1] + 0.25; p2 = g[2] + 0.25
      if (p0 <= 0 || p1 <= 0 || p2 <= 0) { print "p is not positive: " p0 " " p1 " " p2; exit 1 }
      s = p0 + p1 + p2 - 1; if (s < 0) s = -s
      if (s > 1e-6) { print "p sums to " p0 + p1 + p2; exit 1 }
      if (g[0] == 0 && g[1] == 0) { print "the gradient is zero"; exit 1 }
      want = -(2 * log(p0) + log(p1) + log(p2)) / 4; d = loss - want; if (d < 0) d = -d
      if (d > 1e-5 * (1 + want)) { print "loss " loss ", expected " want; exit 1 }
    }' "$tmp/g" >"$tmp/why" || fail "run: wrong gradient values: $(cat "$tmp/why")"
fi
# Fetching a value the model lacks is an input error.
"$nng" grad "$inputs/tiny.nn" | "$nng" run - --feed "x=$inputs/x.npy" --fetch grad.nope -o "$tmp/x" \
  >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 1 ]] || fail "run --fetch grad.nope: exit code $code, expected 1"
grep -q -F "nng: error: --fetch grad.nope: model 'tiny' has no value 'grad.nope'" "$tmp/err" ||
  fail "run --fetch grad.nope: unexpected message: $(head -n 2 "$tmp/err")"

finish grad_flow_test
