"""Protocol A (docs/protocols.md): one-class MNIST anomaly detection, AUROC per digit.

For each digit c a detector is fitted on the training images of c only and
scores all 10,000 test images; the anomalies are the test images of the other
digits. The autoencoder detector and the PCA baseline (scikit-learn's PCA
keeping 90% of the variance) run side by side on identical data.
"""

import time
from dataclasses import dataclass, field

import numpy as np

# Mean AUROC (%) of published methods under this protocol (docs/protocols.md, protocol A).
REFERENCES = {
    "KDE": 86.9, "DCAE": 89.7, "OC-SVM": 91.3, "Isolation Forest": 92.3,
    "PCA (90% variance)": 94.1, "Deep SVDD": 94.8, "OCGAN": 97.5, "GEOM": 98.0, "ARNet": 98.3,
}
METHOD_LABELS = {"autoencoder": "autoencoder", "pca": "PCA (90% var.)"}
ROC_POINTS = 200  # points kept per ROC curve: plenty for a figure, small in JSON


@dataclass
class OneClassResult:
    """AUROC (%) and fit time (s) per digit and method, with ROC curves for plotting."""

    digits: list
    methods: list
    auroc: dict = field(default_factory=dict)  # method -> [AUROC % per digit]
    fit_seconds: dict = field(default_factory=dict)  # method -> [s per digit]
    roc: dict = field(default_factory=dict)  # method -> [(fpr, tpr) per digit]
    n_train: list = field(default_factory=list)
    n_test: int = 0
    protocol: bool = True  # False when the training data was cut (--limit)

    def mean_auroc(self, method):
        return float(np.mean(self.auroc[method]))

    def total_fit_seconds(self, method):
        return float(np.sum(self.fit_seconds[method]))

    def table(self):
        """A Markdown table: one row per digit, AUROC and fit time per method, then the mean."""
        heads = ["digit", "train images"]
        for m in self.methods:
            heads += [f"{METHOD_LABELS.get(m, m)} AUROC %", f"{m} fit s"]
        rows = []
        for i, d in enumerate(self.digits):
            row = [str(d), str(self.n_train[i])]
            for m in self.methods:
                row += [f"{self.auroc[m][i]:.2f}", f"{self.fit_seconds[m][i]:.1f}"]
            rows.append(row)
        mean = ["mean", str(int(np.sum(self.n_train)))]
        for m in self.methods:
            mean += [f"**{self.mean_auroc(m):.2f}**", f"{self.total_fit_seconds(m):.1f} (total)"]
        rows.append(mean)
        widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(heads)]
        line = lambda cells: "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
        sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
        return "\n".join([line(heads), sep] + [line(r) for r in rows])

    def to_dict(self):
        return {
            "protocol": "A (one-class MNIST, AUROC %)" if self.protocol else "A, reduced data",
            "digits": list(self.digits),
            "n_train": list(self.n_train),
            "n_test": self.n_test,
            "auroc": {m: [round(v, 4) for v in self.auroc[m]] for m in self.methods},
            "mean_auroc": {m: round(self.mean_auroc(m), 4) for m in self.methods},
            "fit_seconds": {m: [round(v, 2) for v in self.fit_seconds[m]] for m in self.methods},
            "total_fit_seconds": {m: round(self.total_fit_seconds(m), 2) for m in self.methods},
        }


def default_detectors(random_state=0, device="auto", **autoencoder_params):
    """The detectors compared by protocol A: ``AnomalyDetector()`` defaults and PCA."""
    from ..anomaly import AnomalyDetector

    return {
        "autoencoder": AnomalyDetector(random_state=random_state, device=device,
                                       **autoencoder_params),
        # the published baseline: plain squared error, whatever the data
        "pca": AnomalyDetector(method="pca", n_components=0.9, score_type="mse",
                               random_state=random_state),
    }


def one_class_auroc(digits=None, detectors=None, data_dir=None, limit=None, progress=None,
                    data=None, on_fit=None):
    """Run protocol A and return a :class:`OneClassResult`.

    ``detectors`` maps a method name to an unfitted detector (anything with
    ``fit`` and ``score_samples``, higher = more normal), cloned for each digit;
    by default ``AnomalyDetector()`` and the PCA baseline. ``limit`` keeps only
    the first N training images per digit (a quick check, not the protocol).
    ``progress(digit, method, auroc, seconds)`` is called after each fit.
    ``data`` = (X_train, y_train, X_test, y_test) skips reading MNIST.
    ``on_fit(digit, method, detector, X_test, y_test)`` sees each fitted detector
    (e.g. to measure other scores of the same fit).
    """
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score, roc_curve

    if data is None:
        from ..datasets import load_mnist

        X, y = load_mnist("train", root=data_dir)
        Xt, yt = load_mnist("test", root=data_dir)
    else:
        X, y, Xt, yt = data
    digits = sorted(set(range(10) if digits is None else map(int, digits)))
    detectors = detectors if detectors is not None else default_detectors()
    methods = list(detectors)
    res = OneClassResult(digits=digits, methods=methods, n_test=int(len(Xt)),
                         protocol=limit is None)
    for m in methods:
        res.auroc[m], res.fit_seconds[m], res.roc[m] = [], [], []
    for d in digits:
        Xd = X[y == d]
        if limit is not None:
            Xd = Xd[:limit]
        res.n_train.append(int(len(Xd)))
        is_anomaly = (yt != d).astype(np.int8)
        for m in methods:
            det = clone(detectors[m])
            start = time.perf_counter()
            det.fit(Xd)
            seconds = time.perf_counter() - start
            score = -det.score_samples(Xt)  # higher = more anomalous
            auroc = 100.0 * roc_auc_score(is_anomaly, score)
            fpr, tpr, _ = roc_curve(is_anomaly, score)
            keep = np.unique(np.linspace(0, len(fpr) - 1, ROC_POINTS).round().astype(int))
            res.auroc[m].append(float(auroc))
            res.fit_seconds[m].append(float(seconds))
            res.roc[m].append((fpr[keep], tpr[keep]))
            if progress is not None:
                progress(d, m, auroc, seconds)
            if on_fit is not None:
                on_fit(d, m, det, Xt, yt)
    return res


def roc_figure(result, path):
    """ROC curves, one panel per digit, every method in each panel (PNG via aekit.plots)."""
    from .. import plots

    n = len(result.digits)
    cols = min(5, n)
    rows = (n + cols - 1) // cols
    fig, axes = plots.figure(rows, cols, figsize=(2.6 * cols, 2.6 * rows + 0.4), squeeze=False)
    for i, d in enumerate(result.digits):
        ax = axes[i // cols][i % cols]
        for m in result.methods:
            fpr, tpr = result.roc[m][i]
            ax.plot(fpr, tpr, lw=1.4, label=f"{METHOD_LABELS.get(m, m)} {result.auroc[m][i]:.1f}")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls=":")
        ax.set_title(f"normal digit {d}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6.5, loc="lower right", title="AUROC %", title_fontsize=6.5)
        if i % cols == 0:
            ax.set_ylabel("true positive rate", fontsize=8)
        if i // cols == rows - 1:
            ax.set_xlabel("false positive rate", fontsize=8)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    means = ", ".join(f"{METHOD_LABELS.get(m, m)} {result.mean_auroc(m):.2f}" for m in result.methods)
    what = "protocol A" if result.protocol else "reduced data, not protocol A"
    fig.suptitle(f"One-class MNIST ({what}): mean AUROC % {means}", fontsize=10)
    fig.tight_layout()
    return plots.save_figure(fig, path)
