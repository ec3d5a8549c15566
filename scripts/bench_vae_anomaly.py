"""Protocol A with the VAE's ELBO as the anomaly score, beside AnomalyDetector() and PCA.

    python scripts/bench_vae_anomaly.py [--epochs 20] [--digits 0,1,...]

For each digit, ``VariationalAutoencoder(epochs=EPOCHS, random_state=0)`` (its defaults
otherwise: 784-512-256-[32], Bernoulli decoder on the grey pixels, KL warm-up 10 epochs,
cosine schedule) is fitted on that digit's training images; a test image's score is its
ELBO (``score_samples``, k = 1: higher is more normal). The default detector and the PCA
baseline are fitted on the same images in the same run (aekit.evaluation.oneclass).
Reported only: the detector's defaults are not changed by it.
"""

import argparse
import json

import torch

from aekit import VariationalAutoencoder
from aekit.evaluation.oneclass import default_detectors, one_class_auroc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--digits", default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    detectors = default_detectors(random_state=0, device="cpu")
    detectors["vae"] = VariationalAutoencoder(epochs=args.epochs, random_state=0, device="cpu")
    digits = [int(d) for d in args.digits.split(",")] if args.digits else None
    res = one_class_auroc(digits=digits, detectors=detectors, progress=lambda d, m, a, s: print(
        f"digit {d}: {m:<11} AUROC {a:6.2f} %  (fit {s:.1f} s)", flush=True))
    print(res.table())
    print(json.dumps({m: {"mean_auroc": round(res.mean_auroc(m), 2),
                          "fit_seconds": round(res.total_fit_seconds(m), 1)}
                      for m in res.methods}))


if __name__ == "__main__":
    main()
