"""Flagging rows: a scorer and its threshold give each row its score, its flag and its
worst features, laid out as `aekit detect`'s output rows (``anomaly_score``,
``is_anomaly``, ``top1_feature``, ``top1_error``, ...)."""

import numpy as np

from .tables.writers import SCORE_COLUMNS, refuse_name_clashes
from .thresholds import flagged


class RowFlagger:
    """Scores, flags and (optionally) explains rows, and lays out the output rows.

    ``scorer``: a :class:`~aekit.scorer.Scorer`; ``limit`` is the threshold its rule gives
    for ``contamination`` / ``threshold`` (``how``: how it was chosen); ``explain`` the
    number of worst features named per row. A table with text columns is explained by
    its columns: a text column's one-hot features' parts summed, and named by the row's
    own category (``name=category``; ``name=(unseen)`` for a category never seen in
    training, ``name=(empty)`` for an empty cell; ``name=(unseen or empty)`` for either
    with a model file written before the unseen slot:
    :class:`~aekit.preprocessing.columns.ColumnEncoding`), so that a named value is always
    the row's.
    """

    def __init__(self, scorer, contamination=None, threshold=None, explain=0,
                 table_names=None):
        self.scorer = scorer
        self.limit, self.how = scorer.rule.threshold_for(contamination, threshold)
        schema = scorer.schema
        self.groups = schema.encoding.feature_groups(
            schema.feature_names or [str(i) for i in range(schema.n_features)]) \
            if schema.categorical else None
        width = schema.n_encoded if self.groups is None else len(self.groups)
        self.k = min(int(explain), width)
        self.names = np.asarray(scorer.feature_names(table_names), dtype=object)

    def score(self, X):
        """``(scores, flagged, contributions or None)`` of rows X: contributions per
        feature (n, n_encoded), or for a table with text columns an :class:`Explained`
        by column."""
        if self.k:
            contributions = self.scorer.explain(X)
            scores = contributions.mean(axis=1)
            if self.groups is not None:
                contributions = self._by_column(contributions, X)
        else:
            contributions, scores = None, self.scorer.anomaly_score(X)
        return scores, flagged(scores, self.limit), contributions

    def _by_column(self, contributions, X):
        """An :class:`Explained` of rows X: each column's parts summed, and its name with
        the row's own category for a text column."""
        encoded = self.scorer.schema.encode(X, np.float32)
        parts = np.empty((len(encoded), len(self.groups)), dtype=contributions.dtype)
        names = np.empty(parts.shape, dtype=object)
        none = self.scorer.schema.encoding.no_category
        for g, (name, start, stop, values) in enumerate(self.groups):
            parts[:, g] = contributions[:, start:stop].sum(axis=1)
            if values is None:
                names[:, g] = name
                continue
            one_hot = encoded[:, start:stop]
            labels = np.array([f"{name}={v}" for v in values] + [f"{name}={none}"],
                              dtype=object)
            held = np.where(one_hot.max(axis=1) > 0.5, one_hot.argmax(axis=1), len(values))
            names[:, g] = labels[held]
        return Explained(parts, names)

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
            parts, names = (contributions.parts, contributions.names) \
                if isinstance(contributions, Explained) else (contributions, None)
            top = np.argsort(-parts, axis=1, kind="stable")[:, :self.k]
            top_err = np.take_along_axis(parts, top, axis=1)
            for j in range(self.k):
                frame[f"top{j + 1}_feature"] = self.names[top[:, j]] if names is None \
                    else names[np.arange(len(top)), top[:, j]]
                frame[f"top{j + 1}_error"] = top_err[:, j]
        return frame


class Explained:
    """Rows explained by column: ``parts`` (n, n_columns), each column's share of the score
    (its features' parts summed), and ``names`` (n, n_columns), each column's name as the
    row holds it (``name=category`` for a text column)."""

    def __init__(self, parts, names):
        self.parts, self.names = parts, names
