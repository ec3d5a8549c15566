"""Scoring tables with a model file: the work behind `aekit detect`, and its per-partition
form for Dask and Spark.

:class:`Scorer` opens any aekit model file (or bundled model) for scoring. On a
CPU a dense model runs in numpy (:mod:`aekit.inference`), sparing the imports of
torch and scikit-learn; anything else loads as an estimator. An autoencoder file
scores rows by its own reconstruction error; an AnomalyDetector file brings its
threshold too. :func:`detect_table` streams a table through it into a
:class:`~aekit.tables.writers.TableWriter`; :func:`score_frame` scores one
DataFrame (a partition).
"""

import contextlib
from dataclasses import dataclass, field

import numpy as np

from .model_input import ModelInput, arrays_in_model_order
from .tables.writers import SCORE_COLUMNS

PIXEL_NAMES = [f"pixel_r{i // 28}_c{i % 28}" for i in range(784)]


def numpy_can_run(device):
    """Whether a numpy engine may stand in for torch on ``device`` (no GPU wanted or found)."""
    from .device import gpu_possible

    return device == "cpu" or (device in (None, "auto") and not gpu_possible())


class Scorer:
    """A model opened for scoring rows (see the module's notes).

    Attributes: ``path``, ``schema`` (:class:`~aekit.preprocessing.InputSchema`),
    ``rule`` (:class:`~aekit.scoring.ScoreRule`), ``engine``
    (the object whose ``anomaly_score`` and ``explain`` run), ``digits`` (the
    MNIST classes an `aekit train --digits` model learnt, else None).

    Raises
    ------
    ModelFileError
        The file is missing or not a valid aekit model.
    """

    def __init__(self, model, device="auto"):
        from .inference import NumpyDetector
        from .model_file import read_model_file
        from .pretrained import resolve
        from .scoring import ScoreRule

        self.path = resolve(model)
        doc, tensors = read_model_file(self.path)
        self.engine = NumpyDetector.from_document(doc, tensors) if numpy_can_run(device) \
            else None
        self.uses_torch = self.engine is None
        if self.engine is None:
            from .anomaly import AnomalyDetector
            from .loading import estimator_from

            self.engine = estimator_from(doc, tensors, self.path, device)
            if not isinstance(self.engine, AnomalyDetector):
                # scored by its own reconstruction error; rows are flagged by self.rule
                # (the engine's threshold is never read)
                self.engine = AnomalyDetector.from_autoencoder(self.engine, threshold=np.inf)
        self.schema = self.engine.schema_
        self.rule = ScoreRule.from_json(doc.get("scoring") or {"score_type": "mse"})
        data = doc.get("data") or {}
        self.digits = data.get("digits") if data.get("source") == "mnist" else None

    def anomaly_score(self, X):
        """Scores (float64, shape (n,)) of rows X (n, n_features) in the model's column order."""
        with arrays_in_model_order():
            return self.engine.anomaly_score(X)

    def explain(self, X):
        """Per-feature contributions (n, n_features); their row means are the scores."""
        with arrays_in_model_order():
            return self.engine.explain(X)

    def feature_names(self, table_names=None):
        """Names for the features in ``--explain`` columns, in the model's order (text
        columns' one-hot features as ``name=category``)."""
        if self.schema.feature_names is not None or self.schema.categorical:
            return list(self.schema.encoded_names())
        if table_names is not None:
            return [str(n) for n in table_names]
        if self.schema.pixels and self.schema.n_features == len(PIXEL_NAMES):
            return PIXEL_NAMES
        return [str(i) for i in range(self.schema.n_features)]


class RowScoring:
    """Scores, flags and (optionally) explains converted rows, and lays out output rows.

    ``limit`` is the threshold (``how``: how it was chosen); ``explain`` the number
    of worst features named per row.
    """

    def __init__(self, scorer, contamination=None, threshold=None, explain=0,
                 table_names=None):
        self.scorer = scorer
        self.limit, self.how = scorer.rule.threshold_for(contamination, threshold)
        self.k = min(int(explain), scorer.schema.n_encoded)
        self.names = np.asarray(scorer.feature_names(table_names), dtype=object)

    def score(self, X):
        """``(scores, flagged, contributions or None)`` of rows X."""
        if self.k:
            contributions = self.scorer.explain(X)
            scores = contributions.mean(axis=1)
        else:
            contributions, scores = None, self.scorer.anomaly_score(X)
        return scores, scores > self.limit, contributions

    def frame(self, carried, scores, flagged, contributions):
        """The output rows: carried columns, ``anomaly_score``, ``is_anomaly`` and the
        ``--explain`` columns (``top1_feature``, ``top1_error``, ...)."""
        import pandas as pd

        frame = pd.DataFrame(index=range(len(scores)))
        if carried is not None:
            for name in carried.columns:
                frame[name] = carried[name].to_numpy()
        frame[SCORE_COLUMNS[0]] = scores
        frame[SCORE_COLUMNS[1]] = flagged.astype(np.int8)
        if self.k:
            top = np.argsort(-contributions, axis=1, kind="stable")[:, :self.k]
            top_err = np.take_along_axis(contributions, top, axis=1)
            for j in range(self.k):
                frame[f"top{j + 1}_feature"] = self.names[top[:, j]]
                frame[f"top{j + 1}_error"] = top_err[:, j]
        return frame


@dataclass
class DetectionSummary:
    rows: int
    flagged: int
    threshold: float
    how: str
    pixels: bool
    scores: np.ndarray = field(default=None, repr=False)  # when kept
    labels: object = None  # a LabelBinarizer, when a label column was read
    note: str = None  # missing cells filled, unseen categories


def detect_table(table, scorer, writer, contamination=None, threshold=None, explain=0,
                 keep_scores=False, labels=None, progress=None):
    """Score every row of ``table`` (in order) into ``writer``; a :class:`DetectionSummary`.

    ``labels``: a :class:`LabelBinarizer` fed the label column, if any. ``progress``:
    called with the number of rows of each chunk written. Chunks are read ahead in a
    thread, and scored on several threads when the numpy engine runs.
    """
    from .concurrency import ordered_map, prefetch

    model_input = ModelInput.for_table(table, scorer.schema)
    scoring = RowScoring(scorer, contamination, threshold, explain, table.feature_names)
    # a pipe may block on the writer: read it in this thread, where Ctrl-C lands
    chunks = prefetch(table.chunks()) if table.is_regular_file else table.chunks()

    def score(item):
        chunk, X = item
        with model_input.located(chunk):
            return (chunk, *scoring.score(X))

    limits, scored = contextlib.nullcontext(), map(score, model_input.arrays(chunks))
    if not scorer.uses_torch:
        from threadpoolctl import threadpool_limits

        workers, blas_threads = scoring_threads()
        limits = threadpool_limits(blas_threads, user_api="blas")
        scored = ordered_map(score, model_input.arrays(chunks), workers)
    kept, rows, flagged_total = [], 0, 0
    with limits:
        for chunk, scores, flagged, contributions in scored:
            if chunk.carried is None and not scoring.k:
                writer.write_scores(scores, flagged)
            else:
                writer.write(scoring.frame(chunk.carried, scores, flagged, contributions))
            if labels is not None and chunk.carried is not None:
                labels.add(chunk.carried[table.roles.label_name])
            rows += len(scores)
            flagged_total += int(flagged.sum())
            if keep_scores or labels is not None:
                kept.append(np.asarray(scores, dtype=np.float64))
            if progress is not None:
                progress(len(scores))
    return DetectionSummary(rows, flagged_total, scoring.limit, scoring.how, model_input.pixels,
                            np.concatenate(kept) if kept else None, labels, model_input.note())


def scoring_threads():
    """(scoring threads, BLAS threads each): numpy's elementwise work (sigmoid, errors) runs
    on one core, so chunks are scored side by side, the cores shared out among them."""
    import os

    cores = os.cpu_count() or 1
    workers = max(1, min(4, cores))
    return workers, max(1, cores // workers)


def score_frame(frame, scorer, feature_columns=None, carry=(), contamination=None,
                threshold=None):
    """Score the rows of one DataFrame (a Dask or Spark partition): a DataFrame of the
    ``carry`` columns, ``anomaly_score`` and ``is_anomaly``, one row per input row.

    ``feature_columns``: the columns to score (default: all but ``carry``), matched
    to the model's features by name. ``scorer``: a :class:`Scorer` (open it once per
    worker, not per partition).
    """
    from .tables.columns import Chunk

    carry = list(carry)
    features = frame[feature_columns if feature_columns is not None else
                     [c for c in frame.columns if c not in carry]]
    names = [str(c) for c in features.columns]
    model_input = ModelInput(scorer.schema, names, len(names), "the partition")
    scoring = RowScoring(scorer, contamination, threshold)
    chunk = Chunk(features, None, 1)
    X = model_input.convert(chunk)
    with model_input.located(chunk):
        scores, flagged, _ = scoring.score(X)
    return scoring.frame(frame[carry] if carry else None, scores, flagged, None)


class LabelBinarizer:
    """Turns a carried label column into 1 = anomaly / 0 = normal, for the AUROC.

    ``normal_labels``: the label values of normal rows; by default 0 of a 0/1 label,
    or, for a model trained on some MNIST digits (``digits``), those digits. Rows whose
    label is missing (an empty cell) are left out of the AUROC.
    """

    def __init__(self, normal_labels=(), digits=None):
        self.normal = {str(v).strip() for v in normal_labels} if normal_labels else None
        self.digits = {str(int(d)) for d in digits} if digits and not normal_labels else None
        self.parts = []  # per chunk: 1 anomaly, 0 normal, -1 no label
        self.seen = set()
        self.why = None

    def add(self, labels):
        s = labels.astype(object).where(labels.notna(), "").astype(str).str.strip()
        unlabelled = (s == "").to_numpy()
        if len(self.seen) < 50:
            self.seen.update(s[~unlabelled].unique()[:50])
        if self.normal is not None:
            y = (~s.isin(self.normal)).to_numpy(np.int8)
        elif self.digits is not None:
            y = (~s.str.replace(r"\.0$", "", regex=True).isin(self.digits)).to_numpy(np.int8)
        else:
            low = s.str.lower()
            ones = low.isin({"1", "1.0", "true", "anomaly"})
            zeros = low.isin({"0", "0.0", "false", "normal"})
            if not (ones | zeros | unlabelled).all():
                self.why = ("the label column is not 0/1: name the normal value(s) with "
                            "--normal-label for the AUROC")
            y = ones.to_numpy(np.int8)
        y[unlabelled] = -1
        self.parts.append(y)

    def result(self):
        """``(y, labelled)``: 0/1 labels of the labelled rows and the mask of those rows, or
        None (with ``why`` set) when they cannot give an AUROC."""
        if self.why is not None or not self.parts:
            return None
        y = np.concatenate(self.parts)
        labelled = y >= 0
        if self.normal is not None and not self.seen & self.normal:
            shown = ", ".join(sorted(self.seen)[:10])
            self.why = (f"no row has the normal label {', '.join(sorted(self.normal))}; the "
                        f"labels seen: {shown}")
            return None
        if not labelled.any() or y[labelled].min() == y[labelled].max():
            self.why = "the labels hold one class only: no AUROC"
            return None
        return y[labelled], labelled


# ~16 MB of float32 per chunk, whatever the width: few enough chunks that pandas'
# per-column bookkeeping stays small, small enough that memory stays flat
CELLS_PER_CHUNK = 4_000_000


def rows_per_chunk(n_columns):
    return max(256, min(50_000, CELLS_PER_CHUNK // max(1, n_columns)))


def auroc_percent(y, scores):
    """The AUROC (%) of ``scores`` against 0/1 labels ``y`` (scikit-learn's)."""
    from sklearn.metrics import roc_auc_score

    return 100.0 * float(roc_auc_score(y, scores))


def auroc_report(labels, scores):
    """``(labelled, line)``: ``(y, scores)`` of the labelled rows and the AUROC line for
    people, or ``(None, note)`` when the labels give no AUROC (``note`` may be None)."""
    found = labels.result() if labels is not None else None
    if found is None:
        return None, (labels.why if labels is not None else None)
    y, mask = found
    left = int(len(mask) - mask.sum())
    s = np.asarray(scores)[mask]
    line = (f"AUROC of anomaly_score against the labels: {auroc_percent(y, s):.2f} % "
            f"({int(y.sum())} anomalies, {int(len(y) - y.sum())} normal rows"
            + (f"; {left} rows without a label left out" if left else "") + ")")
    return (y, s), line


def write_report(folder, summary, labelled=None):
    """Pictures of a detection run in ``folder``: the score histogram with the threshold
    and, with ``labelled`` = ``(y, scores)`` of the labelled rows, the ROC curve. Returns
    the paths written."""
    from pathlib import Path

    from . import plots

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    y, scores = labelled if labelled is not None else (None, summary.scores)
    paths = [plots.score_histogram(scores, summary.threshold, summary.how,
                                   folder / "score_histogram.png", y)]
    if y is not None:
        paths.append(plots.roc_plot(y, scores, summary.threshold, folder / "roc.png",
                                    auroc_percent(y, scores)))
    return paths
