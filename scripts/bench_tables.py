"""Protocol T with the peers of issue 24 beside aekit's default detector, in one run.

Every figure printed is computed by this run (no cache): each method is fitted on the
training part of each table (protocol T's cut and split: aekit.evaluation.tables.split)
and scores its test part. Methods (--methods, comma-separated; default: the first ten):

    aekit     AnomalyDetector(random_state=seed)          aekit's defaults
    iforest   IsolationForest(random_state=seed)          scikit-learn, raw features
    knn       pyod KNN()                                  standardised features
    lof       pyod LOF()                                  standardised features
    cblof     pyod CBLOF(random_state=seed)               standardised features
    copod     pyod COPOD()                                standardised features
    hbos      pyod HBOS()                                 standardised features
    ecod      pyod ECOD()                                 raw features
    pyod_ae   pyod AutoEncoder(random_state=seed)         raw (it standardises itself)
    pca       PCA reconstruction error, 90% of the variance (all but the last component
              when 90% needs every one), standardised features
    aekit_pca AnomalyDetector(method="pca")               (optional)
    aekit_rec AnomalyDetector(objective="reconstruction") (optional: the masked objective's
              ablation)
    vae       VariationalAutoencoder(epochs=10): minus its ELBO (optional; issue 26, reported
              only)

Standardising uses the training part's mean and standard deviation and is timed with the
method. A method that raises on a table counts as AUROC 50 there (issue 24's rule; AP =
the anomaly share) and is listed as a crash. Reported: AUROC per table, then per half of
the tables (protocol T's halves: sorted by ADBench number, A = 1st, 3rd, ...; B = 2nd,
4th, ...) and in all: mean AUROC, mean AP, mean rank among the methods run (1 = best),
wins (ties count for each), and the fit + score seconds. Threads are held to --threads
(default 1); seconds depend on the machine and its load.

PyOD is a benchmark-only dependency (`pip install "aekit[bench]"` or `pip install pyod`).

    OMP_NUM_THREADS=1 python scripts/bench_tables.py --seed 0
    python scripts/bench_tables.py --tables 38_thyroid,42_WBC --methods aekit,iforest,ecod
"""

import argparse
import json
import os
import sys
import time

import numpy as np

DEFAULT_METHODS = ("aekit", "iforest", "knn", "lof", "cblof", "copod", "hbos", "ecod",
                   "pyod_ae", "pca")
OPTIONAL = ("aekit_pca", "aekit_rec", "vae")
STANDARDISED = {"knn", "lof", "cblof", "copod", "hbos", "pca"}


class PCAReconstruction:
    """PCA reconstruction error (squared, summed over features), 90% of the variance kept
    (all components but the last when 90% needs them all: else every error is rounding)."""

    def fit(self, X):
        from sklearn.decomposition import PCA

        self.pca = PCA(n_components=0.9, svd_solver="full").fit(X)
        if self.pca.n_components_ >= X.shape[1] > 1:  # every component: errors of rounding
            self.pca = PCA(n_components=X.shape[1] - 1, svd_solver="full").fit(X)
        return self

    def decision_function(self, X):
        R = self.pca.inverse_transform(self.pca.transform(X))
        return ((X - R) ** 2).sum(axis=1)


def pyod_model(name, seed):
    """A PyOD detector at its defaults (higher decision_function = more anomalous)."""
    if name == "knn":
        from pyod.models.knn import KNN
        return KNN()
    if name == "lof":
        from pyod.models.lof import LOF
        return LOF()
    if name == "cblof":
        from pyod.models.cblof import CBLOF
        return CBLOF(random_state=seed)
    if name == "copod":
        from pyod.models.copod import COPOD
        return COPOD()
    if name == "hbos":
        from pyod.models.hbos import HBOS
        return HBOS()
    if name == "ecod":
        from pyod.models.ecod import ECOD
        return ECOD()
    if name == "pyod_ae":
        from pyod.models.auto_encoder import AutoEncoder
        return AutoEncoder(random_state=seed, verbose=0)
    raise ValueError(name)


def anomaly_scores(name, seed, X_train, X_test):
    """Fit ``name`` on the training rows; the test rows' anomaly scores (higher = more
    anomalous)."""
    if name in STANDARDISED:
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if name == "vae":  # score_samples is the ELBO (higher = more likely)
        from aekit import VariationalAutoencoder

        return -VariationalAutoencoder(epochs=10, random_state=seed).fit(
            X_train).score_samples(X_test)
    if name.startswith("aekit") or name == "iforest":
        from sklearn.ensemble import IsolationForest

        from aekit import AnomalyDetector

        det = {"aekit": lambda: AnomalyDetector(random_state=seed),
               "aekit_pca": lambda: AnomalyDetector(method="pca", random_state=seed),
               "aekit_rec": lambda: AnomalyDetector(objective="reconstruction",
                                                    random_state=seed),
               "iforest": lambda: IsolationForest(random_state=seed)}[name]()
        return -det.fit(X_train).score_samples(X_test)
    model = PCAReconstruction() if name == "pca" else pyod_model(name, seed)
    if name == "pyod_ae":
        X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    return model.fit(X_train).decision_function(X_test)


def measure(name, seed, X_train, X_test, y_test):
    """``(auroc %, ap %, seconds, crash message or "")`` of one method on one table."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    start = time.perf_counter()
    try:
        s = np.asarray(anomaly_scores(name, seed, X_train, X_test), dtype=np.float64)
        seconds = time.perf_counter() - start
        if not np.all(np.isfinite(s)):
            raise ValueError("non-finite scores")
    except Exception as e:  # issue 24: a method that crashes on a table counts as 50
        return 50.0, 100.0 * float(np.mean(y_test)), time.perf_counter() - start, \
            f"{type(e).__name__}: {e}"[:200]
    return (100.0 * float(roc_auc_score(y_test, s)),
            100.0 * float(average_precision_score(y_test, s)), seconds, "")


def limit_threads(n):
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    return threadpool_limits(n)


def warm_up(methods, seed):
    """One untimed fit of each method on a small random table: imports and numba's
    compilation (HBOS, CBLOF, COPOD) are not charged to the first table."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 4)), np.r_[np.zeros(190), np.ones(10)]
    for m in methods:
        measure(m, seed, X[:150], X[150:], y[150:])


def run(folder, methods, tables, seed):
    """The TablesResult of all methods on the tables, and the crashes {method: {table: msg}}."""
    from aekit.evaluation.tables import TablesResult, split, table_files

    files = table_files(folder)
    if tables:
        files = [f for f in files if f.stem in set(tables) or f.name in set(tables)]
        missing = set(tables) - {f.stem for f in files} - {f.name for f in files}
        if missing:
            sys.exit(f"error: no table(s) {', '.join(sorted(missing))} in {folder}")
    res = TablesResult([f.stem for f in files], list(methods))
    crashes = {m: {} for m in methods}
    for m in methods:
        res.auroc[m], res.ap[m], res.seconds[m] = [], [], []
    for f in files:
        X_train, X_test, y_test = split(f)
        res.shapes.append((len(X_train) + len(X_test), X_train.shape[1],
                           round(100.0 * float(np.mean(y_test)), 2)))
        for m in methods:
            auroc, ap, seconds, crash = measure(m, seed, X_train, X_test, y_test)
            res.auroc[m].append(auroc)
            res.ap[m].append(ap)
            res.seconds[m].append(seconds)
            if crash:
                crashes[m][f.stem] = crash
            print(f"{f.stem:<20} {m:<9} AUROC {auroc:6.2f}  ({seconds:6.1f} s)"
                  + (f"  CRASH {crash}" if crash else ""), file=sys.stderr, flush=True)
    return res, crashes


def per_table(res):
    heads = ["table", "rows", "features", "test anomalies %"] + res.methods
    lines = ["| " + " | ".join(heads) + " |", "|---|" + "---:|" * (len(heads) - 1)]
    for i, name in enumerate(res.tables):
        rows, feats, share = res.shapes[i]
        best = max(res.auroc[m][i] for m in res.methods)
        cells = [f"**{res.auroc[m][i]:.2f}**" if res.auroc[m][i] == best
                 else f"{res.auroc[m][i]:.2f}" for m in res.methods]
        lines.append(f"| {name} | {rows:,} | {feats} | {share:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(res, halves):
    """Per method: mean AUROC / mean rank / wins per half and in all, AP, seconds."""
    parts = {h: res.subset(names) for h, names in halves.items() if names}
    heads = ["method"] + [f"{h} ({len(p.tables)}): AUROC / rank / wins" for h, p in parts.items()]
    heads += ["all: mean AP", "fit + score s (all)"]
    lines = ["| " + " | ".join(heads) + " |", "|---|" + "---:|" * (len(heads) - 1)]
    ranks = {h: p.ranks() for h, p in parts.items()}
    wins = {h: p.wins() for h, p in parts.items()}
    for m in res.methods:
        cells = [f"{p.mean('auroc', m):.2f} / {np.mean(ranks[h][m]):.2f} / {wins[h][m]}"
                 for h, p in parts.items()]
        cells += [f"{res.mean('ap', m):.2f}", f"{np.sum(res.seconds[m]):.1f}"]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", nargs="?", default=os.environ.get("AEKIT_TABLES",
                                                               "/work/shared/data/adbench"))
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    p.add_argument("--tables", help="comma-separated table stems (e.g. 38_thyroid)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args()
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(DEFAULT_METHODS) - set(OPTIONAL))
    if unknown or not methods:
        sys.exit(f"error: unknown method(s) {', '.join(unknown)}; use "
                 f"{', '.join(DEFAULT_METHODS + OPTIONAL)}")
    import pyod

    from aekit.evaluation.tables import halves, table_files

    limit_threads(a.threads)
    warm_up(methods, a.seed)
    start = time.perf_counter()
    res, crashes = run(a.folder, methods, a.tables.split(",") if a.tables else None, a.seed)
    wall = time.perf_counter() - start
    # the halves of all the folder's tables, whichever of them were run
    split_halves = halves([f.stem for f in table_files(a.folder)])
    split_halves["all"] = res.tables
    print(f"protocol T, seed {a.seed}, {len(res.tables)} tables, {a.threads} thread(s); "
          f"PyOD {pyod.__version__}; wall {wall:.0f} s; every figure computed in this run\n")
    print(per_table(res) + "\n")
    print(summary(res, split_halves))
    for m, where in crashes.items():
        for t, msg in where.items():
            print(f"crash (counted as AUROC 50): {m} on {t}: {msg}")
    if a.json:
        doc = res.to_dict() | {"seed": a.seed, "threads": a.threads, "crashes": crashes,
                               "halves": split_halves, "wall_seconds": round(wall, 1),
                               "command": "python " + " ".join(sys.argv)}
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
