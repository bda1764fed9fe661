# Shared by check.sh, roundtrip.sh and update.sh (sourced, not run).
# A golden case is a source file and a name: tests/golden/inputs/NAME.nn, or
# examples/NAME.nn under the name example_NAME. Its expected outputs are
# tests/golden/expected/NAME.FORMAT for each format its "# golden:" header line names
# (default: nn only). A source with an "# optimize: FLAGS" header line is a pass golden
# test: its output is `nng optimize FLAGS` instead of `nng print`.

golden_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$golden_dir/../.." && pwd)

# Prints "NAME PATH" for every golden case.
golden_cases() {
  local f
  for f in "$golden_dir"/inputs/*.nn; do
    echo "$(basename "$f" .nn) $f"
  done
  for f in "$repo_dir"/examples/*.nn; do
    echo "example_$(basename "$f" .nn) $f"
  done
}

# The formats a source is compared in.
golden_formats() {
  local line
  line=$(sed -n 's/^# golden:[[:space:]]*//p' "$1" | head -n 1)
  echo "${line:-nn}"
}

# golden_print NNG FILE FORMAT OUT: prints FILE in FORMAT into OUT. Runs in FILE's folder
# with its bare name, so locations in the output do not depend on where the repo is.
golden_print() {
  local flags
  flags=$(sed -n 's/^# optimize:[[:space:]]*//p' "$2" | head -n 1)
  if [[ -n "$flags" ]]; then
    # shellcheck disable=SC2086 # the flags are words
    (cd "$(dirname "$2")" && "$1" optimize $flags --format "$3" "$(basename "$2")") >"$4"
  else
    (cd "$(dirname "$2")" && "$1" print --format "$3" "$(basename "$2")") >"$4"
  fi
}
