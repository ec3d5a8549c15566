"""Protocol T with fewer (or more) scoring masks than the default, on the same fitted models.

For each shared table, `AnomalyDetector(random_state=SEED)` is fitted once at its defaults
(its trim chosen with the default masks), then its test rows are scored with the
default number of paired scoring masks and with each of --counts
(:func:`aekit.nn.masking.scoring_masks`, same design). Printed: AUROC per table and count,
then the mean per half of protocol T (A = 1st, 3rd... table; B = 2nd, 4th...) and in all.
A quick screen of a mask count, not the default it would make: a default with another count
would also trim with it.

    python scripts/bench_score_masks.py ../shared/data/adbench --seed 0 --counts 16,12,8,6,4
"""

import argparse
import copy
import json

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", default="../shared/data/adbench")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--counts", default="16,12,8,6,4")
    ap.add_argument("--json")
    args = ap.parse_args()
    import torch
    from sklearn.metrics import roc_auc_score

    from aekit import AnomalyDetector
    from aekit.evaluation.tables import halves, split, table_files
    from aekit.nn.masking import scoring_masks

    torch.set_num_threads(1)
    counts = [int(c) for c in args.counts.split(",")]
    names, auroc = [], {k: [] for k in counts}
    for path in table_files(args.folder):
        X_train, X_test, y_test = split(path)
        det = AnomalyDetector(random_state=args.seed).fit(X_train)
        config = det.model_.net_.config
        for k in counts:
            variant = copy.deepcopy(det)  # a new network: no float64 copy cached for it
            variant.model_.net_.score_masks = torch.from_numpy(
                scoring_masks(config.n_features, k, config.score_design))
            auroc[k].append(100 * roc_auc_score(y_test, variant.anomaly_score(X_test)))
        names.append(path.stem)
        print(f"{path.stem:20s} {config.n_features:4d} features  "
              + "  ".join(f"{k}: {auroc[k][-1]:6.2f}" for k in counts), flush=True)
    parts = halves(names)
    for k in counts:
        mean = {h: np.mean([auroc[k][names.index(t)] for t in parts[h]]) for h in "AB"}
        print(f"{k:3d} masks: half A {mean['A']:.2f}  half B {mean['B']:.2f}  "
              f"all {np.mean(auroc[k]):.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "tables": names,
                       "auroc": {str(k): v for k, v in auroc.items()}}, f)


if __name__ == "__main__":
    main()
