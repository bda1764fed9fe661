#!/usr/bin/env bash
# Runs one end-to-end case of the nng command line and checks its exit code, stdout
# and stderr against the directives in the case file's header comment:
#
#   # args: print --format dot {file}   arguments to nng ({file}: the case file itself);
#                                       default: check {file}; an empty value: no argument
#   # stdin: inputs/good.nn             file fed to standard input (default: /dev/null)
#   # expect-exit: 1                    the exit code (required)
#   # expect-stderr: did you mean       a substring of stderr (repeatable)
#   # expect-stdout: model mlp {        a substring of stdout (repeatable)
#   # expect-stderr-first: TEXT         the exact first line of stderr
#   # expect-stdout-first: TEXT         the exact first line of stdout
#   # expect-not-stderr: TEXT           a substring stderr must not contain (repeatable)
#   # expect-errors: 3                  the number of "error:" lines in stderr
#
# Rules every case obeys as well: no "internal error", crash or sanitizer report; no
# output on stdout when nng fails (unless expect-stdout says what); nothing on stderr
# when it succeeds (unless expect-stderr says what); stderr is printable ASCII; an input
# error (exit 1) starts with a "...: error: " line; nng ends within 20 seconds.
#
# Usage: run_case.sh NNG_BINARY CASE_FILE   (cases live in tests/cli/cases/)
set -uo pipefail

nng=$(realpath "$1")
case_dir=$(dirname "$2")
case_file=$(basename "$2")
cd "$case_dir" || exit 1

# All values of one directive, one per line.
directive() { sed -n "s/^# $1:[[:space:]]\{0,1\}//p" "$case_file"; }

failures=()
fail() { failures+=("$1"); }

if grep -q '^# args:' "$case_file"; then
  args_line=$(directive args | head -n 1)
else
  args_line="check {file}"
fi
args_line=${args_line//\{file\}/$case_file}
read -r -a args <<<"$args_line"
stdin_file=$(directive stdin | head -n 1)
[[ -z "$stdin_file" ]] && stdin_file=/dev/null
expect_exit=$(directive expect-exit | head -n 1)
if [[ -z "$expect_exit" ]]; then
  echo "FAIL $case_file: the case has no '# expect-exit:' line"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
timeout 20 "$nng" "${args[@]}" <"$stdin_file" >"$tmp/out" 2>"$tmp/err"
code=$?

if [[ $code -eq 124 ]]; then
  fail "nng did not finish within 20 seconds"
elif [[ "$code" != "$expect_exit" ]]; then
  fail "exit code $code, expected $expect_exit"
fi

crash='nng: internal error|terminate called|Assertion|Sanitizer|runtime error:'
if grep -q -E "$crash" "$tmp/err"; then
  fail "stderr reports a crash or an internal error"
fi
# Diagnostics quote source lines; bytes from a binary file must not reach a terminal.
if LC_ALL=C grep -q '[^[:print:][:space:]]' "$tmp/err"; then
  fail "stderr holds bytes that are not printable ASCII"
fi

while IFS= read -r want; do
  [[ -z "$want" ]] && continue
  grep -q -F -- "$want" "$tmp/err" || fail "stderr lacks: $want"
done < <(directive expect-stderr)
while IFS= read -r want; do
  [[ -z "$want" ]] && continue
  grep -q -F -- "$want" "$tmp/out" || fail "stdout lacks: $want"
done < <(directive expect-stdout)
while IFS= read -r unwanted; do
  [[ -z "$unwanted" ]] && continue
  grep -q -F -- "$unwanted" "$tmp/err" && fail "stderr contains: $unwanted"
done < <(directive expect-not-stderr)

first_err=$(directive expect-stderr-first | head -n 1)
if [[ -n "$first_err" ]]; then
  got=$(head -n 1 "$tmp/err")
  [[ "$got" == "$first_err" ]] || fail "first stderr line is '$got', expected '$first_err'"
fi
first_out=$(directive expect-stdout-first | head -n 1)
if [[ -n "$first_out" ]]; then
  got=$(head -n 1 "$tmp/out")
  [[ "$got" == "$first_out" ]] || fail "first stdout line is '$got', expected '$first_out'"
fi
errors=$(directive expect-errors | head -n 1)
if [[ -n "$errors" ]]; then
  got=$(grep -c -E '(^|: )error: ' "$tmp/err")
  [[ "$got" == "$errors" ]] || fail "$got error lines on stderr, expected $errors"
fi

if [[ "$expect_exit" != 0 && -s "$tmp/out" && -z "$(directive expect-stdout)" ]]; then
  fail "nng failed but wrote to stdout"
fi
if [[ "$expect_exit" == 0 && -s "$tmp/err" && -z "$(directive expect-stderr)" ]]; then
  fail "nng succeeded but wrote to stderr"
fi
if [[ "$expect_exit" == 1 ]] && ! head -n 1 "$tmp/err" | grep -q -E '^[^ ].*error: '; then
  fail "an input error must start with a 'FILE:LINE:COL: error: ' or 'nng: error: ' line"
fi

if [[ ${#failures[@]} -eq 0 ]]; then
  echo "ok $case_file"
  exit 0
fi
echo "FAIL $case_file: nng ${args[*]} < $stdin_file"
printf '  - %s\n' "${failures[@]}"
echo "--- exit code: $code"
echo "--- stdout:"
head -c 4000 "$tmp/out"
echo "--- stderr:"
head -c 4000 "$tmp/err"
exit 1
