"""Protocol T (docs/protocols.md): anomaly detection on real tables (ADBench's classical ones).

For each ``.npz`` table (``X``, ``y`` with 1 = anomaly): tables over 50,000 rows are cut
to 50,000 by a stratified subsample, the rows are split 70/30 (stratified, seed 42), each
detector is fitted on the training part with its anomalies (labels unused) and scores
the test part; AUROC and average precision per table, their means, each method's mean
rank (1 = best AUROC on a table) and wins, and the fit + score time.

    >>> from aekit.evaluation.tables import protocol_t            # doctest: +SKIP
    >>> result = protocol_t("../shared/data/adbench")             # doctest: +SKIP
    >>> print(result.table())                                     # doctest: +SKIP
"""

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_ROWS = 50_000
MIN_PER_CLASS = 4  # rows of each class: a stratified 30% then holds at least one of each
TEST_SIZE = 0.3
SPLIT_SEED = 42
SUBSAMPLE_SEED = 0
METHODS = ("aekit", "pca", "iforest")
LABELS = {"aekit": "AnomalyDetector()", "pca": 'AnomalyDetector(method="pca")',
          "iforest": "IsolationForest(random_state=0)"}
# the detector parameters a run may set, and the methods each applies to: the trim is the
# masked detector's; how columns are read (categorical) is every method's on a table
METHOD_PARAMS = {"trim": ("aekit",), "categorical": ("aekit", "pca", "iforest")}


def params_of(method, params=None):
    """The parameters of ``params`` (a dict of :data:`METHOD_PARAMS` names; None or
    missing: defaults) that ``method`` takes, in :data:`METHOD_PARAMS`' order."""
    params = params or {}
    return {k: params[k] for k in METHOD_PARAMS if params.get(k) is not None
            and method in METHOD_PARAMS[k]}


def method_label(method, params=None):
    """How ``method`` is named in reports, plots and JSON: its constructor (:data:`LABELS`),
    with the parameters of ``params`` it takes (e.g. ``AnomalyDetector(trim=0.0)``)."""
    label, given = LABELS.get(method, method), params_of(method, params)
    if not given:
        return label
    shown = ", ".join(f"{k}={list(v) if isinstance(v, tuple) else v!r}"
                      for k, v in given.items())
    if method == "iforest":  # not its parameter: how the columns it is given were read
        return f"{label} on the columns read with {shown}"
    return f"{label[:-1]}, {shown})" if not label.endswith("()") else f"{label[:-1]}{shown})"


def make_detector(method, seed=0, device="auto", params=None, verbose=0):
    """An unfitted detector of protocol T: ``score_samples`` higher = more normal.
    ``params``: detector parameters (:data:`METHOD_PARAMS`), each given to the methods
    that take it; ``verbose``: aekit's (1: training progress bars).

    Raises
    ------
    ValueError
        An unknown ``method``; ``categorical`` for IsolationForest on numbers (its
        columns are read as numbers: :mod:`aekit.evaluation.labelled_table`'s reads a
        table's columns as aekit does).
    """
    given = params_of(method, params)
    if method == "aekit":
        from ..anomaly import AnomalyDetector

        return AnomalyDetector(random_state=seed, device=device, verbose=verbose, **given)
    if method == "pca":
        from ..anomaly import AnomalyDetector

        return AnomalyDetector(method="pca", random_state=seed, **given)
    if method == "iforest" and given:
        raise ValueError("IsolationForest reads numbers: categorical columns need a "
                         "labelled table's detectors (aekit.evaluation.labelled_table)")
    if method == "iforest":
        from sklearn.ensemble import IsolationForest

        return IsolationForest(random_state=seed)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def table_files(folder):
    """The ``.npz`` tables of ``folder``, in ADBench's numbering."""
    def number(p):
        m = re.match(r"(\d+)_", p.name)
        return (int(m.group(1)) if m else 10**9, p.name)

    files = sorted(Path(folder).glob("*.npz"), key=number)
    if not files:
        from ..errors import DataError

        raise DataError(f"no .npz tables in {folder}")
    return files


def halves(tables):
    """Protocol T's halves of ``tables`` (names in ADBench's numbering, as
    :func:`table_files` orders them): ``{"A": 1st, 3rd, 5th..., "B": 2nd, 4th, ...}``."""
    return {"A": list(tables[0::2]), "B": list(tables[1::2])}


def read_table(path):
    """``(X, y)`` of a ``.npz`` table, checked: ``X`` (n, d) finite numbers within float32's
    range, ``y`` (n,) labels 1 (anomaly) and 0 (normal), as ADBench writes them (bools and
    0.0 / 1.0 too), at least :data:`MIN_PER_CLASS` of each.

    Raises
    ------
    aekit.errors.DataError
        Naming the file and what is wrong with it (labels such as -1/+1 would otherwise
        be read as a class each, and an AUROC come out inverted).
    """
    from ..errors import DataError, literal

    name = literal(Path(path).name)
    try:
        with np.load(path, allow_pickle=False) as d:
            if "X" not in d or "y" not in d:
                raise DataError(f"{name} holds no arrays named X and y (it holds "
                                f"{literal(', '.join(d.files) or 'none')})")
            X, y = np.asarray(d["X"]), np.asarray(d["y"])
    except (OSError, ValueError, EOFError, TypeError) as e:  # not a zip of .npy arrays (a
        # lone .npy loads as an array, which is no context manager: TypeError)
        if isinstance(e, DataError):
            raise
        raise DataError(f"{name} is not a .npz archive of arrays X and y") from None
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.number) and X.dtype != bool:
        raise DataError(f"{name}: X must be a 2-D array of numbers, not {X.ndim}-D {X.dtype}")
    X = X.astype(np.float64)
    if not np.isfinite(X).all() or np.abs(X).max(initial=0) > np.finfo(np.float32).max:
        r, c = np.argwhere(~np.isfinite(X) | (np.abs(X) > np.finfo(np.float32).max))[0]
        raise DataError(f"{name}: X holds {X[r, c]:g} (row {r}, column {c}); protocol T's "
                        "tables hold finite numbers within float32's range")
    y = y.ravel()
    if len(y) != len(X):
        raise DataError(f"{name}: y holds {len(y)} labels for {len(X)} rows of X")
    ok = np.issubdtype(y.dtype, np.number) or y.dtype == bool
    if not ok or not np.isin(y.astype(np.float64) if ok else y, (0.0, 1.0)).all():
        seen = ", ".join(map(str, np.unique(y)[:6]))
        raise DataError(f"{name}: y must hold 1 (anomaly) and 0 (normal); it holds "
                        f"{literal(seen)}")
    y = y.astype(int)
    check_class_counts(y, name)
    return X, y


def check_class_counts(y, source):
    """Refuse 0/1 labels ``y`` with fewer than :data:`MIN_PER_CLASS` rows of a class, which
    a stratified split cannot put in both parts (a DataError naming ``source``)."""
    from ..errors import DataError

    counts = {"anomalies": int(y.sum()), "normal rows": int(len(y) - y.sum())}
    few = [f"{n} {what}" for what, n in counts.items() if n < MIN_PER_CLASS]
    if few:
        raise DataError(f"{source}: too few labelled rows for a stratified "
                        f"{100 - int(100 * TEST_SIZE)}/{int(100 * TEST_SIZE)} split: "
                        f"{' and '.join(few)}; need at least {MIN_PER_CLASS} of each")


def split(path):
    """``(X_train, X_test, y_test)`` of one table (:func:`read_table`), as protocol T cuts
    and splits it."""
    from sklearn.model_selection import train_test_split

    X, y = read_table(path)  # (checked first: a bad table is named before its split)
    if len(X) > MAX_ROWS:
        X, _, y, _ = train_test_split(X, y, train_size=MAX_ROWS, stratify=y,
                                      random_state=SUBSAMPLE_SEED)
    X_train, X_test, _, y_test = train_test_split(X, y, test_size=TEST_SIZE, stratify=y,
                                                  random_state=SPLIT_SEED)
    return X_train, X_test, y_test


PROTOCOL_T = "T (ADBench classical tables, AUROC and AP %)"


@dataclass
class TablesResult:
    tables: list
    methods: list
    auroc: dict = field(default_factory=dict)  # method -> [% per table]
    ap: dict = field(default_factory=dict)  # method -> [% per table]
    seconds: dict = field(default_factory=dict)  # method -> [fit + score s per table]
    shapes: list = field(default_factory=list)  # (rows, features, test rows' anomaly %) per table
    protocol: str = PROTOCOL_T  # what the tables are and how they were split (for JSON)
    params: dict = field(default_factory=dict)  # detector parameters set (METHOD_PARAMS)

    def label(self, method):
        """How ``method`` is named (:func:`method_label`, with this run's parameters)."""
        return method_label(method, self.params)

    def mean(self, what, method):
        return float(np.mean(getattr(self, what)[method]))

    def subset(self, names):
        """The result on the tables ``names`` only (in this result's order)."""
        idx = [i for i, t in enumerate(self.tables) if t in set(names)]
        pick = {what: {m: [getattr(self, what)[m][i] for i in idx] for m in self.methods}
                for what in ("auroc", "ap", "seconds")}
        return TablesResult([self.tables[i] for i in idx], list(self.methods), **pick,
                            shapes=[self.shapes[i] for i in idx], protocol=self.protocol,
                            params=self.params)

    def ranks(self):
        """method -> rank per table by AUROC (1 = best; ties share the mean rank)."""
        from scipy.stats import rankdata

        A = np.array([self.auroc[m] for m in self.methods])
        R = np.vstack([rankdata(-A[:, t]) for t in range(A.shape[1])]).T
        return {m: R[i] for i, m in enumerate(self.methods)}

    def wins(self):
        A = np.array([self.auroc[m] for m in self.methods])
        best = A.max(axis=0)
        return {m: int(np.sum(A[i] == best)) for i, m in enumerate(self.methods)}

    def table(self):
        """A Markdown table: one row per table, then the means, ranks, wins and times."""
        heads = ["table", "rows", "features", "test anomalies %"]
        heads += [f"{m} AUROC" for m in self.methods] + [f"{m} AP" for m in self.methods]
        heads += [f"{m} s" for m in self.methods]
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        for i, name in enumerate(self.tables):
            rows, feats, share = self.shapes[i]
            cells = [name, f"{rows:,}", str(feats), f"{share:.2f}"]
            cells += [f"{self.auroc[m][i]:.2f}" for m in self.methods]
            cells += [f"{self.ap[m][i]:.2f}" for m in self.methods]
            cells += [f"{self.seconds[m][i]:.1f}" for m in self.methods]
            lines.append("| " + " | ".join(cells) + " |")
        ranks, wins = self.ranks(), self.wins()
        summary = [("**mean**", "auroc", "ap"), ("mean rank", None, None), ("wins", None, None)]
        for label, _, _ in summary:
            cells = [label, "", "", ""]
            if label == "**mean**":
                cells += [f"**{self.mean('auroc', m):.2f}**" for m in self.methods]
                cells += [f"**{self.mean('ap', m):.2f}**" for m in self.methods]
                cells += [f"{np.sum(self.seconds[m]):.0f} (total)" for m in self.methods]
            elif label == "mean rank":
                cells += [f"{np.mean(ranks[m]):.2f}" for m in self.methods] + \
                    [""] * (2 * len(self.methods))
            else:
                cells += [str(wins[m]) for m in self.methods] + [""] * (2 * len(self.methods))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def to_dict(self):
        ranks, wins = self.ranks(), self.wins()
        return {"protocol": self.protocol,
                "tables": self.tables, "methods": {m: self.label(m) for m in self.methods},
                "shapes": self.shapes,
                "auroc": {m: [round(v, 4) for v in self.auroc[m]] for m in self.methods},
                "ap": {m: [round(v, 4) for v in self.ap[m]] for m in self.methods},
                "seconds": {m: [round(v, 2) for v in self.seconds[m]] for m in self.methods},
                "mean_auroc": {m: round(self.mean("auroc", m), 4) for m in self.methods},
                "mean_ap": {m: round(self.mean("ap", m), 4) for m in self.methods},
                "mean_rank": {m: round(float(np.mean(ranks[m])), 4) for m in self.methods},
                "wins": wins,
                "total_seconds": {m: round(float(np.sum(self.seconds[m])), 1)
                                  for m in self.methods}}


def protocol_t(folder, methods=METHODS, tables=None, seed=0, device="auto", detectors=None,
               progress=None, params=None):
    """Run protocol T on the tables of ``folder`` (or the named ``tables`` among them).
    ``params``: detector parameters (:data:`METHOD_PARAMS`; a trim) set for the run.

    ``detectors`` maps extra method names to factories ``f(seed) -> detector`` (anything
    with ``fit`` and ``score_samples``); ``progress(table, method, auroc, seconds)`` is
    called after each fit.

    Raises
    ------
    DataError
        No ``.npz`` table in ``folder``, a named table is not among them, or a table is
        not as :func:`read_table` reads them (all checked before the first fit).
    """
    files = table_files(folder)
    if tables is not None:
        from ..errors import DataError, literal

        known = {f.stem for f in files} | {f.name for f in files}
        missing = [t for t in tables if t not in known]
        if missing or not tables:
            what = f"no table {repr(missing[0])} in" if missing else "no table named among"
            raise DataError(f"{literal(what)} the tables of {literal(folder)}: "
                            f"{literal(', '.join(f.stem for f in files[:6]))}"
                            + (f" and {len(files) - 6} more" if len(files) > 6 else ""))
        files = [f for f in files if f.stem in set(tables) or f.name in set(tables)]
    splits = [(f.stem, split(f)) for f in files]  # every table read and checked before
    # any is fitted (each cut to protocol T's rows, so that all are held at once)
    res = TablesResult([], list(methods), params=dict(params or {}))
    for m in methods:
        res.auroc[m], res.ap[m], res.seconds[m] = [], [], []

    def make(m):
        return (detectors[m](seed) if detectors and m in detectors
                else make_detector(m, seed, device, params))

    for name, parts in splits:
        score_split(res, name, *parts, make, progress)
    return res


def score_split(res, name, X_train, X_test, y_test, make, progress=None):
    """Fit each method of ``res`` (a :class:`TablesResult`, extended in place) on
    ``X_train`` (labels unused) and score ``X_test`` against ``y_test`` (1 = anomaly):
    the table ``name``'s AUROC, AP and fit + score seconds. ``make(method)`` gives an
    unfitted detector (``score_samples``: higher = more normal)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    res.tables.append(name)
    res.shapes.append((len(X_train) + len(X_test), X_train.shape[1],
                       round(100.0 * float(np.mean(y_test)), 2)))
    for m in res.methods:
        det = make(m)
        start = time.perf_counter()
        det.fit(X_train)
        score = -det.score_samples(X_test)
        seconds = time.perf_counter() - start
        res.auroc.setdefault(m, []).append(100.0 * float(roc_auc_score(y_test, score)))
        res.ap.setdefault(m, []).append(100.0 * float(average_precision_score(y_test, score)))
        res.seconds.setdefault(m, []).append(seconds)
        if progress is not None:
            progress(name, m, res.auroc[m][-1], seconds)
    return res


def dot_plot(result, path, title="ADBench tables"):
    """Per-table AUROC of every method, tables sorted by the first method's margin;
    ``title`` names what the tables are."""
    from .. import plots

    methods = result.methods
    first = np.array(result.auroc[methods[0]])
    others = np.max([result.auroc[m] for m in methods[1:]], axis=0) if len(methods) > 1 \
        else first
    order = np.argsort(first - others)
    fig, ax = plots.figure(figsize=(7, 0.32 * len(result.tables) + 1.4))
    for k, m in enumerate(methods):
        lift = (k - (len(methods) - 1) / 2) * 0.15  # methods side by side: none hidden
        ax.scatter(np.array(result.auroc[m])[order], np.arange(len(order)) + lift, s=28,
                   marker="os^dv"[k % 5], label=f"{result.label(m)}: mean "
                   f"{result.mean('auroc', m):.1f}", zorder=3 - k * 0.1)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.set_yticks(np.arange(len(order)))
    ax.set_yticklabels([result.tables[i] for i in order], fontsize=8)
    ax.axvline(50, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("AUROC % on the test part (protocol T)")
    ax.grid(axis="x", alpha=0.3)
    # below the axis, where it can hide no table's dots
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07 - 0.5 / (
        0.32 * len(result.tables) + 1.4)), frameon=False)  # below the axis label too
    ax.set_title(f"{title}: fitted on 70% with its anomalies, scored on 30%", fontsize=9)
    return plots.save_figure(fig, path)
