#!/bin/sh
# Installs the peers nng's CPU benchmark compares against, on Debian 12, and makes PyTorch's
# BLAS OpenBLAS (OpenMP flavour). Debian's python3-torch links the generic libblas.so.3, which
# defaults to the reference BLAS: about 40x slower, an unfair peer. Idempotent; run as root.
#   sudo bench/setup-peers.sh
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-peers.sh: run as root (it installs packages and sets alternatives)" >&2
  exit 1
fi

arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
libdir=/usr/lib/$arch/openblas-openmp

export DEBIAN_FRONTEND=noninteractive
# apt-get install is a no-op when both are already installed.
apt-get install -y python3-torch libopenblas0-openmp

# Select OpenBLAS explicitly (not just by priority), so that a reference or pthread BLAS
# installed later cannot take over libblas.so.3 / liblapack.so.3 in auto mode.
update-alternatives --set "libblas.so.3-$arch" "$libdir/libblas.so.3"
update-alternatives --set "liblapack.so.3-$arch" "$libdir/liblapack.so.3"

update-alternatives --display "libblas.so.3-$arch"
update-alternatives --display "liblapack.so.3-$arch"

# Confirm what torch really loads: the mapped BLAS libraries after a matmul.
/usr/bin/python3 - <<'EOF'
import torch
a = torch.randn(64, 64)
(a @ a).sum().item()
libs = sorted({line.split()[-1] for line in open("/proc/self/maps")
               if "blas" in line or "lapack" in line})
print("torch", torch.__version__, "loads:")
for lib in libs:
    print("  " + lib)
if not any("openblas" in lib for lib in libs):
    raise SystemExit("setup-peers.sh: torch does not load OpenBLAS")
EOF
