"""Protocol T on a user's own labelled table: a CSV or Parquet file with a label column.

The table is read as `aekit train --data` and `aekit detect` read it (:mod:`aekit.tables`;
text columns stay text and are encoded by the detectors' input schema). Its labels become
1 = anomaly / 0 = normal as `aekit detect` reads them (:class:`aekit.labels.AnomalyLabels`:
0/1, true/false, anomaly/normal, or the values named normal); rows without a label are
left out. A table over protocol T's 50,000 rows is cut to 50,000 (stratified); the rows
are split 70/30, stratified, seeded by ``seed``; each detector is fitted on the 70% with
its anomalies (labels unused) and scores the 30%: the same measures and report as on the
ADBench tables (:func:`aekit.evaluation.tables.score_split`).

    >>> from aekit.evaluation.labelled_table import evaluate_labelled_table   # doctest: +SKIP
    >>> result = evaluate_labelled_table("my.csv", "y")                        # doctest: +SKIP
    >>> print(result.table())                                                 # doctest: +SKIP
"""

from pathlib import Path

import numpy as np

from ..errors import DataError, Note, literal
from . import tables
from .tables import (
    MAX_ROWS, METHODS, SUBSAMPLE_SEED, TEST_SIZE, TablesResult, check_class_counts, score_split)


class EncodedIsolationForest:
    """scikit-learn's ``IsolationForest(random_state=seed)`` on a table's columns encoded
    as aekit's detectors encode them (:class:`aekit.preprocessing.schema.InputSchema`:
    text one-hot, gaps filled), so that it runs on the tables they run on."""

    def __init__(self, random_state=0, categorical=None):
        self.random_state = random_state
        self.categorical = categorical

    def fit(self, X):
        from sklearn.ensemble import IsolationForest

        from ..preprocessing.schema import InputSchema

        self.schema_ = InputSchema.fit(X, feature_names=getattr(X, "columns", None),
                                       categorical=self.categorical)
        self.forest_ = IsolationForest(random_state=self.random_state)
        self.forest_.fit(self.schema_.encode(X))
        return self

    def score_samples(self, X):
        """Higher = more normal, shape (n_samples,)."""
        return self.forest_.score_samples(self.schema_.encode(X))


def make_detector(method, seed=0, device="auto", params=None, verbose=0):
    """An unfitted detector of ``method`` (:data:`aekit.evaluation.tables.METHODS`) that
    takes a table's rows as read (a DataFrame with text columns, or numbers): protocol T's
    own, but IsolationForest on the encoded columns (:class:`EncodedIsolationForest`).
    ``params``: detector parameters (:data:`aekit.evaluation.tables.METHOD_PARAMS`);
    ``verbose``: aekit's (1: training progress bars)."""
    if method == "iforest":
        return EncodedIsolationForest(random_state=seed,
                                      **tables.params_of(method, params))
    return tables.make_detector(method, seed, device, params, verbose)


def _kept_fields(name, value=None):
    """Words a parameter as its template field again, so that a message built by
    :class:`aekit.labels.AnomalyLabels` can be raised with its parameters named."""
    return "{" + name + (f":{value}" if value is not None else "") + "}"


def read_labelled(path, label_column, normal_labels=(), **table):
    """``(X, y, notes)``: the feature columns of the labelled rows (a DataFrame when the
    table names its columns or holds text), their 0/1 labels (1 = anomaly) and notes on
    how the table was read. ``table``: :func:`aekit.tables.open_table`'s keywords.

    Raises
    ------
    DataError
        No ``label_column`` given, the column is not in the table, the labels do not
        make two classes (not 0/1 without ``normal_labels``, one class only), or a class
        has fewer than :data:`~aekit.evaluation.tables.MIN_PER_CLASS` rows.
    """
    import pandas as pd

    from ..errors import CellError
    from ..labels import AnomalyLabels
    from ..preprocessing import checked_rows
    from ..tables import open_table

    if label_column is None:
        raise DataError("name the table's label column ({label_column}): the evaluation "
                        "needs to know which rows are anomalies", params=("label_column",))
    source = open_table(path, label_column=label_column, **table)
    X, carried = source.read_all()
    if isinstance(X, np.ndarray) and source.feature_names is not None:
        X = pd.DataFrame(X, columns=source.feature_names)
    try:
        checked_rows(X)  # an infinite cell is named by its line here (gaps are allowed)
    except CellError as e:
        raise e.at(source.name, source.place_of(e.row + 1)) from None
    labels = AnomalyLabels(normal_labels, wording=_kept_fields)
    labels.add(carried.iloc[:, -1])
    found = labels.result()
    if found is None:
        why = labels.why if "{normal_labels}" in labels.why else literal(labels.why)
        raise DataError(f"{literal(path)}: {why}", params=("normal_labels",))
    y, labelled = found
    notes = list(source.notes)
    if not labelled.all():
        notes.append(f"{int((~labelled).sum())} rows without a label left out")
        X = X[labelled] if isinstance(X, np.ndarray) else X.loc[labelled].reset_index(drop=True)
    check_class_counts(y.astype(int), literal(path))
    if y.mean() > 0.5:  # (helper-58: 70% anomalies gave AUROCs of 12-38 with no word)
        notes.append(Note(f"{y.mean():.0%} of the labelled rows count as anomalies, more than "
                          "the normal ones: a detector learns the many as normal; if the "
                          "normal rows are those, name their label with {normal_labels}",
                          params=("normal_labels",)))
    return X, y.astype(int), notes


def check_columns(X, categorical=None):
    """Refuse, before the split, the feature columns of labelled rows ``X`` that no method
    can read (an id, dates, a column declared categorical of too many values), so that
    the message counts the table's rows, not the 70% a detector is fitted on.

    Raises
    ------
    DataError
        As :meth:`aekit.preprocessing.columns.ColumnEncoding.fit` (its warnings are left
        to the detectors' fits, which give them again).
    """
    import warnings

    from ..preprocessing.columns import ColumnEncoding

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ColumnEncoding.fit(X, categorical=categorical)


def split_labelled(X, y, seed=0):
    """``(X_train, X_test, y_test, notes)``: protocol T's cut (over :data:`MAX_ROWS` rows)
    and its stratified 70/30 split, seeded by ``seed``."""
    from sklearn.model_selection import train_test_split

    notes = []
    if len(y) > MAX_ROWS:
        X, _, y, _ = train_test_split(X, y, train_size=MAX_ROWS, stratify=y,
                                      random_state=SUBSAMPLE_SEED)
        notes.append(f"cut to {MAX_ROWS:,} rows (stratified), as protocol T cuts its tables")
    X_train, X_test, _, y_test = train_test_split(X, y, test_size=TEST_SIZE, stratify=y,
                                                  random_state=seed)
    if hasattr(X_train, "reset_index"):
        X_train, X_test = X_train.reset_index(drop=True), X_test.reset_index(drop=True)
    return X_train, X_test, np.asarray(y_test), notes


def evaluate_labelled_table(path, label_column, methods=METHODS, seed=0, device="auto",
                            normal_labels=(), progress=None, note=None, params=None,
                            verbose=0, **table):
    """Protocol T's measures on one labelled table (see the module's notes): a
    :class:`~aekit.evaluation.tables.TablesResult` of one table, named by the file's
    stem.

    ``methods``: of :data:`aekit.evaluation.tables.METHODS`; ``seed`` seeds the split
    and the detectors; ``progress(table, method, auroc, seconds)`` is called after each
    fit, ``note(text)`` with each note on how the table was read and cut, before the
    fits; ``params``: detector parameters (:data:`aekit.evaluation.tables.METHOD_PARAMS`:
    a trim, the columns read as categories); ``verbose``: 1 shows aekit's training
    progress bars (one table's fit may take a minute); ``table``:
    :func:`aekit.tables.open_table`'s keywords.

    Raises
    ------
    DataError
        See :func:`read_labelled`; also a cell a detector cannot read.
    aekit.errors.ParameterError
        ``categorical`` naming a column the table does not hold.
    """
    X, y, notes = read_labelled(path, label_column, normal_labels, **table)
    check_columns(X, (params or {}).get("categorical"))
    X_train, X_test, y_test, cut = split_labelled(X, y, seed)
    for text in notes + cut if note is not None else ():
        note(text)
    res = TablesResult([], list(methods), protocol="a labelled table split 70/30, "
                       "stratified, as protocol T splits (AUROC and AP %)",
                       params=dict(params or {}))
    for m in methods:
        res.auroc[m], res.ap[m], res.seconds[m] = [], [], []
    score_split(res, Path(str(path)).stem, X_train, X_test, y_test,
                lambda m: make_detector(m, seed, device, params, verbose), progress)
    return res
