#!/usr/bin/python3
"""PyTorch peer of `nng train examples/mlp.nn`: the same Fashion-MNIST MLP, data, batch size
and optimizer, so that nng's CPU training throughput has an honest reference. `--hidden`
sets other MLP widths and `--arch cnn` builds examples/cnn.nn instead; `--steps` stops
after that many steps (bench/train-steps.sh).

The setup mirrors examples/mlp.yaml: 784-512-256-10 with ReLU, cross-entropy, SGD lr 0.05
momentum 0.9, batch 128, images scaled to [0, 1], shuffled every epoch, trained on all 60,000
training images (mlp.yaml holds none out; --val-split holds out a seeded random fraction).

Timing, like nng's trainer: the clock runs around the training loop only. Reading and decoding
the IDX files, building tensors, the validation pass between epochs and the final test pass are
outside it. A step is batch gather + forward + backward + optimizer update + reading the loss
and the batch's correct count (nng does the same per step), timed with time.perf_counter.

Run with Debian's python (/usr/bin/python3), which has python3-torch; see bench/README.md.
  /usr/bin/python3 bench/pytorch_mlp.py --epochs 1 --json
"""

import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """Decodes a gzipped IDX file (the MNIST format) into a numpy array of its shape."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = raw[0] | raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir, prefix):
    """Images as u8 [n, 784] and labels as i64 [n]; to_float scales images after any split,
    so that no f32 copy of the whole set inflates the peak RSS."""
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return images.reshape(len(images), -1), torch.from_numpy(labels.astype(np.int64))


def to_float(images):
    """u8 pixels to f32 in [0, 1], like mlp.yaml's `scale: 1/255`."""
    return torch.from_numpy(images.astype(np.float32) / np.float32(255.0))


def build_model(hidden):
    layers, width = [], 784
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def build_cnn():
    """examples/cnn.nn: two conv(3x3, pad 1)-relu-maxpool(2) stages, 16 and 32 filters."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


@torch.no_grad()
def accuracy(model, x, y, batch):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / len(x)


def blas_libraries():
    """The BLAS/LAPACK shared objects mapped into this process: what torch really calls."""
    with open("/proc/self/maps") as maps:
        return sorted({line.split()[-1] for line in maps
                       if "blas" in line or "lapack" in line})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--hidden", default="512,256", help="hidden widths, comma separated")
    p.add_argument("--arch", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: epochs)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--val-split", type=float, default=0.0,
                   help="fraction of the training set held out (mlp.yaml holds none out)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", default=DATA_DIR, help="folder with the IDX .gz files")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = p.parse_args()
    hidden = [int(h) for h in args.hidden.split(",") if h]
    if args.epochs < 1 or args.batch < 1 or args.threads < 1 or not 0 <= args.val_split < 1:
        p.error("--epochs, --batch and --threads must be positive, --val-split in [0, 1)")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x_all, y_all = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    x_test = to_float(x_test)
    order = torch.randperm(len(x_all), generator=torch.Generator().manual_seed(args.seed))
    n_val = int(round(len(x_all) * args.val_split))
    x_val, y_val = to_float(x_all[order[:n_val].numpy()]), y_all[order[:n_val]]
    x_train, y_train = to_float(x_all[order[n_val:].numpy()]), y_all[order[n_val:]].contiguous()
    del x_all
    n = len(x_train)

    model = build_cnn() if args.arch == "cnn" else build_model(hidden)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    shuffle = torch.Generator().manual_seed(args.seed + 1)

    step_ms, train_s, samples = [], 0.0, 0
    val_acc = None
    log = sys.stderr if args.json else sys.stdout
    for epoch in range(1, args.epochs + 1):
        loss_sum, correct, seen = 0.0, 0, 0
        t_epoch = time.perf_counter()
        perm = torch.randperm(n, generator=shuffle)
        for i in range(0, n, args.batch):
            if args.steps and len(step_ms) >= args.steps:
                break
            t0 = time.perf_counter()
            idx = perm[i:i + args.batch]
            xb, yb = x_train[idx], y_train[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
            seen += len(idx)
            step_ms.append((time.perf_counter() - t0) * 1000.0)
        train_s += time.perf_counter() - t_epoch
        samples += seen
        line = f"epoch {epoch}/{args.epochs}: train loss {loss_sum / max(seen, 1):.4f} acc {correct / max(seen, 1):.4f}"
        if n_val:
            val_acc = accuracy(model, x_val, y_val, args.batch)
            line += f", val acc {val_acc:.4f}"
        print(line, file=log, flush=True)
        if args.steps and len(step_ms) >= args.steps:
            break

    test_acc = accuracy(model, x_test, y_test, args.batch)
    result = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "blas": blas_libraries(),
        "threads": torch.get_num_threads(),
        "epochs": args.epochs,
        "batch": args.batch,
        "hidden": hidden,
        "train_samples": n,
        "steps": len(step_ms),
        "train_loss": loss_sum / max(seen, 1),
        "train_acc": correct / max(seen, 1),
        "val_acc": val_acc,
        "test_acc": test_acc,
        "samples_per_s": samples / train_s,
        "step_ms_median": statistics.median(step_ms),
        "seconds": train_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,  # KiB
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"test acc {test_acc:.4f}")
        print(f"{result['samples_per_s']:.0f} samples/s, median step "
              f"{result['step_ms_median']:.3f} ms, {train_s:.2f} s training, "
              f"peak RSS {result['peak_rss_mb']:.0f} MB "
              f"(torch {torch.__version__}, {result['threads']} threads)")


if __name__ == "__main__":
    main()
