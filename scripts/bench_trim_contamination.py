"""What the trim costs or gains with the share of anomalies in the training table.

A mixed table a user might have (1,500 rows: x; y = 2x + noise; z; w = x/2 + 3z + noise;
a city column that sets a temperature), with a share of planted anomalies that each
break one relation (y off its line, w shifted, z extreme, the temperature wrong for the
city). The detector is fitted on the whole table, anomalies included (as `aekit detect
data.csv` on a table that holds its own anomalies), and scored on it; printed: the AUROC
of ``AnomalyDetector(random_state=0, trim=T)`` for T in 0, 0.1 and "auto" (the default),
beside IsolationForest and a PCA detector fitted the same way, per share of anomalies,
averaged over data seeds 0, 1, 2. Nothing here was tuned on; the table is a fresh-eyes
reviewer's, generalised to other shares.

    python scripts/bench_trim_contamination.py
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from aekit import AnomalyDetector

SHARES = (0.008, 0.05, 0.15)  # of the rows: planted anomalies
N_ROWS = 1500


def table(share, seed):
    """(DataFrame of the features, 0/1 labels) of one data seed."""
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, N_ROWS)
    y = 2 * x + rng.normal(0, 2, N_ROWS)
    z = rng.normal(0, 1, N_ROWS)
    w = x * 0.5 + z * 3 + rng.normal(0, 0.5, N_ROWS)
    city = rng.choice(["paris", "lyon", "nice"], N_ROWS, p=[0.5, 0.3, 0.2])
    temp = np.select([city == "nice", city == "lyon"], [25.0, 15.0], 10.0) \
        + rng.normal(0, 1, N_ROWS)
    label = np.zeros(N_ROWS, dtype=int)
    for k, i in enumerate(rng.choice(N_ROWS, int(round(share * N_ROWS)), replace=False)):
        kind = k % 4
        if kind == 0:
            y[i] = 2 * x[i] + 40
        elif kind == 1:
            w[i] += 25
        elif kind == 2:
            temp[i] += 14 if city[i] == "paris" else -14
        else:
            z[i] = 8.0
        label[i] = 1
    return pd.DataFrame(dict(x=x, y=y, z=z, w=w, city=city, temp=temp)), label


def aurocs(X, y):
    """{method: AUROC} on one table."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for trim in (0, 0.1, "auto"):
            det = AnomalyDetector(random_state=0, trim=trim).fit(X)
            out[f"aekit trim={trim}"] = roc_auc_score(y, det.anomaly_score(X))
        pca = AnomalyDetector(method="pca").fit(X)
        out["pca"] = roc_auc_score(y, pca.anomaly_score(X))
    numeric = pd.get_dummies(X, columns=["city"], dtype=float).to_numpy()
    forest = IsolationForest(random_state=0).fit(numeric)
    out["iforest"] = roc_auc_score(y, -forest.score_samples(numeric))
    return out


def main():
    print("| anomalies | " + " | ".join(["aekit trim=0", "aekit trim=0.1", "aekit trim=auto",
                                          "pca", "iforest"]) + " |")
    print("|---:|" + "---:|" * 5)
    for share in SHARES:
        runs = [aurocs(*table(share, seed)) for seed in (0, 1, 2)]
        means = {k: np.mean([r[k] for r in runs]) for k in runs[0]}
        print(f"| {share:.1%} | " + " | ".join(f"{v:.4f}" for v in means.values()) + " |",
              flush=True)


if __name__ == "__main__":
    main()
