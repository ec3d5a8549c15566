"""The suite's linear-subspace case (tests/test_anomaly.py), measured at two network sizes
and two trims: what share of the shifted rows the detector's own threshold flags.

600 training rows on a 3-d subspace of 8 features (plus noise of 0.05), 100 normal test
rows and 20 rows shifted by 6 off the subspace in one feature; contamination 0.02.
Printed per network ("tiny": the suite's 16-unit network trained for 10 epochs; "default":
the detector's own sizes and epochs) and trim: the share of shifted rows flagged, the
share of normal rows passed, and the AUROC of the scores.

    python scripts/bench_subspace_case.py
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from aekit import AnomalyDetector

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_anomaly import TINY, correlated  # noqa: E402  (the suite's own case)


def main():
    rng = np.random.RandomState(0)  # as the suite's fixture draws them
    X, normal, shifted = correlated(rng, 600), correlated(rng, 100), correlated(rng, 20, 6.0)
    y = np.r_[np.zeros(len(normal)), np.ones(len(shifted))]
    for name, params in (("tiny", TINY), ("default", dict(device="cpu", random_state=0))):
        for trim in (0.1, 0.3):
            det = AnomalyDetector(contamination=0.02, trim=trim, **params).fit(X)
            auroc = roc_auc_score(y, det.anomaly_score(np.vstack([normal, shifted])))
            print(f"{name:8s} trim {trim:g}: shifted rows flagged "
                  f"{np.mean(det.predict(shifted) == -1):.2f}, normal rows passed "
                  f"{np.mean(det.predict(normal) == 1):.2f}, AUROC {auroc:.3f}")


if __name__ == "__main__":
    main()
