"""What `aekit train` trains on: MNIST (some digits, or all) or a table, found again when a
run is resumed (the spec is stored in checkpoints and model files)."""

import re
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from .errors import DataError


@dataclass
class TrainingData:
    """MNIST (``source="mnist"``, optionally some ``digits``) or a table (``"table"``:
    CSV or Parquet at ``path``); ``limit`` keeps the first N training rows."""

    source: str
    path: str = None
    label_column: str = None
    id_columns: list = field(default_factory=list)
    ignore_columns: list = field(default_factory=list)
    sep: str = None
    decimal: str = None
    header: bool = None
    digits: list = None
    limit: int = None
    data_dir: str = None
    # feature columns read as text: header names, or positions among the feature columns
    text_columns: list = field(default_factory=list)

    def to_json(self):
        return asdict(self)

    @classmethod
    def from_json(cls, doc):
        """The spec stored by :meth:`to_json`, every field checked (ValueError)."""
        if not isinstance(doc, dict) or doc.get("source") not in ("mnist", "table", "csv"):
            raise ValueError("field 'data': not a training data spec")
        doc = dict(doc)
        if doc["source"] == "csv":  # aekit 0.1's name, with one id column
            doc["source"] = "table"
            doc["id_columns"] = [doc.pop("id_column")] if doc.get("id_column") else []
        doc.pop("id_column", None)
        known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
        spec = cls(**known)
        spec._check()
        return spec

    def _check(self):
        def scalar(v):
            return v is None or (isinstance(v, (int, str)) and not isinstance(v, bool))

        if self.source == "table" and not isinstance(self.path, str):
            raise ValueError("field 'data.path'")
        for key in ("path", "label_column", "sep", "decimal", "limit", "data_dir"):
            if not scalar(getattr(self, key)):
                raise ValueError(f"field 'data.{key}'")
        if self.header not in (None, True, False):
            raise ValueError("field 'data.header'")
        for key in ("id_columns", "ignore_columns", "text_columns"):
            if not (isinstance(getattr(self, key), list) and all(map(scalar, getattr(self, key)))):
                raise ValueError(f"field 'data.{key}'")
        if self.digits is not None and not (isinstance(self.digits, list) and all(
                isinstance(d, int) and 0 <= d <= 9 for d in self.digits)):
            raise ValueError("field 'data.digits'")

    def load(self):
        """``(X, X_test, locate, notes)``: the training rows (a table's feature columns as
        read: a DataFrame when it names its columns or holds text), for MNIST the test
        images (else None), ``locate(cell_error)``, which names the line of a bad cell,
        and the table's notes on how it was read.

        Raises
        ------
        DataError
            The data cannot be read, or holds fewer than 2 rows.
        """
        if self.source == "mnist":
            from .datasets import load_mnist

            X, y = load_mnist("train", root=self.data_dir)
            Xt, yt = load_mnist("test", root=self.data_dir)
            if self.digits:
                X, Xt = X[np.isin(y, self.digits)], Xt[np.isin(yt, self.digits)]
            return (X[: self.limit] if self.limit else X), Xt, None, []
        X, table = read_table_features(self)
        self._name_roles(table.roles)
        if self.limit:
            X = X[: self.limit]
        if len(X) < 2:
            raise DataError(f"{self.path}: need at least 2 rows to train")
        if not _varies(X):
            raise DataError(f"{self.path}: every feature column holds one value (or none) in "
                            f"all {len(X):,} rows: there is nothing to learn from it")
        return X, None, lambda e: e.at(table.name, table.place_of(e.row + 1)), \
            list(table.notes)

    def _name_roles(self, roles):
        """The roles given by number, recorded by header name where the table has one
        (:meth:`~aekit.tables.columns.ColumnRoles.header_name`): `aekit detect` finds
        training's roles again in a file whose columns come in another order."""
        if self.label_column is not None:
            self.label_column = roles.header_name(self.label_column, "label")
        self.id_columns = [roles.header_name(c, "id") for c in self.id_columns]
        self.ignore_columns = [roles.header_name(c, "ignored") for c in self.ignore_columns]


def _varies(X):
    """Whether some feature column of the rows ``X`` (an array or a DataFrame) holds two
    different values (missing cells left out)."""
    if hasattr(X, "nunique"):
        return bool((X.nunique(dropna=True) > 1).any())
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (an all-missing column)
        return bool((np.nanmax(X, axis=0) > np.nanmin(X, axis=0)).any())


# names people give a column of labels (compared in lower case, "-" and " " read as "_")
LABEL_NAMES = {"anomaly", "anomalies", "is_anomaly", "label", "labels", "target", "class",
               "y", "is_fraud", "fraud", "outlier", "is_outlier", "ground_truth", "truth",
               "attack", "is_attack", "malicious", "is_malicious", "ground truth"}
LABEL_VALUES = 20  # a label column holds few distinct values


def warn_of_label_columns(X, names):
    """Warn (naming the column and the label-column parameter) when a feature column of a
    training table looks like its labels: a label's name (:data:`LABEL_NAMES`) and at most
    :data:`LABEL_VALUES` distinct values. Trained on as a feature, a label makes every
    anomaly look normal to the model."""
    from .errors import AekitWarning, literal, warn

    for j, name in enumerate(names or []):
        key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
        if key not in LABEL_NAMES:
            continue
        column = X.iloc[:, j] if hasattr(X, "iloc") else np.asarray(X)[:, j]
        values = sorted(map(str, set(column.tolist()) if hasattr(column, "tolist") else column))
        if len(values) <= LABEL_VALUES:
            shown = ", ".join(values[:5]) + (", ..." if len(values) > 5 else "")
            warn(AekitWarning(
                f"column {literal(repr(str(name)))} looks like the table's labels "
                f"({len(values)} values: {literal(shown)}) and is trained on as a feature, "
                f"which teaches the model its anomalies; if it is a label, give "
                f"{{label_column:{literal(name)}}}", params=("label_column",)))


ID_ROWS = 100  # an id is told from a feature on at least this many rows


def warn_of_id_columns(X, names, numbers=None):
    """Warn (naming the column and the id-column parameter) when a numeric feature column
    of a training table looks like an id: whole numbers, each on one row, named as ids
    are (``id``, ``*_id``, ``index``, ``key``...) or counting the rows (1, 2, 3...).
    Trained on as a feature, an id makes a row's number part of its score (text ids are
    refused where they are encoded). ``numbers``: the feature columns' 0-based numbers
    in the file, which the warning gives for a column of no name (pandas' index,
    written by ``to_csv``)."""
    from .errors import AekitWarning, literal, warn

    for j, name in enumerate(names or []):
        key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
        column = X.iloc[:, j] if hasattr(X, "iloc") else np.asarray(X)[:, j]
        values = np.asarray(column, dtype=np.float64) if np.issubdtype(
            np.asarray(column).dtype, np.number) else None
        if values is None or len(values) < ID_ROWS or not np.isfinite(values).all() \
                or not np.array_equal(values, np.round(values)):
            continue
        named = key in ("id", "index", "key", "row", "idx", "uuid", "unnamed:_0") or \
            key.endswith(("_id", "_key", "_no", "_idx")) or \
            re.search(r"[a-z0-9](?:ID|Id)$", str(name).strip()) is not None  # CustomerID
        steps = np.diff(values)
        counting = bool((steps == 1).all() or (steps == -1).all())
        if (named or counting) and len(np.unique(values)) == len(values):
            spec = name if str(name) or numbers is None else numbers[j]
            warn(AekitWarning(
                f"column {literal(repr(str(name)))} looks like an id (whole numbers, one per "
                f"row{', counting the rows' if counting else ''}) and is trained on as a "
                "feature, which makes a row's number part of its score; if it is an id, "
                f"give {{id_columns:{literal(spec)}}}", params=("id_columns",)))


def read_table_features(spec):
    """``(X, table)``: the feature columns of a table spec, as read (cells are checked where
    the model encodes them), and the table (which knows each row's line)."""
    import pandas as pd

    from .tables import open_table

    table = open_table(spec.path, label_column=spec.label_column, id_columns=spec.id_columns,
                       ignore_columns=spec.ignore_columns, sep=spec.sep, decimal=spec.decimal,
                       header=spec.header)
    if spec.text_columns and hasattr(table, "text_columns"):  # (a CSV's; Parquet keeps types)
        table.text_columns = set(spec.text_columns)
    X, _ = table.read_all()
    if isinstance(X, np.ndarray) and table.feature_names is not None:
        X = pd.DataFrame(X, columns=table.feature_names)
    warn_of_label_columns(X, table.feature_names)
    warn_of_id_columns(X, table.feature_names, table.roles.feature_idx)
    return X, table
