"""A table's rows as a model reads them: numbers, in its column order, in its units.

Every command that feeds a table to a model (`detect`, `encode`, `impute`, the
Dask/Spark scoring of partitions) goes through :class:`ModelInput`, so the input
schema's rules (:mod:`aekit.preprocessing`) apply the same way everywhere: columns
put in the model's order by name (or refused, naming the missing and unexpected
ones), every cell checked (a bad one named by line and column), and the pixel rule
decided once per table, on its first rows.
"""

import contextlib
import warnings

import numpy as np

from .errors import CellError
from .preprocessing import to_matrix


class ModelInput:
    """Converts chunks of one table for a model with ``schema``.

    Parameters
    ----------
    schema : InputSchema
    feature_names : list of str or None
        The table's feature columns (None: no header).
    width : int
        Its number of feature columns.
    source : str
        The table's name, for messages.
    locate : callable or None
        ``locate(cell_error, chunk)`` -> an error naming the line (tables know where
        their rows came from); None leaves the error as it is.
    dtype : numpy dtype
    allow_missing : bool
        Let empty/NaN cells through as NaN (for imputation).

    Raises
    ------
    DataError
        On construction, when the columns do not match the model's features.
    """

    def __init__(self, schema, feature_names, width, source, locate=None, dtype=np.float32,
                 allow_missing=False):
        self.schema, self.locate = schema, locate
        self.dtype, self.allow_missing = dtype, allow_missing
        self.order = schema.column_order(feature_names, width=width, source=source)
        self.divisor = None  # the pixel rule's, once the first rows are seen

    @classmethod
    def for_table(cls, table, schema, **kwargs):
        return cls(schema, table.feature_names, table.n_features, table.name, table.locate,
                   **kwargs)

    @property
    def pixels(self):
        """Whether 0..255 pixels were divided by 255."""
        return self.divisor is not None and self.divisor != 1.0

    def convert(self, chunk):
        """The chunk's feature columns as an array (rows, model features) in model units."""
        try:
            X = to_matrix(chunk.features, self.dtype, self.allow_missing)
        except CellError as e:
            if self.locate is None:
                raise
            raise self.locate(e, chunk) from None
        if self.order is not None:
            X = X[:, self.order]
        if self.divisor is None:
            self.divisor = self.schema.pixel_divisor(X)
        if self.divisor != 1.0:
            X = X / X.dtype.type(self.divisor)
        return X

    def arrays(self, chunks):
        """Yield ``(chunk, X)`` for each chunk."""
        for chunk in chunks:
            yield chunk, self.convert(chunk)


@contextlib.contextmanager
def arrays_in_model_order():
    """For rows handed to an estimator as plain arrays already in the model's column order
    (ModelInput put them there): scikit-learn's warning that an array has no feature
    names is moot then, and silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield
