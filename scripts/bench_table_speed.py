"""Issue 24's speed figures, measured only (nothing tuned): a small table's training time
and `aekit detect`'s scoring rate on 50 columns, each beside IsolationForest in one run.

1. Training: a 500-row CSV of 5 columns driven by two factors (linear, small noise),
   `aekit train --data small.csv -o m.safetensors -q` at its defaults, timed end to end
   (Python's start-up and torch's import included) and as the model file records its
   training (`summary.seconds`), beside IsolationForest(random_state=0).fit and PCA's
   (AnomalyDetector(method="pca")) fit on the same rows in this process. Target: < 10 s.
2. Scoring: a table of --rows rows and 50 columns that are non-linear functions (tanh and
   sine of random projections) of 4 factors plus noise, so that no linear shortcut stands
   in for the autoencoder; a model trained by `aekit train --data` on its first
   --train-rows rows at the defaults except --epochs (the scoring rate does not depend on
   how well it trained); then `aekit detect big.csv -m model -q -o scores.csv` end to end
   (start-up, reading, writing included), best of --repeat, beside IsolationForest's
   score_samples on the same rows already in memory (fitted on the same training rows),
   best of --repeat. Target: >= 30,000 rows/s for aekit detect.

Seconds depend on the machine and its load: run with OMP_NUM_THREADS=1 beside other jobs
only to compare within one run.

    OMP_NUM_THREADS=1 python scripts/bench_table_speed.py [--rows 100000] [--repeat 2]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

AEKIT = [sys.executable, "-m", "aekit"]


def timed(cmd):
    start = time.perf_counter()
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - start


def write_csv(path, X, prefix="f"):
    np.savetxt(path, X, fmt="%.6g", delimiter=",",
               header=",".join(f"{prefix}{j}" for j in range(X.shape[1])), comments="")


def small_table(rows=500, seed=0):
    """Five columns driven by two factors, plus a little noise."""
    rng = np.random.RandomState(seed)
    return rng.normal(size=(rows, 2)) @ rng.normal(size=(2, 5)) + 0.05 * rng.normal(size=(rows, 5))


def wide_table(rows, width=50, factors=4, seed=0):
    """``width`` columns, each tanh or sine of a random projection of ``factors`` factors."""
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(rows, factors))
    W, b = rng.normal(size=(factors, width)), rng.uniform(-1, 1, size=width)
    P = Z @ W / np.sqrt(factors) + b
    X = np.where(np.arange(width) % 2 == 0, np.tanh(P), np.sin(P))
    return X + 0.05 * rng.normal(size=X.shape)


def training(work):
    from sklearn.ensemble import IsolationForest

    from aekit import AnomalyDetector
    from aekit.model_file import read_model_file

    X = small_table()
    path, model = work / "small.csv", work / "small.safetensors"
    write_csv(path, X)
    wall = timed(AEKIT + ["train", "--data", path, "-o", model, "-q"])
    summary = read_model_file(model)[0]["summary"]
    start = time.perf_counter()
    IsolationForest(random_state=0).fit(X)
    forest = time.perf_counter() - start
    start = time.perf_counter()
    AnomalyDetector(method="pca").fit(X)
    pca = time.perf_counter() - start
    print("| 500 rows x 5 columns | seconds |\n|---|---:|")
    print(f"| `aekit train --data` at its defaults, end to end | {wall:.1f} |")
    print(f"| its training as the model file records it ({summary.get('epochs')} epochs) | "
          f"{summary.get('seconds')} |")
    print(f"| IsolationForest(random_state=0).fit | {forest:.2f} |")
    print(f"| AnomalyDetector(method=\"pca\").fit | {pca:.3f} |\n", flush=True)


def scoring(work, rows, train_rows, epochs, repeat):
    from sklearn.ensemble import IsolationForest

    X = wide_table(rows)
    path, train, model = work / "wide.csv", work / "wide_train.csv", work / "wide.safetensors"
    write_csv(path, X)
    write_csv(train, X[:train_rows])
    timed(AEKIT + ["train", "--data", train, "--epochs", epochs, "--seed", 0, "-o", model, "-q"])
    detect = min(timed(AEKIT + ["detect", path, "-m", model, "-q", "-o", work / "scores.csv"])
                 for _ in range(repeat))
    forest = IsolationForest(random_state=0).fit(X[:train_rows])
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        forest.score_samples(X)
        best = min(best, time.perf_counter() - start)
    print(f"| {rows:,} rows x 50 columns | seconds | rows/s |\n|---|---:|---:|")
    print(f"| `aekit detect` (model of `aekit train --data` on {train_rows:,} rows, --epochs "
          f"{epochs}), end to end | {detect:.1f} | {rows / detect:,.0f} |")
    print(f"| IsolationForest(random_state=0).score_samples, rows in memory | {best:.1f} | "
          f"{rows / best:,.0f} |", flush=True)
    product_bound(model)


def product_bound(model, repeat=5):
    """The rate the model's matrix products alone allow on this machine: its multiply-adds
    per row (as aekit's numpy engine scores), and numpy's float32 matrix product rate on
    blocks of its shape (4,096 rows, both cores), best of ``repeat``."""
    from aekit.inference import numpy_engine
    from aekit.model_file import read_model_file

    net = numpy_engine(*read_model_file(model)[:2])
    macs, width = net.scoring_multiply_adds(), max(net.config.hidden)
    a, w = np.ones((4096, width), np.float32), np.ones((width, width), np.float32)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        a @ w
        best = min(best, time.perf_counter() - start)
    flops = 2 * a.shape[0] * width * width / best
    print(f"\nthe model's scoring: {macs / 1e6:.2f} million multiply-adds a row; numpy's "
          f"float32 matrix product at {width} x {width}: {flops / 1e9:.0f} GFLOP/s here, so "
          f"the products alone allow at most {flops / (2 * macs):,.0f} rows/s", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--train-rows", type=int, default=5_000)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--work", default="/tmp/aekit_table_speed")
    a = p.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.1f}\n")
    training(work)
    scoring(work, a.rows, a.train_rows, a.epochs, a.repeat)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
