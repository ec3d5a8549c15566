"""Protocol T: does averaging the default detector over several seeds help? (Measured
only; nothing adopted from it.)

Each of the 22 tables is split as protocol T splits it; ``AnomalyDetector(random_state=s)``
is fitted on its training part at seeds 0..N-1 and scores its test part. Printed per table
and per half (protocol T's halves): the mean AUROC of one network (over the N seeds), of
the average of three networks' scores (raw scores, and ranks; the N cyclic triples of
seeds), and of all N averaged.

    python scripts/bench_seed_ensemble.py ../shared/data/adbench [--seeds 5]
"""

import argparse

import numpy as np


def table_scores(path, seeds):
    """(y_test, scores (seeds, test rows), training rows) of one table."""
    from aekit import AnomalyDetector
    from aekit.evaluation.tables import split

    X_train, X_test, y_test = split(path)
    scores = [-AnomalyDetector(random_state=s).fit(X_train).score_samples(X_test)
              for s in range(seeds)]
    return y_test, np.array(scores), len(X_train)


def ensemble_aurocs(y, S):
    """(one network, three averaged, three rank-averaged, all averaged): mean AUROC %."""
    from scipy.stats import rankdata
    from sklearn.metrics import roc_auc_score

    n = len(S)
    triples = [[(i + j) % n for j in range(3)] for i in range(n)]
    auc = lambda s: 100 * roc_auc_score(y, s)  # noqa: E731
    return (np.mean([auc(s) for s in S]), np.mean([auc(S[t].mean(0)) for t in triples]),
            np.mean([auc(np.mean([rankdata(S[i]) for i in t], 0)) for t in triples]),
            auc(S.mean(0)))


def main():
    from aekit.evaluation.tables import halves, table_files

    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--seeds", type=int, default=5)
    a = p.parse_args()
    res = {}
    print(f"| table | training rows | one network | 3 averaged | 3 rank-averaged | "
          f"{a.seeds} averaged |\n|---|---:|---:|---:|---:|---:|", flush=True)
    for path in table_files(a.folder):
        y, S, rows = table_scores(path, a.seeds)
        res[path.stem] = ensemble_aurocs(y, S)
        print(f"| {path.stem} | {rows:,} | " + " | ".join(f"{v:.2f}" for v in res[path.stem])
              + " |", flush=True)
    parts = {**halves(list(res)), "all": list(res)}
    for name, tables in parts.items():
        m = np.mean([res[t] for t in tables], axis=0)
        print(f"| **{name}** ({len(tables)}) | | " + " | ".join(f"{v:.2f}" for v in m) + " |")


if __name__ == "__main__":
    main()
