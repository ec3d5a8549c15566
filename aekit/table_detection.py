"""Streaming a table through a scorer: the work behind `aekit detect` on one table.

:func:`detect_table` reads a table chunk by chunk (:mod:`aekit.tables`), converts each
chunk for the model (:mod:`aekit.model_input`), flags its rows
(:mod:`aekit.flagging`) and writes them in order; chunks are read ahead in a thread and,
when the numpy engine runs, scored on several threads (:mod:`aekit.concurrency`), so
both cores stay busy and memory stays flat.
"""

import contextlib
from dataclasses import dataclass, field

import numpy as np

from .flagging import RowFlagger
from .model_input import ModelInput

# ~16 MB of float32 per chunk, whatever the width: few enough chunks that pandas'
# per-column bookkeeping stays small, small enough that memory stays flat
CELLS_PER_CHUNK = 4_000_000


def rows_per_chunk(n_columns):
    return max(256, min(50_000, CELLS_PER_CHUNK // max(1, n_columns)))



@dataclass
class DetectionSummary:
    rows: int
    flagged: int
    threshold: float
    how: str
    pixels: bool
    scores: np.ndarray = field(default=None, repr=False)  # when kept
    labels: object = None  # an AnomalyLabels, when a label column was read
    note: str = None  # missing cells filled, unseen categories


def detect_table(table, scorer, writer, contamination=None, threshold=None, explain=0,
                 keep_scores=False, labels=None, progress=None):
    """Score every row of ``table`` (in order) into ``writer``; a :class:`DetectionSummary`.

    ``labels``: an :class:`~aekit.labels.AnomalyLabels` fed the label column, if any. ``progress``:
    called with the number of rows of each chunk written. Chunks are read ahead in a
    thread, and scored on several threads when the numpy engine runs.
    """
    from .concurrency import blas_threads, ordered_map, prefetch, scoring_threads

    model_input = ModelInput.for_table(table, scorer.schema)
    scoring = RowFlagger(scorer, contamination, threshold, explain, table.feature_names)
    # a pipe may block on the writer: read it in this thread, where Ctrl-C lands
    chunks = prefetch(table.chunks()) if table.is_regular_file else table.chunks()

    def score(item):
        chunk, X = item
        with model_input.located(chunk):
            return (chunk, *scoring.score(X))

    limits, scored = contextlib.nullcontext(), map(score, model_input.arrays(chunks))
    if not scorer.uses_torch:
        workers, threads = scoring_threads()
        limits = blas_threads(threads)
        scored = ordered_map(score, model_input.arrays(chunks), workers)
    kept, rows, flagged_total, unscored = [], 0, 0, 0
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
            unscored += int(np.count_nonzero(np.isnan(scores)))
            if keep_scores or labels is not None:
                kept.append(np.asarray(scores, dtype=np.float64))
            if progress is not None:
                progress(len(scores))
    note = "; ".join(filter(None, (model_input.note(), unscored_note(unscored))))
    return DetectionSummary(rows, flagged_total, scoring.limit, scoring.how, model_input.pixels,
                            np.concatenate(kept) if kept else None, labels, note or None)


def unscored_note(count):
    """A line for people about rows whose score is NaN, or None: a value so far out that
    the model's arithmetic overflowed float32 even to inf (their ``anomaly_score`` is
    written empty, and they are not flagged)."""
    if not count:
        return None
    return (f"{count:,} row{'s' if count > 1 else ''} could not be scored: a value so far "
            "from the training rows that the model's arithmetic overflowed (anomaly_score "
            "left empty, not flagged)")
