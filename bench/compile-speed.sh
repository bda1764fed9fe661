#!/bin/bash
# Compile-speed benchmark of issue 4: parsing, -O2 and planning a generated model of about
# 100,000 nodes must take under 1 s. It generates the model (bench/gen_large_model.py),
# runs `nng optimize -O2 --time --batch 32` on it RUNS times (output to /dev/null) and
# prints the median of each phase that --time reports (front end, each pass with the
# verifier after it, total) against the target, then `nng check` alone.
# Phase times are wall clock (what --time measures). The process's CPU time (user+sys)
# is printed beside them: on a busy machine it is the steadier figure, and a run on an
# otherwise idle machine takes about that long.
#   bench/compile-speed.sh
#   NODES=20000 RUNS=3 bench/compile-speed.sh
# Environment: BUILD (nng's build folder, default build), NODES (100000), RUNS (5).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
nodes=${NODES:-100000}
runs=${RUNS:-5}
nng=$build/cli/nng
target_ms=1000

[ -x "$nng" ] || { echo "nng: $nng not found (cmake --build $build --target nng)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

model=$tmp/large.nn
/usr/bin/python3 "$root/bench/gen_large_model.py" --nodes "$nodes" > "$model" || exit 2
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "machine: $cpu, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model: gen_large_model.py --nodes $nodes ($(wc -l < "$model") lines); median of $runs runs"

# The median of numbers read one per line.
median() {
  sort -n | awk '{v[NR] = $1}
    END {if (NR) printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# run NAME ARGS...: runs `nng ARGS` RUNS times, keeping each run's stderr (the --time
# lines) in NAME.err.I and its times ("cpu USER SYS WALL", seconds) in NAME.cpu.I.
run() {
  local name=$1
  shift
  for i in $(seq "$runs"); do
    if ! /usr/bin/time -f "cpu %U %S %e" -o "$tmp/$name.cpu.$i" "$nng" "$@" > /dev/null \
        2> "$tmp/$name.err.$i"; then
      echo "nng $* failed:" >&2
      cat "$tmp/$name.err.$i" >&2
      exit 1
    fi
  done
}

run optimize optimize -O2 --time --batch 32 "$model"
run check check "$model"

cpu_ms() { cat "$tmp/$1".cpu.* | awk '/^cpu/ {print ($2 + $3) * 1000}' | median; }
wall_ms() { cat "$tmp/$1".cpu.* | awk '/^cpu/ {print $4 * 1000}' | median; }
verdict() { awk -v t="$1" -v g=$target_ms 'BEGIN {print (t < g) ? "met" : "NOT met"}'; }

# --time prints `time: NAME       123.4 ms  (...)`, NAME in the 10 columns after "time: ".
phase_names() {
  awk '/^time: / {name = substr($0, 7, 10); sub(/ +$/, "", name); print name}' "$1"
}
phase_ms() {
  cat "$tmp"/optimize.err.* | awk -v want="$1" '/^time: / {
    name = substr($0, 7, 10); sub(/ +$/, "", name); split(substr($0, 17), f, " ")
    if (name == want) print f[1] }' | median
}

printf "\n%-24s %10s\n" "nng optimize -O2" "median ms"
phase_names "$tmp/optimize.err.1" | while read -r p; do
  ms=$(phase_ms "$p")
  note=""
  [ "$p" = total ] && note="  (target < $target_ms ms: $(verdict "$ms"))"
  [ "$p" = print ] && note="  (not in the total)"
  printf "%-24s %10s%s\n" "$p" "$ms" "$note"
done
ms=$(cpu_ms optimize)
printf "%-24s %10s  (whole process, print included: %s)\n" "CPU user+sys" "$ms" "$(verdict "$ms")"
grep -h '^time: front' "$tmp/optimize.err.1" | sed 's/.*(/(/'

printf "\n%-24s %10s\n" "nng check" "median ms"
printf "%-24s %10s\n" "wall" "$(wall_ms check)"
printf "%-24s %10s\n" "CPU user+sys" "$(cpu_ms check)"
