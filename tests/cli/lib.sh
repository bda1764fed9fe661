# Helpers shared by the scripted end-to-end tests (sigint_test.sh, train_flow_test.sh,
# grad_flow_test.sh, optimize_all_test.sh, ...): failure bookkeeping, JSON fields and a
# safetensors check with plain bash tools, since the tests must run where no python is
# installed.

failures=()
fail() { failures+=("$1"); }

# Ends the test: "ok NAME" and 0, or the failures, the files named in $dump_files
# (head of each) and 1.
finish() {
  if [[ ${#failures[@]} -eq 0 ]]; then
    echo "ok $1"
    exit 0
  fi
  echo "FAIL $1"
  printf '  - %s\n' "${failures[@]}"
  local f
  for f in "${dump_files[@]}"; do
    [[ -f "$f" ]] || continue
    echo "--- $f:"
    head -c 3000 "$f"
  done
  exit 1
}

# The value of "KEY" in a one-line JSON object: a number, null, true, false or a
# quoted string (without the quotes). Prints nothing when the key is absent.
json_field() { # FILE KEY
  grep -o "\"$2\":\(\"[^\"]*\"\|[^,}]*\)" "$1" | head -n 1 | sed 's/^"[^"]*"://; s/^"\(.*\)"$/\1/'
}

# A number in [lo, hi]? (awk compares as floating point)
in_range() { # VALUE LO HI
  [[ "$1" =~ ^-?[0-9.]+([eE][-+]?[0-9]+)?$ ]] && awk -v v="$1" -v lo="$2" -v hi="$3" \
    'BEGIN { exit !(v >= lo && v <= hi) }'
}

# Checks that FILE is a safetensors file: an 8-byte little-endian header length N, N
# bytes of a JSON object (space padding allowed), then exactly the data the tensors'
# data_offsets cover. Prints the header on success; returns 1 with a reason on stderr.
safetensors_header() { # FILE
  local file=$1 size n=0 i header end max=0
  size=$(wc -c <"$file") || return 1
  if ((size < 8)); then echo "$file: $size bytes, shorter than the header length" >&2; return 1; fi
  local -a b
  read -r -a b < <(od -An -tu1 -N8 -v "$file")
  for ((i = 7; i >= 0; i--)); do n=$((n * 256 + b[i])); done
  if ((n < 2 || 8 + n > size)); then
    echo "$file: header length $n does not fit a file of $size bytes" >&2
    return 1
  fi
  header=$(tail -c +9 "$file" | head -c "$n")
  local trimmed=${header%"${header##*[! ]}"}
  if [[ "$header" != "{"* || "$trimmed" != *"}" ]]; then
    echo "$file: the header is not a JSON object: ${header:0:80}" >&2
    return 1
  fi
  for end in $(grep -o '"data_offsets":\[[0-9]*,[0-9]*\]' <<<"$header" | sed 's/.*,\([0-9]*\)\]/\1/'); do
    ((end > max)) && max=$end
  done
  if ((8 + n + max != size)); then
    echo "$file: the tensors cover $max data bytes, the file holds $((size - 8 - n))" >&2
    return 1
  fi
  printf '%s\n' "$header"
}

# The float32 values of tensor NAME in a safetensors FILE, one per line.
safetensors_f32() { # FILE NAME
  local header n start end
  header=$(safetensors_header "$1") || return 1
  n=${#header}
  read -r start end < <(grep -o "\"$2\":{[^}]*}" <<<"$header" |
    sed 's/.*"data_offsets":\[\([0-9]*\),\([0-9]*\)\].*/\1 \2/')
  [[ -n "$start" ]] || return 1
  tail -c +$((9 + n + start)) "$1" | head -c $((end - start)) | od -An -v -tf4 | tr -s ' ' '\n' |
    sed '/^$/d'
}
