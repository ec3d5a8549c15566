"""Issue 24's five-column case: a small table whose anomalies are ordinary values in an
unusual combination, measured (nothing tuned here).

For each data seed: 5 columns driven by 2 Gaussian factors through a random linear map,
plus Gaussian noise of 0.05; 500 training rows; a test set of 200 normal rows and 20
rows whose columns are each permuted among those 20 (every value ordinary, the
combination not). Prints the AUROC of ``AnomalyDetector(random_state=0)`` (its defaults,
or ``--epochs``) and, beside it in the same run, of a 2-component PCA
(``AnomalyDetector(method="pca", n_components=2)``), per seed and their mean.

    python scripts/bench_small_linear.py                 # the defaults, data seeds 0, 1, 2
    python scripts/bench_small_linear.py --epochs 10
    PYTHONPATH=<another checkout> python scripts/bench_small_linear.py   # its defaults
"""

import argparse

import numpy as np
from sklearn.metrics import roc_auc_score

from aekit import AnomalyDetector
from aekit.evaluation.synthetic import combination_table


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="data seeds, comma-separated")
    parser.add_argument("--epochs", type=int, help="AnomalyDetector's epochs [its default]")
    args = parser.parse_args()
    extra = {} if args.epochs is None else {"epochs": args.epochs}
    results = {"aekit": [], "pca (2 components)": []}
    for seed in map(int, args.seeds.split(",")):
        train, test, labels = combination_table(seed)
        for name, det in (("aekit", AnomalyDetector(random_state=0, **extra)),
                          ("pca (2 components)", AnomalyDetector(method="pca",
                                                                 n_components=2))):
            results[name].append(roc_auc_score(labels, det.fit(train).anomaly_score(test)))
    print(f"data seeds {args.seeds}; AnomalyDetector({'' if not extra else extra})")
    for name, aurocs in results.items():
        print(f"{name:20s} " + " ".join(f"{a:.3f}" for a in aurocs)
              + f"   mean {np.mean(aurocs):.3f}")


if __name__ == "__main__":
    main()
