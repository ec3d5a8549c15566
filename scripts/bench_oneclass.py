"""Protocol A (docs/protocols.md): one-class MNIST AUROC, AnomalyDetector() vs PCA.

Runs what `aekit evaluate oneclass` runs, and from the same fits also the other
score of each method (the autoencoder scored by plain mean squared error, PCA by
the relative error), so that the effect of the score is visible apart from the
model. Prints a Markdown table and the fit times; writes JSON and the ROC PNG.

    python scripts/bench_oneclass.py --json oneclass.json --roc oneclass_roc.png
    python scripts/bench_oneclass.py --digits 2,8 --threads 1   # a quick look
    python scripts/bench_oneclass.py --digits 2,8 --objective masked   # the table model on images
    python scripts/bench_oneclass.py --trim 0.1   # the tables' trimming on images
"""

import argparse
import json
import resource
import time

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: torch's choice, all cores)")
    p.add_argument("--json", default=None)
    p.add_argument("--roc", default=None)
    p.add_argument("--objective", default="auto",
                   help="the autoencoder's objective (auto: reconstruction for MNIST)")
    p.add_argument("--trim", default="auto",
                   help="share of training rows left out of a second fit (auto: 0 on MNIST)")
    a = p.parse_args()

    import torch
    from sklearn.metrics import roc_auc_score

    from aekit.scores import row_scores
    from aekit.evaluation.oneclass import REFERENCES, default_detectors, one_class_auroc, roc_figure

    if a.threads:
        torch.set_num_threads(a.threads)
    digits = [int(d) for d in a.digits.split(",")]
    other = {"autoencoder": [], "pca": []}
    cpu = {"autoencoder": [], "pca": []}
    last_cpu = [time.process_time()]

    def progress(d, m, auroc, seconds):
        now = time.process_time()
        cpu[m].append(now - last_cpu[0])  # fit + scoring, CPU seconds of this process
        print(f"digit {d} {m:<11} AUROC {auroc:6.2f}  fit {seconds:6.1f} s wall", flush=True)

    def on_fit(d, m, det, Xt, yt):
        # the other score of the same fit: MSE for the autoencoder, relative for PCA (MNIST
        # is [0, 1] data, so the model's scaled space is the pixels' own)
        Xs = det.schema_.transform(Xt).astype(np.float64)
        R = det.schema_.transform(det.reconstruct(Xt)).astype(np.float64)
        scores = row_scores(Xs, R, "mse" if m == "autoencoder" else "relative")
        other[m].append(100 * roc_auc_score(yt != d, scores))
        last_cpu[0] = time.process_time()

    detectors = default_detectors(random_state=a.seed)
    trim = a.trim if a.trim == "auto" else float(a.trim)
    detectors["autoencoder"].set_params(objective=a.objective, trim=trim)
    start = time.perf_counter()
    res = one_class_auroc(digits=digits, detectors=detectors,
                          data_dir=a.data_dir, progress=progress, on_fit=on_fit)
    total = time.perf_counter() - start
    det = detectors["autoencoder"]
    print(f"\nAnomalyDetector() = {det!r}; torch threads: {torch.get_num_threads()}\n")
    print("| digit | AnomalyDetector() | same fits, MSE score | PCA 90% (MSE) | PCA, relative "
          "score | AE fit s (wall) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for i, d in enumerate(res.digits):
        print(f"| {d} | {res.auroc['autoencoder'][i]:.2f} | {other['autoencoder'][i]:.2f} | "
              f"{res.auroc['pca'][i]:.2f} | {other['pca'][i]:.2f} | "
              f"{res.fit_seconds['autoencoder'][i]:.1f} |")
    print(f"| **mean** | **{res.mean_auroc('autoencoder'):.2f}** | "
          f"{np.mean(other['autoencoder']):.2f} | {res.mean_auroc('pca'):.2f} | "
          f"{np.mean(other['pca']):.2f} | {res.total_fit_seconds('autoencoder'):.0f} (total) |")
    print(f"\nautoencoder fits: {res.total_fit_seconds('autoencoder'):.1f} s wall in total "
          f"({np.mean(res.fit_seconds['autoencoder']):.1f} s per digit); "
          f"PCA fits {res.total_fit_seconds('pca'):.1f} s; whole run {total:.0f} s wall, "
          f"{sum(cpu['autoencoder']):.0f} CPU s for the autoencoder fits and scoring; "
          f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("references (mean AUROC %): " + ", ".join(f"{k} {v}" for k, v in REFERENCES.items()))
    if a.roc:
        roc_figure(res, a.roc)
    if a.json:
        out = res.to_dict()
        out.update({"autoencoder_mse_score_auroc": other["autoencoder"],
                    "pca_relative_score_auroc": other["pca"],
                    "autoencoder_cpu_seconds": cpu["autoencoder"],
                    "detector": repr(det), "torch_threads": torch.get_num_threads(),
                    "wall_seconds": total})
        from aekit.atomic import atomic_open

        with atomic_open(a.json) as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
