"""Scale on this machine: `aekit detect` on 1 vs 2 Dask workers, training on 1 vs 2 DDP
processes, and a projection for a billion rows (issue 16).

- Scoring: FILES files of ROWS MNIST pixel rows each (0..255, 784 columns), the bundled
  mnist-detector, `aekit detect FILE... --workers N -o out.parquet` (a local Dask cluster
  of N worker processes, one thread each), wall time end to end (the cluster's start
  included, and reported apart), beside one process scoring the same rows in one file.
- Training: `aekit train --data` on TRAIN_ROWS MNIST rows, one process vs `torchrun
  --nproc_per_node 2` (gloo, each process one thread), the same global batch; samples per
  second from the model file's training time.

    python scripts/bench_scale.py [--files 8] [--rows 25000] [--train-rows 20000]
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MNIST = Path(os.environ.get("AEKIT_DATA", ROOT.parent / "shared" / "data" / "mnist"))


def pixel_rows(n, offset=0):
    raw = gzip.open(MNIST / "train-images-idx3-ubyte.gz").read()
    X = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784)
    idx = (np.arange(n) + offset) % len(X)
    return X[idx]


def write_csv(path, X):
    with open(path, "w") as f:
        f.write(",".join(f"px{i}" for i in range(784)) + "\n")
        for s in range(0, len(X), 10_000):
            f.write("\n".join(",".join(map(str, r)) for r in X[s:s + 10_000].tolist()) + "\n")


def timed(cmd, env=None):
    start = time.perf_counter()
    cmd = [str(c) for c in cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if r.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - start


def scoring(work, files, rows):
    paths = []
    for i in range(files):
        p = work / f"part{i}.csv"
        if not p.exists():
            write_csv(p, pixel_rows(rows, i * rows))
        paths.append(p)
    whole = work / "whole.csv"
    if not whole.exists():
        write_csv(whole, pixel_rows(files * rows))
    aekit = [sys.executable, "-m", "aekit"]
    n = files * rows
    out = {"rows": n, "one process": timed(aekit + ["detect", whole, "-q", "-o",
                                                     work / "one.parquet"])}
    for workers in (1, 2):
        out[f"{workers} Dask workers"] = timed(aekit + ["detect", *paths, "--workers", workers,
                                                        "-q", "-o", work / f"w{workers}.parquet"])
    start = time.perf_counter()
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as c, \
            Client(c):
        out["cluster start-up (2 workers)"] = time.perf_counter() - start
    return out


def training(work, train_rows, epochs):
    data = work / "train.csv"
    if not data.exists():
        write_csv(data, pixel_rows(train_rows))
    args = ["train", "--data", data, "--hidden", "256", "--code-size", "16", "--batch-size",
            "256", "--epochs", epochs, "--validation-fraction", "0", "--device", "cpu", "-q"]
    env = {"OMP_NUM_THREADS": "1"}
    out = {}
    for procs in (1, 2):
        model = work / f"ddp{procs}.safetensors"
        cmd = [sys.executable, "-m", "aekit", *args, "-o", model] if procs == 1 else \
            [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
             "2", "-m", "aekit", *args, "-o", model]
        timed([str(c) for c in cmd], env)
        from aekit.model_file import read_model_file

        summary = read_model_file(model)[0]["summary"]
        out[f"{procs} process{'es' if procs > 1 else ''}"] = \
            summary["n_train"] * summary["epochs"] / summary["seconds"]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--rows", type=int, default=25_000)
    p.add_argument("--train-rows", type=int, default=20_000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--work", type=Path, default=Path("/tmp/aekit_scale"))
    p.add_argument("--json", type=Path)
    a = p.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    s = scoring(a.work, a.files, a.rows)
    print(f"| `aekit detect`, {s['rows']:,} MNIST rows | seconds | rows/s |\n|---|---:|---:|")
    for k, v in s.items():
        if k != "rows" and "start-up" not in k:
            print(f"| {k} | {v:.1f} | {s['rows'] / v:,.0f} |")
    print(f"\nA local cluster of 2 workers starts in {s['cluster start-up (2 workers)']:.1f} s.\n")
    t = training(a.work, a.train_rows, a.epochs)
    print(f"| `aekit train`, {a.train_rows:,} rows, 784-256-16 | samples/s |\n|---|---:|")
    for k, v in t.items():
        print(f"| {k} | {v:,.0f} |")
    # the steady rate of one worker: its run less the cluster's start-up
    per_worker = s["rows"] / max(1e-9, s["1 Dask workers"] - s["cluster start-up (2 workers)"])
    hour = 3600 * per_worker
    print(f"\nProjection (not measured): at {per_worker:,.0f} rows/s per worker process (one "
          f"core; the 1-worker run less the cluster's start-up), a billion rows take "
          f"{1e9 / per_worker / 3600:,.1f} worker-hours: "
          f"{int(np.ceil(1e9 / hour))} such workers for one hour, "
          f"{int(np.ceil(1e9 / hour / 8))} for eight hours.")
    if a.json:
        a.json.write_text(json.dumps({"scoring": s, "training": t}, indent=1))


if __name__ == "__main__":
    main()
