"""A column with a large offset and a small spread: Unix times in milliseconds.

Helper-56's case (twenty-ninth session): a table of 1,000 rows whose first column holds
Unix times in milliseconds over five minutes (1.7336e12 + 0..300,000), beside two pairs of
related columns (b = a + noise, e = d + noise); 30 rows (3%) are anomalies whose b is -a
instead. The time column carries nothing, so a detector should score about as well with
it as without it (`--ignore-column ts_ms`). Before the centre and scale of a column were
kept in float64, the time column was taken for a constant (its spread below float32's
resolution of its mean) and fed to the network as values of about 1e5.

Runs `aekit evaluate tables T.csv --label-column y --seed S` (70/30 stratified split,
aekit beside IsolationForest and PCA in one run) with and without the time column, and
prints each method's AUROC per seed and their mean.

    python scripts/bench_large_offset.py [--seeds 0,1,2]
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def write_table(path, n=1000, anomalies=30, seed=0):
    rng = np.random.RandomState(seed)
    a, d = rng.normal(size=n), rng.normal(size=n)
    b, e = a + rng.normal(0, 0.3, n), d + rng.normal(0, 0.3, n)
    y = np.zeros(n, dtype=int)
    bad = rng.choice(n, anomalies, replace=False)
    y[bad] = 1
    b[bad] = -a[bad] + rng.normal(0, 0.3, anomalies)
    ts = 1_733_600_000_000 + rng.randint(0, 300_000, size=n)
    with open(path, "w") as f:
        f.write("ts_ms,a,b,d,e,y\n")
        for row in zip(ts, a, b, d, e, y):
            f.write(f"{row[0]},{float(row[1])!r},{float(row[2])!r},{float(row[3])!r},"
                    f"{float(row[4])!r},{row[5]}\n")


def evaluate(path, seed, extra):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "aekit", "evaluate", "tables", str(path), "--label-column",
               "y", "--seed", str(seed), "--json", str(out), *extra]
        subprocess.run(cmd, check=True, capture_output=True)
        doc = json.loads(out.read_text())
    return {m: float(v[0]) for m, v in doc["auroc"].items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "times.csv"
        write_table(path)
        for label, extra in (("with ts_ms", []), ("without ts_ms", ["--ignore-column", "ts_ms"])):
            runs = [evaluate(path, s, extra) for s in seeds]
            for m in runs[0]:
                values = [r[m] for r in runs]
                print(f"{label:14s} {m:8s} " + " ".join(f"{v:6.2f}" for v in values)
                      + f"   mean {np.mean(values):6.2f}")


if __name__ == "__main__":
    main()
