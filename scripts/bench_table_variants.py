"""Protocol T for variants of AnomalyDetector() measured for issue 17: each runs through
aekit.evaluation.tables.protocol_t as an extra detector, and its mean AUROC and mean rank
are printed beside the defaults, PCA and IsolationForest of the same seed.

The variants were measured before trimming became the default (``trim="auto"``: fit
twice, the second time without the training rows the first fit scores in its top 10%),
so each is built with ``trim=0`` and compares with ``notrim``:

- notrim: AnomalyDetector(trim=0), the defaults without trimming (the ablation).
- gaussian: Gaussian instead of Laplace mixtures in the masked network.
- seeds3: the scores of three networks trained with different seeds, averaged.
- combo: a masked and a reconstruction network, each score as a robust z of its log
  (median and MAD of the training rows' log scores), averaged.

    python scripts/bench_table_variants.py ../shared/data/adbench --variant notrim --seeds 0,1
"""

import argparse

import numpy as np


class Seeds3:
    def __init__(self, seed):
        self.seed = seed

    def fit(self, X):
        from aekit import AnomalyDetector

        self.models = [AnomalyDetector(random_state=self.seed + 1000 * k, trim=0).fit(X)
                       for k in range(3)]
        return self

    def score_samples(self, X):
        return np.mean([m.score_samples(X) for m in self.models], axis=0)


def _robust_z(train_scores):
    logs = np.log(np.maximum(train_scores, 1e-12))
    median = np.median(logs)
    mad = 1.4826 * np.median(np.abs(logs - median)) + 1e-9
    return lambda s: (np.log(np.maximum(s, 1e-12)) - median) / mad


class Combo:
    def __init__(self, seed):
        self.seed = seed

    def fit(self, X):
        from aekit import AnomalyDetector

        self.models = [AnomalyDetector(random_state=self.seed, objective=o, trim=0).fit(X)
                       for o in ("masked", "reconstruction")]
        self.z = [_robust_z(m.anomaly_score(X)) for m in self.models]
        return self

    def score_samples(self, X):
        return -np.mean([z(m.anomaly_score(X)) for z, m in zip(self.z, self.models)], axis=0)


class NoTrim:
    def __init__(self, seed):
        self.seed = seed

    def fit(self, X):
        from aekit import AnomalyDetector

        self.model = AnomalyDetector(random_state=self.seed, trim=0).fit(X)
        return self

    def score_samples(self, X):
        return self.model.score_samples(X)


class Gaussian:
    def __init__(self, seed):
        self.seed = seed

    def fit(self, X):
        import aekit.design
        from aekit import AnomalyDetector

        laplace, aekit.design.MIXTURE = aekit.design.MIXTURE, "gaussian"  # read at build
        try:
            self.model = AnomalyDetector(random_state=self.seed, trim=0).fit(X)
        finally:
            aekit.design.MIXTURE = laplace
        return self

    def score_samples(self, X):
        return self.model.score_samples(X)


VARIANTS = {"notrim": NoTrim, "gaussian": Gaussian, "seeds3": Seeds3, "combo": Combo}


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    p.add_argument("--seeds", default="0")
    a = p.parse_args()

    from scipy.stats import rankdata

    from aekit.evaluation.tables import protocol_t

    for seed in map(int, a.seeds.split(",")):
        res = protocol_t(a.folder, ["aekit", "pca", "iforest", a.variant], seed=seed,
                         detectors={a.variant: VARIANTS[a.variant]})
        print(f"seed {seed}: mean AUROC " + ", ".join(
            f"{m} {res.mean('auroc', m):.2f}" for m in res.methods), flush=True)
        for first in ("aekit", a.variant):  # mean ranks with one aekit at a time
            A = np.array([res.auroc[m] for m in (first, "pca", "iforest")])
            R = np.array([rankdata(-A[:, t]) for t in range(A.shape[1])]).mean(axis=0)
            print(f"  mean rank among {first}, pca, iforest: {R[0]:.2f}, {R[1]:.2f}, "
                  f"{R[2]:.2f}", flush=True)

if __name__ == "__main__":
    main()
