"""`aekit detect` end to end on digits: 400 test images of digit D plus 40 of other digits.

For each D: `aekit train --digits D` (the train command's defaults), a CSV of
440 MNIST test rows (pixels 0..255, a label column, shuffled), `aekit detect`
on it, then the AUROC of the output's anomaly_score column against label != D.
The commands run are printed.

`aekit train` stores the score a model of [0, 1] pixels is read by (the relative
reconstruction error, as AnomalyDetector uses it) with its training quantiles.

    python scripts/bench_detect_digit.py --digits 3 --work /tmp/detect_digits
"""

import argparse
import shlex
import subprocess
from pathlib import Path

import numpy as np


def run(cmd):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--digits", default="3")
    p.add_argument("--work", default="detect_digits", help="folder for models, CSVs, outputs")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--train-args", default="", help="extra `aekit train` options, quoted")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from aekit import load_mnist

    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    Xt, yt = load_mnist("test", root=a.data_dir)
    aekit = ["aekit"]
    data_dir = ["--data-dir", a.data_dir] if a.data_dir else []
    rows = []
    for d in (int(x) for x in a.digits.split(",")):
        rng = np.random.RandomState(a.seed + d)
        normal = np.flatnonzero(yt == d)[:400]
        other = rng.choice(np.flatnonzero(yt != d), 40, replace=False)
        idx = rng.permutation(np.concatenate([normal, other]))
        csv = work / f"digit{d}_400_plus_40.csv"
        table = pd.DataFrame(np.round(Xt[idx] * 255).astype(np.uint8),
                             columns=[f"px{i}" for i in range(784)])
        table.insert(0, "label", yt[idx])
        table.to_csv(csv, index=False)
        model = work / f"digit{d}.safetensors"
        if not model.exists():
            run(aekit + ["train", "--digits", str(d), *data_dir, "-q", "-o", str(model),
                         *shlex.split(a.train_args)])
        for how, m in [("as trained", model)]:
            out = work / f"{m.stem}_scores.csv"
            run(aekit + ["detect", str(csv), "--model", str(m), "--label-column", "label",
                         "--explain", "3", "-o", str(out)])
            scored = pd.read_csv(out)
            truth = scored["label"] != d
            auroc = 100 * roc_auc_score(truth, scored["anomaly_score"])
            flagged = scored["is_anomaly"] == 1
            rows.append((d, how, auroc, int((flagged & truth).sum()),
                         int((flagged & ~truth).sum())))
            print(f"digit {d} ({how}): AUROC {auroc:.2f} %, flagged {rows[-1][3]}/40 anomalies "
                  f"and {rows[-1][4]}/400 normal rows", flush=True)
    print("\n| digit | model file | AUROC % (anomaly_score) | anomalies flagged | "
          "normal rows flagged |")
    print("|---:|---|---:|---:|---:|")
    for d, how, auroc, tp, fp in rows:
        print(f"| {d} | {how} | {auroc:.2f} | {tp}/40 | {fp}/400 |")


if __name__ == "__main__":
    main()
