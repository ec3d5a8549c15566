"""Protocol T with PyOD's references beside aekit (issue 17): PyOD is a benchmark-only
dependency (`pip install pyod`), not aekit's.

Runs aekit.evaluation.tables.protocol_t on the ADBench tables with AnomalyDetector()
defaults, AnomalyDetector(method="pca"), scikit-learn's IsolationForest(random_state=0),
PyOD's ECOD and PyOD's AutoEncoder at their defaults, in one run (and, with
--methods ...,aekit_rec, AnomalyDetector(objective="reconstruction"): the ablation of
the masked objective; with vae, VariationalAutoencoder(epochs=10)'s ELBO): AUROC / AP
per table,
the means, mean ranks, wins and the fit + score time.

    python scripts/bench_tables.py ../shared/data/adbench [--methods aekit,iforest,ecod,pyod_ae]
"""

import argparse

import numpy as np


class PyOD:
    """A PyOD detector behind protocol T's interface (score_samples: higher = more normal)."""

    def __init__(self, make):
        self.make = make

    def fit(self, X):
        self.model = self.make()
        self.model.fit(np.asarray(X, dtype=np.float32))
        return self

    def score_samples(self, X):
        return -self.model.decision_function(np.asarray(X, dtype=np.float32))


def ecod(seed):
    from pyod.models.ecod import ECOD

    return PyOD(lambda: ECOD())


def pyod_autoencoder(seed):
    from pyod.models.auto_encoder import AutoEncoder

    return PyOD(lambda: AutoEncoder(random_state=seed, verbose=0))


def aekit_reconstruction(seed):
    from aekit import AnomalyDetector

    return AnomalyDetector(objective="reconstruction", random_state=seed)


def aekit_vae(seed):
    """The VAE's ELBO as the score (issue 26; reported only): its defaults, 10 epochs."""
    from aekit import VariationalAutoencoder

    return VariationalAutoencoder(epochs=10, random_state=seed)


EXTRA = {"ecod": ecod, "pyod_ae": pyod_autoencoder, "aekit_rec": aekit_reconstruction,
         "vae": aekit_vae}


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--methods", default="aekit,pca,iforest,ecod,pyod_ae")
    p.add_argument("--tables")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json")
    a = p.parse_args()

    import pyod

    from aekit.evaluation.tables import protocol_t

    methods = a.methods.split(",")
    result = protocol_t(a.folder, methods, a.tables.split(",") if a.tables else None, a.seed,
                        detectors=EXTRA, progress=lambda t, m, auroc, s: print(
                            f"{t:<24} {m:<8} AUROC {auroc:6.2f} %  ({s:.1f} s)", flush=True))
    print(f"\nPyOD {pyod.__version__}; ecod = ECOD(), pyod_ae = AutoEncoder() at its defaults\n")
    print(result.table())
    if a.json:
        import json
        from pathlib import Path

        Path(a.json).write_text(json.dumps(result.to_dict(), indent=1))


if __name__ == "__main__":
    main()
