"""What estimating the quantile grid from at most QUANTILE_ROWS training rows saves
(aekit.thresholds.quantile_rows): AnomalyDetector() fitted on the same large table with
the grid from every row and from the sample, in one run, after a warm-up fit (imports,
thread pools), in alternating order (every, sample, sample, every, ... for --repeat).
Prints each fit's time and threshold (contamination 0.01).

The table: n rows of 20 columns, non-linear functions of 4 factors plus noise (seed 0).

    python scripts/bench_quantile_rows.py [--rows 300000] [--threads 2]
"""

import argparse
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="fits of each kind")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    import aekit
    import aekit.thresholds as thresholds

    rng = np.random.RandomState(0)
    X = np.tanh(rng.normal(size=(a.rows, 4)) @ rng.normal(size=(4, 20)))
    X += 0.05 * rng.normal(size=X.shape)
    sample = thresholds.QUANTILE_ROWS
    aekit.AnomalyDetector(random_state=0).fit(X[:2000])  # warm-up, not timed
    kinds = [(len(X), "every row"), (sample, f"{sample:,} rows")]
    order = [kinds[(i + i // 2) % 2] for i in range(2 * a.repeat)]  # A B B A A B ...
    for cap, what in order:
        thresholds.QUANTILE_ROWS = cap
        start = time.perf_counter()
        det = aekit.AnomalyDetector(random_state=0).fit(X)
        took = time.perf_counter() - start
        print(f"{a.rows:,} rows, grid from {what}: fit {took:.1f} s, "
              f"threshold {det.threshold_:.5f} ({det.model_.n_epochs_} epochs, "
              f"{a.threads} threads)", flush=True)


if __name__ == "__main__":
    main()
