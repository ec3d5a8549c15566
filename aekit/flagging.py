"""Flagging rows: a scorer and its threshold give each row its score, its flag and its
worst features, laid out as `aekit detect`'s output rows (``anomaly_score``,
``is_anomaly``, ``top1_feature``, ``top1_error``, ...)."""

import numpy as np

from .tables.writers import SCORE_COLUMNS, refuse_name_clashes


class RowFlagger:
    """Scores, flags and (optionally) explains rows, and lays out the output rows.

    ``scorer``: a :class:`~aekit.scorer.Scorer`; ``limit`` is the threshold its rule gives
    for ``contamination`` / ``threshold`` (``how``: how it was chosen); ``explain`` the
    number of worst features named per row.
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

    def frame(self, carried, scores, flagged, contributions, added=()):
        """The output rows: carried columns, ``anomaly_score``, ``is_anomaly`` and the
        ``--explain`` columns (``top1_feature``, ``top1_error``, ...).

        Raises :class:`~aekit.errors.DataError` when a carried column has the name of one
        of those or of the columns ``added`` by the caller."""
        import pandas as pd

        frame = pd.DataFrame(index=range(len(scores)))
        if carried is not None:
            refuse_name_clashes(carried.columns, (*SCORE_COLUMNS, *added, *(
                f"top{j + 1}_{what}" for j in range(self.k) for what in ("feature", "error"))))
            # their types kept (Arrow's, from Parquet), and two columns of one name two
            frame = carried.reset_index(drop=True).copy()
        frame[SCORE_COLUMNS[0]] = scores
        frame[SCORE_COLUMNS[1]] = flagged.astype(np.int8)
        if self.k:
            top = np.argsort(-contributions, axis=1, kind="stable")[:, :self.k]
            top_err = np.take_along_axis(contributions, top, axis=1)
            for j in range(self.k):
                frame[f"top{j + 1}_feature"] = self.names[top[:, j]]
                frame[f"top{j + 1}_error"] = top_err[:, j]
        return frame
