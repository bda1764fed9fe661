#!/usr/bin/env bash
# Ctrl-C during `nng train`: the run stops after the current step with exit code 130,
# writes a valid safetensors checkpoint and prints the command that resumes; `--resume`
# then finishes the configured number of steps, and the resumed run ends with the
# same epoch loss and metrics log as a run that was never interrupted.
#
# Usage: sigint_test.sh NNG_BINARY
set -uo pipefail
nng=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
# One OpenMP thread: with the cores shared by parallel tests, libgomp's spin-waiting
# threads can make a run 50 times slower (reported); the timing below needs a steady pace.
export OMP_NUM_THREADS=1

tmp=$(mktemp -d)
pid=
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
dump_files=("$tmp/err1" "$tmp/out1" "$tmp/err2" "$tmp/out2" "$tmp/out3")

# About 2 s of training on an idle core: 2000 steps of one epoch, so the interrupt
# (after the first progress line, at step 200) lands mid-epoch.
total=2000
cat >"$tmp/m.nn" <<'NN'
model blobs {
  input x: f32[N, 64];
  input label: i64[N];
  logits = dense(relu(dense(relu(dense(x, 256)), 256)), 4);
  loss = cross_entropy(logits, label);
  output logits;
  minimize loss;
}
NN
cat >"$tmp/m.yaml" <<YAML
device: cpu
seed: 7
data:
  batch_size: 32
  train: { format: synthetic, synthetic: { kind: blobs, samples: 64000, features: 64, classes: 4 } }
steps: $total
checkpoint: { dir: ck, every: 0, keep: 2 }
log: { metrics: metrics.jsonl, progress: plain }
YAML

"$nng" train "$tmp/m.nn" --json >"$tmp/out1" 2>"$tmp/err1" &
pid=$!
for ((i = 0; i < 400; i++)); do
  grep -qs '^epoch 1/1  step' "$tmp/err1" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
kill -INT "$pid" 2>/dev/null
wait "$pid"
code=$?
pid=

if [[ $code -eq 0 ]]; then
  fail "training finished before the interrupt arrived (make the run longer)"
  finish sigint_test
fi
[[ $code -eq 130 ]] || fail "interrupted run: exit code $code, expected 130"
grep -q '^epoch 1/1  step 200/2000' "$tmp/err1" || fail "no progress line before the interrupt"
stopped=$(sed -n 's/^interrupted at step \([0-9]*\); checkpoint .*/\1/p' "$tmp/err1")
if [[ -z "$stopped" ]] || ((stopped < 1 || stopped >= total)); then
  fail "stderr lacks 'interrupted at step K' with 0 < K < $total"
  stopped=0
fi
grep -q -F "resume with: nng train $tmp/m.nn --resume $tmp/ck" "$tmp/err1" ||
  fail "stderr lacks 'resume with: nng train $tmp/m.nn --resume $tmp/ck'"
[[ "$(json_field "$tmp/out1" interrupted)" == true ]] || fail "--json: interrupted is not true"
[[ "$(json_field "$tmp/out1" steps)" == "$stopped" ]] || fail "--json: steps is not $stopped"

# The checkpoint: named by 'latest' and by the result, valid safetensors, holding the
# step in its metadata and every parameter.
ckpt=$(json_field "$tmp/out1" checkpoint)
printf -v want '%s/ck/checkpoint-%08d.safetensors' "$tmp" "$stopped"
[[ "$ckpt" == "$want" ]] || fail "--json: checkpoint is '$ckpt', expected '$want'"
if [[ ! -f "$want" ]]; then
  fail "no checkpoint file $want"
else
  [[ "$(cat "$tmp/ck/latest")" == "$(basename "$want")" ]] || fail "ck/latest does not name $want"
  if header=$(safetensors_header "$want" 2>"$tmp/why"); then
    grep -q '"__metadata__"' <<<"$header" || fail "the checkpoint header has no __metadata__"
    for t in logits.weight logits.bias; do
      grep -q "\"$t\":{\"dtype\":\"F32\"" <<<"$header" || fail "the checkpoint lacks tensor $t"
    done
  else
    fail "the checkpoint is not valid safetensors: $(cat "$tmp/why")"
  fi
fi

# Resuming finishes the configured steps.
"$nng" train "$tmp/m.nn" --resume "$tmp/ck" --json >"$tmp/out2" 2>"$tmp/err2"
code=$?
[[ $code -eq 0 ]] || fail "resumed run: exit code $code, expected 0"
[[ "$(json_field "$tmp/out2" steps)" == "$total" ]] || fail "resumed run: steps is not $total"
[[ "$(json_field "$tmp/out2" interrupted)" == false ]] || fail "resumed run: interrupted is not false"
printf -v last '%s/ck/checkpoint-%08d.safetensors' "$tmp" "$total"
[[ -f "$last" ]] || fail "the resumed run wrote no $last"

# The metrics log holds every step once, in order, across the interrupt.
steps=$(grep -o '"event":"step","step":[0-9]*' "$tmp/metrics.jsonl" | sed 's/.*://' | tr '\n' ' ')
[[ "$steps" == "$(seq -s ' ' 1 "$total") " ]] ||
  fail "metrics.jsonl does not hold steps 1..$total once each in order"

# An uninterrupted run of the same config ends with the same epoch loss and accuracy.
"$nng" train "$tmp/m.nn" --set checkpoint.dir=ck2 --set log.metrics=metrics2.jsonl \
  --set log.progress=none --json >"$tmp/out3" 2>&1 || fail "the uninterrupted run failed"
for k in train_loss train_acc; do
  a=$(json_field "$tmp/out2" $k)
  b=$(json_field "$tmp/out3" $k)
  [[ -n "$a" && "$a" == "$b" ]] || fail "$k after resuming is $a, without an interrupt $b"
done

finish sigint_test
