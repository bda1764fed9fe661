#!/usr/bin/env bash
# The success path of training and using the weights, end to end: `nng train --json`
# on synthetic blobs (validation split and test set), its checkpoints and metrics log;
# `--print-config` reading back its own output; `nng eval` on the final checkpoint
# giving the training run's test numbers; `nng predict` as CSV and as .npy, checked
# against x @ W + b computed from the checkpoint's weights.
#
# Usage: train_flow_test.sh NNG_BINARY
set -uo pipefail
nng=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
# One OpenMP thread keeps the run short when parallel tests share the cores (see
# sigint_test.sh).
export OMP_NUM_THREADS=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model=$here/cases/inputs/train/tiny.nn # x: f32[N, 4] -> logits = x @ logits.weight + logits.bias
dump_files=("$tmp/out" "$tmp/err")

# 240 samples, 60 held out: 180 / 16 = 12 batches an epoch, 36 steps in 3 epochs. The
# test set is the same blobs, so accuracy there must be high.
cat >"$tmp/c.yaml" <<'YAML'
device: cpu
seed: 3
data:
  batch_size: 16
  train: { format: synthetic, synthetic: { kind: blobs, samples: 240, features: 4, classes: 3 } }
  validation: { split: 0.25 }
  test: { format: synthetic, synthetic: { kind: blobs, samples: 240, features: 4, classes: 3 } }
optimizer: { type: sgd, lr: 0.1, momentum: 0.9 }
epochs: 3
checkpoint: { dir: ck }
log: { metrics: metrics.jsonl, progress: none }
YAML

# ---- train --json
"$nng" train "$model" --config "$tmp/c.yaml" --json >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 0 ]] || fail "train: exit code $code"
[[ -s "$tmp/err" ]] && fail "train: stderr is not empty with progress: none"
[[ $(wc -l <"$tmp/out") -eq 1 ]] || fail "train --json: stdout is not one line"
[[ "$(json_field "$tmp/out" model)" == tiny ]] || fail "train --json: model is not tiny"
[[ "$(json_field "$tmp/out" steps)" == 36 ]] || fail "train --json: steps is not 36"
[[ "$(json_field "$tmp/out" epochs)" == 3 ]] || fail "train --json: epochs is not 3"
[[ "$(json_field "$tmp/out" interrupted)" == false ]] || fail "train --json: interrupted"
for k in val_acc test_acc; do
  in_range "$(json_field "$tmp/out" $k)" 0.8 1 || fail "train --json: $k is not in [0.8, 1]"
done
for k in train_loss val_loss test_loss; do
  in_range "$(json_field "$tmp/out" $k)" 0 2 || fail "train --json: $k is not a loss in [0, 2]"
done
test_loss=$(json_field "$tmp/out" test_loss)
test_acc=$(json_field "$tmp/out" test_acc)
ckpt=$(json_field "$tmp/out" checkpoint)
[[ "$ckpt" == "$tmp/ck/checkpoint-00000036.safetensors" ]] || fail "train --json: checkpoint is '$ckpt'"

# One checkpoint an epoch (checkpoint.every defaults to 1), 'latest' naming the last.
for s in 12 24 36; do
  f=$tmp/ck/checkpoint-000000$s.safetensors
  if [[ ! -f "$f" ]]; then
    fail "no checkpoint $f"
  elif ! safetensors_header "$f" >/dev/null 2>"$tmp/why"; then
    fail "not valid safetensors: $(cat "$tmp/why")"
  fi
done
[[ "$(cat "$tmp/ck/latest" 2>/dev/null)" == checkpoint-00000036.safetensors ]] ||
  fail "ck/latest does not name the step-36 checkpoint"

# The metrics log: 36 step events, 3 epoch events with validation numbers, 1 test event
# agreeing with the result.
m=$tmp/metrics.jsonl
[[ $(grep -c '^{"event":"step"' "$m") -eq 36 ]] || fail "metrics.jsonl: not 36 step events"
[[ $(grep '^{"event":"epoch"' "$m" | grep -c '"val_acc":') -eq 3 ]] ||
  fail "metrics.jsonl: not 3 epoch events with val_acc"
grep -q -F "{\"event\":\"test\",\"test_loss\":$test_loss,\"test_acc\":$test_acc}" "$m" ||
  fail "metrics.jsonl: no test event with the result's numbers"

# ---- --print-config: the printed config is a config that prints the same again
"$nng" train "$model" --config "$tmp/c.yaml" --print-config >"$tmp/p1.yaml" 2>"$tmp/err" ||
  fail "--print-config failed: $(cat "$tmp/err")"
"$nng" train "$model" --config "$tmp/p1.yaml" --print-config >"$tmp/p2.yaml" 2>"$tmp/err" ||
  fail "--print-config of the printed config failed: $(cat "$tmp/err")"
cmp -s "$tmp/p1.yaml" "$tmp/p2.yaml" || fail "--print-config does not read back to the same text"
grep -q -F "dir: \"$tmp/ck\"" "$tmp/p1.yaml" || fail "--print-config: checkpoint.dir is not absolute"
grep -q '^model: "tiny"$' "$tmp/p1.yaml" || fail "--print-config: model is not filled in"
grep -q '^  lr: 0.1$' "$tmp/p1.yaml" || fail "--print-config: optimizer.lr is not 0.1"
grep -q '^  weight_decay: 0$' "$tmp/p1.yaml" || fail "--print-config: defaults are not written out"
# A --set value shows in the printed config.
"$nng" train "$model" --config "$tmp/c.yaml" --set data.batch_size=7 --print-config |
  grep -q '^  batch_size: 7$' || fail "--print-config: --set data.batch_size=7 does not show"

# ---- eval: the final checkpoint gives the training run's test numbers
"$nng" eval "$model" --config "$tmp/c.yaml" --weights "$ckpt" --json >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 0 ]] || fail "eval: exit code $code: $(cat "$tmp/err")"
[[ "$(json_field "$tmp/out" samples)" == 240 ]] || fail "eval --json: samples is not 240"
[[ "$(json_field "$tmp/out" test_loss)" == "$test_loss" ]] || fail "eval: test_loss differs from train's"
[[ "$(json_field "$tmp/out" test_acc)" == "$test_acc" ]] || fail "eval: test_acc differs from train's"
"$nng" eval "$model" --config "$tmp/c.yaml" --weights "$ckpt" >"$tmp/out" 2>&1
grep -q '^test loss: [0-9.]* (240 samples)$' "$tmp/out" || fail "eval: no 'test loss: L (240 samples)' line"
grep -q '^test accuracy: [0-9.]*%$' "$tmp/out" || fail "eval: no 'test accuracy: A%' line"

# ---- predict: logits = x @ W + b for each row, as CSV and as .npy
printf '1.0,2.0,3.0,4.0\n-1,0.5,2,0\n0,0,0,0\n' >"$tmp/in.csv"
"$nng" predict "$model" -w "$ckpt" -i "$tmp/in.csv" >"$tmp/pred.csv" 2>"$tmp/err"
code=$?
[[ $code -eq 0 ]] || fail "predict: exit code $code: $(cat "$tmp/err")"
[[ -s "$tmp/err" ]] && fail "predict: wrote to stderr"
[[ $(wc -l <"$tmp/pred.csv") -eq 3 ]] || fail "predict: not 3 rows"
[[ $(awk -F, 'NF != 3' "$tmp/pred.csv" | wc -l) -eq 0 ]] || fail "predict: a row without 3 values"
safetensors_f32 "$ckpt" logits.weight >"$tmp/w" || fail "the checkpoint has no logits.weight"
safetensors_f32 "$ckpt" logits.bias >"$tmp/b" || fail "the checkpoint has no logits.bias"
[[ $(wc -l <"$tmp/w") -eq 12 && $(wc -l <"$tmp/b") -eq 3 ]] || fail "weights of the wrong size"
# Expected logits from the weights (row-major W[4][3]), compared with 1e-4 tolerance.
awk -F, -v wf="$tmp/w" -v bf="$tmp/b" '
  BEGIN { for (i = 0; (getline v < wf) > 0; i++) w[i] = v; for (i = 0; (getline v < bf) > 0; i++) b[i] = v }
  FILENAME == ARGV[1] { for (j = 1; j <= 4; j++) x[FNR, j - 1] = $j; next }
  { for (c = 0; c < 3; c++) {
      want = b[c]; for (j = 0; j < 4; j++) want += x[FNR, j] * w[j * 3 + c]
      d = $(c + 1) - want; if (d < 0) d = -d
      if (d > 1e-4 * (1 + (want < 0 ? -want : want))) { print "row " FNR " col " c ": " $(c + 1) " != " want; bad = 1 } } }
  END { exit bad }' "$tmp/in.csv" "$tmp/pred.csv" >"$tmp/why" ||
  fail "predict: logits are not x @ W + b: $(head -n 3 "$tmp/why")"

"$nng" predict "$model" -w "$ckpt" -i "$tmp/in.csv" -o "$tmp/pred.npy" >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 0 ]] || fail "predict -o: exit code $code: $(cat "$tmp/err")"
[[ -s "$tmp/out" ]] && fail "predict -o: wrote to stdout"
if [[ ! -f "$tmp/pred.npy" ]]; then
  fail "predict -o wrote no file"
else
  [[ "$(head -c 6 "$tmp/pred.npy" | tail -c 5)" == NUMPY ]] || fail "pred.npy: no NUMPY magic"
  hlen=$(od -An -tu2 -j8 -N2 "$tmp/pred.npy" | tr -d ' ')
  header=$(head -c $((10 + hlen)) "$tmp/pred.npy" | tail -c "$hlen")
  grep -q -F "'descr': '<f4'" <<<"$header" || fail "pred.npy: dtype is not <f4: $header"
  grep -q -E "'shape': \(3, ?3\)" <<<"$header" || fail "pred.npy: shape is not (3, 3): $header"
  [[ $(($(wc -c <"$tmp/pred.npy") - 10 - hlen)) -eq 36 ]] || fail "pred.npy: not 36 data bytes"
  # The same numbers as the CSV (printed with 7 significant digits).
  tail -c 36 "$tmp/pred.npy" | od -An -v -tf4 | tr -s ' ' '\n' | sed '/^$/d' >"$tmp/npyvals"
  tr ',' '\n' <"$tmp/pred.csv" | paste - "$tmp/npyvals" | awk '
    { d = $1 - $2; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2
      if (d > 1e-6 * (1 + m)) { print $1 " != " $2; bad = 1 } }
    END { exit bad || NR != 9 }' >"$tmp/why" ||
    fail "pred.npy differs from the CSV output: $(head -n 3 "$tmp/why")"
fi

# ---- train --profile: kernel time per op, then the costliest nodes, each with the
# source line it comes from. The step has 9 nodes, under the 12 listed, so each is
# there once; the updates run once a step; both tables' shares add up to 100%.
"$nng" train "$model" --config "$tmp/c.yaml" --steps 5 --profile --json \
  --set checkpoint.dir="$tmp/ck_profile" >"$tmp/out" 2>"$tmp/err"
code=$?
[[ $code -eq 0 ]] || fail "train --profile: exit code $code"
[[ $(wc -l <"$tmp/out") -eq 1 ]] || fail "train --profile --json: stdout is not one line"
grep -q -x "profile (kernel time per training step):" "$tmp/err" ||
  fail "train --profile: no profile heading on stderr"
ops=$(sed -n '/^  op /,/^  total /p' "$tmp/err" | sed '1d;$d')
for op in matmul add cross_entropy cross_entropy_grad constant matmul_grad sum_to sgd_update; do
  [[ $(awk -v op=$op '$1 == op' <<<"$ops" | wc -l) -eq 1 ]] || fail "train --profile: no row for op $op"
done
[[ $(awk '$1 == "sgd_update" { print $4 }' <<<"$ops") == 2.0 ]] ||
  fail "train --profile: sgd_update is not 2.0 calls a step"
nodes=$(sed -n '/^  costliest nodes /,$p' "$tmp/err" | sed '1d')
[[ $(wc -l <<<"$nodes") -eq 9 ]] || fail "train --profile: not 9 node rows: $nodes"
grep -q -E "^  loss +cross_entropy .* $model:7:10\$" <<<"$nodes" ||
  fail "train --profile: no row for loss with its source line"
grep -q -E "^  optim\.logits\.weight\.updated +sgd_update .* $model:6:12\$" <<<"$nodes" ||
  fail "train --profile: no row for the weight update with its source line"
for table in "$ops" "$nodes"; do
  awk '{ for (i = 1; i <= NF; ++i) if ($i ~ /%$/) s += $i } END { exit !(s > 99.4 && s < 100.6) }' \
    <<<"$table" ||
    fail "train --profile: shares do not add up to 100%: $table"
done
awk '$1 == "total" { t = $2 } END { exit !(t > 0) }' "$tmp/err" ||
  fail "train --profile: no positive total"

finish train_flow_test
