#!/bin/bash
# nng's CPU training benchmark: trains the Fashion-MNIST MLP (examples/mlp.nn, 784-512-256-10)
# with nng and with PyTorch on the same machine, same data, batch, optimizer and thread count,
# and prints a table with the ratio nng/PyTorch. Exits non-zero when nng's row is unavailable.
#   bench/train-mlp.sh                 # 1 epoch, 2 threads, nng from build/
#   BUILD=build-cpu EPOCHS=3 bench/train-mlp.sh
# Environment: BUILD (nng's build folder, default build), EPOCHS (1), THREADS (2).
# PyTorch must use OpenBLAS, not the reference BLAS: see bench/setup-peers.sh.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
epochs=${EPOCHS:-1}
threads=${THREADS:-2}
py=/usr/bin/python3 # Debian's python, the one with python3-torch (not a pyenv shim)

# Both frameworks are OpenMP + OpenBLAS (openmp flavour), so one variable sets both.
export OMP_NUM_THREADS=$threads
# OpenBLAS picks SSE3 kernels on a CPU model it does not know (this VM's); nng corrects
# that itself (cli/main.cpp), so PyTorch, on the same OpenBLAS, gets the same kernels.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q -m1 avx512f /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "machine: $cpu, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# With 2 OpenMP threads, any other busy process costs both frameworks far more than its share
# (a thread that waits at a barrier for a descheduled partner), so say when timings are suspect.
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l >= 0.5) }'; then
  echo "warning: load average $load1 before the run: other processes compete for the CPUs," \
    "so both rows are slower than on a quiet machine and their ratio is noisy" >&2
fi
echo "run: $epochs epoch(s), batch 128, $threads threads"

# nng first, while the PyTorch run cannot have warmed anything for it.
nng=$build/cli/nng
nng_ok=0
if [ ! -x "$nng" ]; then
  echo "nng: $nng not found (build it: cmake --build $build --target nng)" >&2
else
  # Checkpoints and metrics go to a scratch folder, not examples/runs; they are written
  # outside the timed steps either way. Progress lines go to stderr, kept for errors.
  if (cd "$tmp" && "$nng" train "$root/examples/mlp.nn" --epochs "$epochs" --json \
      --set device=cpu --set "checkpoint.dir=$tmp/runs" --set "log.metrics=''" \
      --set log.progress=none) >"$tmp/nng.json" 2>"$tmp/nng.err"; then
    nng_ok=1
  else
    echo "nng: 'nng train' failed:" >&2
    tail -n 20 "$tmp/nng.err" >&2
  fi
fi

if ! "$py" "$root/bench/pytorch_mlp.py" --epochs "$epochs" --threads "$threads" --json \
    >"$tmp/torch.json" 2>"$tmp/torch.err"; then
  echo "pytorch: bench/pytorch_mlp.py failed:" >&2
  tail -n 20 "$tmp/torch.err" >&2
  exit 2
fi

NNG_OK=$nng_ok "$py" - "$tmp/nng.json" "$tmp/torch.json" <<'EOF'
import json, os, sys

def load(path):
    with open(path) as f:
        text = f.read().strip()
    # One JSON object on stdout; take the last line in case anything precedes it.
    return json.loads(text.splitlines()[-1])

torch = load(sys.argv[2])
nng = None
if os.environ["NNG_OK"] == "1":
    try:
        nng = load(sys.argv[1])
    except (ValueError, IndexError) as e:
        print(f"nng: its --json output does not parse: {e}", file=sys.stderr)

def pct(acc):
    return "n/a" if acc is None else f"{100 * acc:.1f}%"

rows = [("framework", "samples/s", "median step ms", "test acc", "peak RSS MB")]
for name, r in (("nng", nng), ("pytorch", torch)):
    if r is None:
        rows.append((name, "unavailable", "", "", ""))
    else:
        rows.append((name, f"{r['samples_per_s']:.0f}", f"{r['step_ms_median']:.2f}",
                     pct(r.get("test_acc")), f"{r['peak_rss_mb']:.0f}"))
widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
for row in rows:
    print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(row, widths))))
print(f"pytorch {torch['torch_version']}, BLAS: {', '.join(torch['blas']) or 'none mapped'}")
if nng is None:
    print("ratio nng/pytorch: unavailable (nng's row is missing)")
    sys.exit(1)
ratio = nng["samples_per_s"] / torch["samples_per_s"]
print(f"ratio nng/pytorch (samples/s): {ratio:.2f}x"
      f" ({'nng at least as fast' if ratio >= 1 else 'nng slower'})")
EOF
