"""What the masked objective costs at scoring time: `aekit detect` on a table, a masked
model vs a reconstruction model (issue 17).

For each width (features), a table of ROWS rows of correlated Gaussian features (written
once as CSV), a model trained by `aekit train --data` on its first 5,000 rows with
`--objective masked` and with `--objective reconstruction` (auto sizes, 5 epochs: the
speed of scoring does not depend on how well the model was trained), then `aekit detect
TABLE -q -o scores.csv` timed end to end (start-up and reading included), best of
--repeat. Rows per second, and per core (this machine has 2).

    python scripts/bench_table_scoring.py [--rows 200000] [--widths 10,50] [--repeat 2]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

AEKIT = [sys.executable, "-m", "aekit"]


def run(cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-2000:]}")


def table(work, rows, width):
    path = work / f"table_{width}x{rows}.csv"
    if not path.exists():
        rng = np.random.RandomState(0)
        latent = rng.normal(size=(rows, 3))
        X = latent @ rng.normal(size=(3, width)) + 0.3 * rng.normal(size=(rows, width))
        np.savetxt(path, X, fmt="%.5g", delimiter=",",
                   header=",".join(f"f{j}" for j in range(width)), comments="")
    train = work / f"train_{width}.csv"
    if not train.exists():
        with open(path) as src, open(train, "w") as dst:
            for i, line in enumerate(src):
                if i > 5000:
                    break
                dst.write(line)
    return path, train


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--widths", default="10,50")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--work", default="/tmp/aekit_table_scoring")
    a = p.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count()
    print("| features | objective | rows | wall time (s) | rows/s | rows/s per core |")
    print("|---:|---|---:|---:|---:|---:|")
    for width in map(int, a.widths.split(",")):
        path, train = table(work, a.rows, width)
        for objective in ("masked", "reconstruction"):
            model = work / f"{objective}_{width}.safetensors"
            run(AEKIT + ["train", "--data", train, "--objective", objective, "--epochs", 5,
                         "--seed", 0, "--device", "cpu", "-q", "-o", model])
            best = float("inf")
            for _ in range(a.repeat):
                start = time.perf_counter()
                run(AEKIT + ["detect", path, "--model", model, "-q", "-o",
                             work / "scores.csv"])
                best = min(best, time.perf_counter() - start)
            rate = a.rows / best
            print(f"| {width} | {objective} | {a.rows:,} | {best:.1f} | {rate:,.0f} | "
                  f"{rate / cores:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
