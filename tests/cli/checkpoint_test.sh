#!/usr/bin/env bash
# Checkpoints of `nng train`, end to end: the final weights are saved even when the
# last epoch is not a multiple of checkpoint.every, so the checkpoint a run reports
# reproduces its test numbers under `nng eval`; checkpoint.keep prunes old files;
# resuming a finished run does nothing more; a checkpoint of another model or seed is
# refused with a message naming it.
#
# Usage: checkpoint_test.sh NNG_BINARY
set -uo pipefail
nng=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
export OMP_NUM_THREADS=1 # see sigint_test.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inputs=$here/cases/inputs
dump_files=("$tmp/out" "$tmp/err")

# 180 training samples in batches of 16: 12 steps an epoch, 36 in 3 epochs.
cat >"$tmp/c.yaml" <<'YAML'
device: cpu
seed: 3
data:
  batch_size: 16
  train: { format: synthetic, synthetic: { kind: blobs, samples: 180, features: 4, classes: 3 } }
  test: { format: synthetic, synthetic: { kind: blobs, samples: 60, features: 4, classes: 3 } }
optimizer: { type: sgd, lr: 0.1 }
epochs: 3
checkpoint: { dir: ck, every: 2, keep: 1 }
log: { metrics: "", progress: none }
YAML
train() { "$nng" train "$inputs/train/tiny.nn" --config "$tmp/c.yaml" "$@"; }

# ---- every: 2 over 3 epochs: checkpoints at step 24 and, at the end, step 36
train --json >"$tmp/out" 2>"$tmp/err" || fail "train: exit code $?"
final=$tmp/ck/checkpoint-00000036.safetensors
[[ "$(json_field "$tmp/out" checkpoint)" == "$final" ]] ||
  fail "train reports checkpoint '$(json_field "$tmp/out" checkpoint)', expected the final $final"
[[ -f "$final" ]] || fail "the final weights (step 36) were not saved"
[[ "$(cat "$tmp/ck/latest" 2>/dev/null)" == "$(basename "$final")" ]] ||
  fail "ck/latest is '$(cat "$tmp/ck/latest" 2>/dev/null)', expected $(basename "$final")"
count=$(find "$tmp/ck" -name 'checkpoint-*.safetensors' | wc -l)
[[ $count -eq 1 ]] || fail "keep: 1 left $count checkpoints"
ckpt=$(json_field "$tmp/out" checkpoint)
if [[ -f "$ckpt" ]]; then
  "$nng" eval "$inputs/train/tiny.nn" --config "$tmp/c.yaml" -w "$ckpt" --json >"$tmp/eval" 2>&1 ||
    fail "eval of the reported checkpoint failed: $(cat "$tmp/eval")"
  for k in test_loss test_acc; do
    [[ "$(json_field "$tmp/eval" $k)" == "$(json_field "$tmp/out" $k)" ]] ||
      fail "eval of the reported checkpoint: $k $(json_field "$tmp/eval" $k), train said $(json_field "$tmp/out" $k)"
  done
fi

# ---- resuming a finished run trains no further
train --resume "$tmp/ck" --json >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 0 ]] || fail "resume of a finished run: exit code $code: $(head -n 2 "$tmp/err")"
[[ "$(json_field "$tmp/out" steps)" == 36 ]] || fail "resume of a finished run: steps is not 36"

# ---- a checkpoint of another model, or made with another seed
latest=$tmp/ck/$(cat "$tmp/ck/latest" 2>/dev/null)
"$nng" train "$inputs/good.nn" --config "$tmp/c.yaml" --resume "$latest" >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 1 ]] || fail "resume with another model: exit code $code, expected 1"
grep -q -F "nng: error: $latest: checkpoint of model 'tiny', not 'good'" "$tmp/err" ||
  fail "resume with another model: unexpected message: $(head -n 2 "$tmp/err")"
train --resume "$latest" --set seed=9 >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 1 ]] || fail "resume with another seed: exit code $code, expected 1"
grep -q -F "nng: error: $latest: checkpoint was made with seed 3, the config says 9" "$tmp/err" ||
  fail "resume with another seed: unexpected message: $(head -n 2 "$tmp/err")"
# Weights that lack one of the model's parameters are refused by eval, naming it.
"$nng" eval "$inputs/good.nn" --config "$tmp/c.yaml" -w "$latest" >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 1 ]] || fail "eval with another model's weights: exit code $code, expected 1"
grep -q -F "nng: error: $latest: no tensor 'logits_1.weight' (the model's parameter)" "$tmp/err" ||
  fail "eval with another model's weights: unexpected message: $(head -n 2 "$tmp/err")"

finish checkpoint_test
