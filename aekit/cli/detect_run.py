"""The work behind `aekit detect` (kept apart so `aekit detect --help` imports no torch)."""

import contextlib
import sys
from pathlib import Path

import click
import numpy as np

from ..errors import DataError, ModelFileError

DEFAULT_CONTAMINATION = 0.01
DEFAULT_PRETRAINED = "mnist-detector"
# ~16 MB of float32 per chunk, whatever the width: few enough chunks that pandas'
# per-column bookkeeping stays small, small enough that memory stays flat
CELLS_PER_CHUNK = 4_000_000
QUANTILE_PERCENTS = np.linspace(0, 100, 1001)  # as stored by `aekit train`


def _bundled_model_file():
    """The bundled detector's file (aekit.pretrained, issue 6), or None when not installed."""
    try:
        from ..pretrained import path_of
    except ImportError:
        return None
    try:
        return path_of(DEFAULT_PRETRAINED)
    except ModelFileError:
        return None


def resolve_model(path_or_none, device="auto"):
    """A :class:`Scorer` for the model file given, else for the bundled default."""
    path = path_or_none if path_or_none is not None else _bundled_model_file()
    if path is None:
        raise click.UsageError(
            "Missing option '--model': this installation has no bundled detector; give a "
            "model file from `aekit train` (e.g. `aekit train --digits 3 -o three.safetensors`)"
        )
    return Scorer(path, device=device)


class Scorer:
    """Reconstruction-error scores of any aekit model file, with its threshold rules.

    A saved AnomalyDetector scores with its own ``anomaly_score`` and brings its
    threshold and training-score quantiles. Autoencoder files from `aekit train`
    score a row by the score named in the file ("score_type", with its training
    quantiles "score_quantiles") or else by the mean squared error per feature
    in the model's scaled space, whose training quantiles are "error_quantiles";
    --contamination picks the threshold from those quantiles.

    On a CPU, a dense model runs in numpy (aekit.inference), which spares the
    imports of torch and scikit-learn; anything else loads as an estimator.
    """

    def __init__(self, path, device="auto"):
        from ..params import SCORES
        from ..serialization import estimator_from, read_model_file

        self.path = path
        doc, self.dense = _dense_model(path) if _numpy_can_run(device) else (None, None)
        self.model = None
        if self.dense is None:
            doc, tensors = read_model_file(path)
            self.model = estimator_from(doc, tensors, path, device)
        self.doc = doc
        self.kind = doc.get("estimator")
        self.is_detector = self.kind == "AnomalyDetector"
        self.n_features = int(doc["n_features"])
        names = doc.get("feature_names")
        self.feature_names = names if isinstance(names, list) else None
        extra = doc.get("extra") or {}
        self.detector_threshold = None
        if self.is_detector:
            if self.dense is not None:
                self.detector_threshold, self.score = self.dense.threshold, self.dense.score_type
            else:
                self.detector_threshold, self.score = self.model.threshold_, self.model.score_type_
            quantiles = extra.get("score_quantiles")
        elif doc.get("score_type") in SCORES[1:] and doc.get("score_quantiles") is not None:
            self.score, quantiles = doc["score_type"], doc["score_quantiles"]
        else:
            self.score, quantiles = "mse", doc.get("error_quantiles")
        self.quantiles = None
        if isinstance(quantiles, list) and len(quantiles) == len(QUANTILE_PERCENTS):
            self.quantiles = np.asarray(quantiles, dtype=np.float64)
        scaling = (doc.get("scaling") or {}).get("kind")
        if self.is_detector and scaling is None:  # PCA detectors store their scaling apart
            scaling = (extra.get("scaling") or {}).get("kind")
        data = doc.get("data") or {}
        # MNIST-like models see pixels in [0, 1]; CSVs of such images usually hold 0..255.
        self.pixel_model = scaling == "unit" and (self.n_features == 784 or bool(data.get("pixels")))
        self.digits = data.get("digits") if data.get("source") == "mnist" else None

    def threshold(self, contamination=None, threshold=None):
        """(threshold, how it was chosen)."""
        if threshold is not None:
            return float(threshold), "given"
        if contamination is None and self.is_detector:
            return float(self.detector_threshold), "the detector's own"
        c = DEFAULT_CONTAMINATION if contamination is None else contamination
        if self.quantiles is None:
            raise ModelFileError(
                f"{self.path} stores no training score quantiles to turn --contamination "
                "into a threshold; give --threshold"
            )
        value = float(np.interp(100.0 * (1.0 - c), QUANTILE_PERCENTS, self.quantiles))
        return value, f"contamination {c:g}"

    def contributions(self, X):
        """Per-feature contributions to the scores of float32 rows X (row means = scores)."""
        if self.dense is not None:
            return self.dense.contributions(X, self.score)
        from ..anomaly import autoencoder_contributions

        with _columns_in_model_order():
            if self.is_detector:
                return self.model.explain(X)
            return autoencoder_contributions(self.model, X, self.score)

    def scores(self, X):
        """The anomaly scores of float32 rows X, without the per-feature matrix."""
        if self.dense is not None:
            return self.dense.scores(X, self.score)
        from ..anomaly import autoencoder_scores

        with _columns_in_model_order():
            if self.is_detector:
                return self.model.anomaly_score(X)
            return autoencoder_scores(self.model, X, self.score)


def _numpy_can_run(device):
    from ..device import gpu_possible

    return device == "cpu" or (device in (None, "auto") and not gpu_possible())


def _dense_model(path):
    """(doc, DenseModel) of the file (aekit.inference), or (None, None) to load it the usual way."""
    from ..inference import load_dense
    from ..serialization import read_model_file

    try:
        doc, tensors = read_model_file(path, framework="numpy")
    except ModelFileError:  # the usual way words it (or reads what numpy cannot, e.g. bfloat16)
        return None, None
    dense = load_dense(doc, tensors, path)
    return (doc, dense) if dense is not None else (None, None)


@contextlib.contextmanager
def _columns_in_model_order():
    """Silence scikit-learn's feature-name warning: _column_order matched the names already."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield


def _feature_names(scorer, table):
    if table.has_header:
        return [str(n) for n in table.feature_names]
    if scorer.feature_names and len(scorer.feature_names) == table.n_features:
        return [str(n) for n in scorer.feature_names]
    if scorer.pixel_model and table.n_features == 784:
        return [f"pixel_r{i // 28}_c{i % 28}" for i in range(784)]
    return [str(n) for n in table.feature_names]


def _column_order(scorer, table, path):
    """Positions of the model's features among the table's feature columns.

    When both the model and the file name their features and the names match as
    a set, the file's column order does not matter; otherwise columns are taken
    in order.
    """
    if table.n_features != scorer.n_features:
        raise DataError(
            f"{path} has {table.n_features} feature columns but the model "
            f"{scorer.path} expects {scorer.n_features}"
            + (" (mark non-feature columns with --label-column / --id-column)"
               if table.n_features > scorer.n_features else "")
        )
    names = scorer.feature_names
    if not (table.has_header and names) or names == list(table.feature_names):
        return None
    if set(names) == set(table.feature_names) and len(set(names)) == len(names):
        where = {n: i for i, n in enumerate(table.feature_names)}
        return np.asarray([where[n] for n in names])
    click.echo(f"note: the columns of {path} are not named as the model's features; "
               "taking them in order", err=True)
    return None


class LabelBinarizer:
    """Turns a carried label column into 1 = anomaly / 0 = normal for the ROC curve."""

    def __init__(self, normal_labels, digits):
        self.normal = {str(v).strip() for v in normal_labels} if normal_labels else None
        self.digits = {str(int(d)) for d in digits} if digits and not normal_labels else None
        self.parts = []
        self.usable = True
        self.why = None

    def add(self, labels):
        if not self.usable:
            return
        s = labels.astype(str).str.strip()
        if self.normal is not None:
            self.parts.append((~s.isin(self.normal)).to_numpy(np.int8))
        elif self.digits is not None:
            s = s.str.replace(r"\.0$", "", regex=True)
            self.parts.append((~s.isin(self.digits)).to_numpy(np.int8))
        else:
            low = s.str.lower()
            ones, zeros = low.isin({"1", "1.0", "true", "anomaly"}), low.isin({"0", "0.0", "false", "normal"})
            if not (ones | zeros).all():
                self.usable = False
                self.why = ("the label column is not 0/1: name the normal value(s) with "
                            "--normal-label for the ROC curve")
                return
            self.parts.append(ones.to_numpy(np.int8))

    def result(self):
        if not self.usable or not self.parts:
            return None
        y = np.concatenate(self.parts)
        if y.min() == y.max():
            self.why = "the labels hold one class only: no ROC curve"
            return None
        return y


def run_detect(scorer, data, output="-", contamination=None, threshold=None, explain=0,
               label_column=None, id_column=None, normal_labels=(), report=None, quiet=False):
    from ..tabular import CsvTable, looks_like_pixels, prefetch

    table = CsvTable(data, label_column=label_column, id_column=id_column)
    table.chunksize = max(256, min(50_000, CELLS_PER_CHUNK // max(1, table.n_columns)))
    table.dtype = np.float32  # the models compute in float32
    order = _column_order(scorer, table, data)
    limit, how = scorer.threshold(contamination, threshold)
    k = min(int(explain), scorer.n_features)
    names = np.asarray(_feature_names(scorer, table), dtype=object)
    if order is not None:
        names = names[order]
    # ids first, then labels: the way people read an output row
    carried = sorted(table.carried_names, key=lambda n: n != "id" and n != id_column)
    keep_scores = report is not None
    labels = LabelBinarizer(normal_labels, scorer.digits) if report and label_column else None
    all_scores = []
    counts = {"rows": 0, "flagged": 0}
    pixels = None
    bar = None
    if not quiet:
        from tqdm.auto import tqdm

        bar = tqdm(unit=" rows", desc="scoring", file=sys.stderr, disable=None,
                   dynamic_ncols=True, leave=False)

    def prepared_chunks():
        nonlocal pixels
        # a pipe may block on the writer: read it in this thread, where Ctrl-C lands
        chunks = prefetch(table.chunks()) if table.is_regular_file else table.chunks()
        for ch in chunks:
            X = ch.X if order is None else ch.X[:, order]
            if pixels is None:
                pixels = scorer.pixel_model and looks_like_pixels(X)
            if pixels:
                X = X / np.float32(255.0)
            yield ch, X.astype(np.float32, copy=False)

    def score(item):
        ch, X = item
        if k:
            errors = scorer.contributions(X)
            return ch, errors.mean(axis=1), errors
        return ch, scorer.scores(X), None

    if scorer.dense is not None:
        from threadpoolctl import threadpool_limits

        workers, blas_threads = _scoring_threads()
        limits = threadpool_limits(blas_threads, user_api="blas")
        scored = _ordered_map(score, prepared_chunks(), workers)
    else:
        limits = contextlib.nullcontext()
        scored = map(score, prepared_chunks())

    with limits, _output(output) as out:
        header = True
        for ch, scores, errors in scored:
            flagged = scores > limit
            if ch.carried is None and not k and not np.isnan(scores).any():
                _write_scores(out, scores, flagged, header)
            else:
                _write_frame(out, ch, carried, scores, flagged, errors, k, names, header)
            if labels is not None:
                labels.add(ch.carried[table.carried_names[0]])
            header = False
            counts["rows"] += len(scores)
            counts["flagged"] += int(flagged.sum())
            if keep_scores:
                all_scores.append(np.asarray(scores, dtype=np.float64))
            if bar is not None:
                bar.update(len(scores))
    if bar is not None:
        bar.close()
    n, m = counts["rows"], counts["flagged"]
    if not quiet:
        scale = "; pixels 0..255 scaled to [0, 1]" if pixels else ""
        click.echo(f"scored {n} rows, flagged {m} ({100.0 * m / max(n, 1):.2f}%) with threshold "
                   f"{limit:.6g} ({how}){scale}", err=True)
    if report:
        _report(Path(report), np.concatenate(all_scores), limit, how,
                labels.result() if labels else None, labels, quiet)


def _scoring_threads():
    """(scoring threads, BLAS threads each): numpy's elementwise work (sigmoid, errors) runs
    on one core, so chunks are scored side by side, the cores shared out among them."""
    import os

    cores = os.cpu_count() or 1
    workers = max(1, min(4, cores))
    return workers, max(1, cores // workers)


def _ordered_map(fn, items, workers):
    """fn over items on ``workers`` threads, results in the items' order, few in flight."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix="aekit-score")
    pending = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # an error or an early stop (Ctrl-C, a closed pipe): drop the queued work
        pool.shutdown(wait=True, cancel_futures=True)


SCORE_COLUMNS = "anomaly_score,is_anomaly\n"


def _write_scores(out, scores, flagged, header):
    """The two output columns, formatted as _write_frame (pandas) formats them, ~6x faster
    (finite or infinite scores; pandas writes NaN as an empty cell)."""
    if header:
        out.write(SCORE_COLUMNS)
    out.write("".join(map("{:.6g},{:d}\n".format, scores.tolist(), flagged.tolist())))


def _write_frame(out, ch, carried, scores, flagged, errors, k, names, header):
    """Output rows with the carried columns and the --explain columns (pandas quotes text)."""
    import pandas as pd

    frame = pd.DataFrame(index=range(len(scores)))
    for name in carried:
        frame[name] = ch.carried[name].to_numpy()
    frame["anomaly_score"] = scores
    frame["is_anomaly"] = flagged.astype(np.int8)
    if k:
        top = np.argsort(-errors, axis=1, kind="stable")[:, :k]
        top_err = np.take_along_axis(errors, top, axis=1)
        for j in range(k):
            frame[f"top{j + 1}_feature"] = names[top[:, j]]
            frame[f"top{j + 1}_error"] = top_err[:, j]
    frame.to_csv(out, header=header, index=False, float_format="%.6g", lineterminator="\n")


@contextlib.contextmanager
def _output(output):
    """stdout for '-', else a temporary file renamed into place once every row is written."""
    if output is None or str(output) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    from ..atomic import atomic_open

    with atomic_open(output, "w", encoding="utf-8", newline="") as f:
        yield f


def _report(folder, scores, limit, how, y, labels, quiet):
    from .. import plots

    folder.mkdir(parents=True, exist_ok=True)
    written = [_histogram(plots, scores, limit, how, folder / "score_histogram.png", y)]
    if y is not None:
        from sklearn.metrics import roc_auc_score, roc_curve

        auroc = 100.0 * roc_auc_score(y, scores)
        fpr, tpr, _ = roc_curve(y, scores)
        fig, ax = plots.figure(figsize=(4.2, 4))
        ax.plot(fpr, tpr, lw=1.6, label=f"AUROC {auroc:.2f} %")
        at = float(np.mean(scores[y == 0] > limit)), float(np.mean(scores[y == 1] > limit))
        ax.plot(*at, "o", color="C3", label=f"threshold {limit:.3g}")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls=":")
        ax.set_xlabel("false positive rate (normal rows flagged)")
        ax.set_ylabel("true positive rate (anomalies flagged)")
        ax.set_title("ROC of anomaly_score against the labels")
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)
        written.append(plots.save_figure(fig, folder / "roc.png"))
        if not quiet:
            click.echo(f"AUROC of anomaly_score against the labels: {auroc:.2f} % "
                       f"({int(y.sum())} anomalies, {int(len(y) - y.sum())} normal rows)", err=True)
    elif labels is not None and labels.why and not quiet:
        click.echo(f"note: {labels.why}", err=True)
    if not quiet:
        for p in written:
            click.echo(f"wrote {p}", err=True)


def _histogram(plots, scores, limit, how, path, y=None):
    fig, ax = plots.figure(figsize=(6, 3.6))
    hi = max(float(np.percentile(scores, 99.5)), limit) * 1.15 if len(scores) else 1.0
    bins = np.linspace(0, hi if hi > 0 else 1.0, 60)
    clipped = np.minimum(scores, bins[-1])
    if y is not None:
        ax.hist(clipped[y == 0], bins=bins, alpha=0.6, label="normal (label)")
        ax.hist(clipped[y == 1], bins=bins, alpha=0.6, label="anomaly (label)")
    else:
        ax.hist(clipped, bins=bins, alpha=0.8, label="rows")
    ax.axvline(limit, color="C3", ls="--", label=f"threshold {limit:.3g} ({how})")
    ax.set_xlabel("anomaly_score (reconstruction error; last bin holds the larger ones)")
    ax.set_ylabel("rows")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return plots.save_figure(fig, path)


