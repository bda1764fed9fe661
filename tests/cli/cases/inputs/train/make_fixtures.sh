#!/usr/bin/env bash
# Writes the small binary data files the `nng train` cases read (IDX, NPY and a
# garbage checkpoint), with printf only, so the committed files can be regenerated
# and reviewed byte for byte. Run it from any folder: `bash make_fixtures.sh`.
set -euo pipefail
cd "$(dirname "$0")"

# Bytes given as octal/hex escapes understood by printf.
bytes() { printf "$@"; }

# A version 1 .npy header for DESCR, FORTRAN (True/False) and SHAPE ("(4, 4)"),
# padded with spaces to 128 bytes in all (a multiple of 64, as numpy writes it).
npy_header() {
  local dict="{'descr': '$1', 'fortran_order': $2, 'shape': $3, }"
  local len=$((128 - 10))
  local pad=$((len - ${#dict} - 1))
  printf '\x93NUMPY\x01\x00'
  printf "\\x$(printf '%02x' "$len")\\x00"
  printf '%s%*s\n' "$dict" "$pad" ''
}

# Images: 4 samples of 2x2 u8 pixels (IDX type 08, rank 3), not flattened.
{ bytes '\x00\x00\x08\x03\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00\x02'
  bytes '\x00\x40\x80\xff\x10\x20\x30\x40\xff\x00\xff\x00\x01\x02\x03\x04'; } >images.idx
# Labels: 4 samples, u8 (IDX type 08, rank 1).
bytes '\x00\x00\x08\x01\x00\x00\x00\x04\x00\x01\x02\x00' >labels.idx
# A magic number that is not IDX (the first two bytes must be zero).
bytes '\x12\x34\x08\x01\x00\x00\x00\x04\x00\x01\x02\x00' >bad_magic.idx
# The header promises 4x2x2 = 16 pixels; only 10 follow.
{ bytes '\x00\x00\x08\x03\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00\x02'
  bytes '\x00\x40\x80\xff\x10\x20\x30\x40\xff\x00'; } >truncated.idx

# f32 [4, 4] whose header promises 64 bytes of data; only 8 follow.
{ npy_header '<f4' False '(4, 4)'; bytes '\x00\x00\x80\x3f\x00\x00\x00\x40'; } >truncated.npy
# f32 [4, 4] in Fortran (column-major) order: 16 ones.
{ npy_header '<f4' True '(4, 4)'
  for _ in $(seq 16); do bytes '\x00\x00\x80\x3f'; done; } >fortran.npy
# A good f32 [4, 4] and i64 [4] pair.
{ npy_header '<f4' False '(4, 4)'
  for _ in $(seq 16); do bytes '\x00\x00\x80\x3f'; done; } >x.npy
{ npy_header '<i8' False '(4,)'
  for l in 0 1 2 0; do bytes "\\x0$l\\x00\\x00\\x00\\x00\\x00\\x00\\x00"; done; } >labels.npy

# Not a checkpoint: text, whose first 8 bytes read as an absurd header length.
printf 'this is not a safetensors file\n' >garbage.safetensors
# A plausible header length (16) followed by bytes that are not JSON.
{ bytes '\x10\x00\x00\x00\x00\x00\x00\x00'; printf '{"a": [1, 2, ##}'; } >bad_json.safetensors
