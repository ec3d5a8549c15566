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

from .errors import CellError, DataError, literal
from .preprocessing import check_float32_range, check_number_columns, to_matrix
from .preprocessing.schema import FLOAT32_MAX


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
    dtype : numpy dtype or None
        Of the rows given back. None: float64 (as the tables read numbers) for a model
        that centres and scales its input, so that values with a large offset and a
        small spread (Unix times, coordinates) stay exact until the model's scaling,
        which then makes float32 of them (:meth:`~aekit.preprocessing.InputSchema.
        transform`); float32 for a model of [0, 1] data or 0..255 pixels, whose scaling
        subtracts nothing (float32 rows are what it would compute anyway, in half the
        memory). Cells beyond float32's range are refused either way.
    allow_missing : bool
        Let empty/NaN cells through as NaN (for imputation).

    Raises
    ------
    DataError
        On construction, when the columns do not match the model's features.
    """

    def __init__(self, schema, feature_names, width, source, locate=None, dtype=None,
                 allow_missing=False):
        self.schema, self.locate, self.names = schema, locate, feature_names
        if dtype is None:
            dtype = np.float32 if schema.scaling == "unit" else np.float64
        self.dtype, self.allow_missing = dtype, allow_missing
        self.order = schema.column_order(feature_names, width=width, source=source)
        # named columns given to a model that knows no names: matched by position alone
        # (said of tables; a digit model's pixels have no other order)
        self.by_position = feature_names is not None and schema.feature_names is None \
            and not schema.pixels
        self.divisor = None  # the pixel rule's, once the first rows are seen
        self.filled = 0  # missing numbers given their training medians
        self.unseen = 0  # category cells missing or of categories never seen in training
        self.outside = 0  # cells outside [0, 1] for a model of [0, 1] data

    @classmethod
    def for_table(cls, table, schema, **kwargs):
        """The ModelInput of a table; the model's text columns are read as text (a category
        such as "01" must not become the number 1 because its chunk holds no other)."""
        if schema.categorical and hasattr(table, "text_columns"):
            # by name where both name their columns, else by position (as column_order
            # matches them)
            by_name = schema.feature_names is not None and table.feature_names is not None
            table.text_columns = {schema.feature_names[j] if by_name else j
                                  for j, kind in enumerate(schema.encoding.kinds)
                                  if kind == "categorical"}
        roles = getattr(table, "roles", None)
        if roles is not None and roles.has_header and schema.feature_names is not None:
            taken = set(roles.columns) - set(roles.feature_names)  # carried or left out
            features = [c for c in schema.feature_names if c in taken]
            if features:
                raise DataError(
                    f"{literal(table.name)}: {literal(', '.join(map(repr, features)))} "
                    f"{'is a feature' if len(features) == 1 else 'are features'} of the model "
                    f"(trained on as such), but {'is' if len(features) == 1 else 'are'} given "
                    "here as an id, the label or a column to leave out: give the columns the "
                    "roles they had in training")
        model_input = cls(schema, table.feature_names, table.n_features, table.name,
                          table.locate, **kwargs)
        table.dtype = model_input.dtype  # chunks as the model reads them (no copy then)
        return model_input

    def note(self):
        """A line for people about cells the model had to fill in or could not place, or
        None."""
        parts = []
        if self.by_position:
            parts.append("the model knows no column names (it was trained on a table "
                         "without a header, or an array): the feature columns were taken "
                         "in their order")
        if self.filled:
            parts.append(f"{self.filled:,} missing numbers took their training medians"
                         if self.filled > 1 else "1 missing number took its training median")
        if self.unseen:
            parts.append(f"{self.unseen:,} category cell"
                         f"{'s were' if self.unseen > 1 else ' was'} "
                         "missing or held categories never seen in training "
                         f"({self.schema.encoding.unplaced_encoded_as})")
        if self.outside:
            parts.append(f"{self.outside:,} cell{'s' if self.outside > 1 else ''} lay outside "
                         "[0, 1], the range of the model's training data")
        return "; ".join(parts) or None

    @property
    def pixels(self):
        """Whether 0..255 pixels were divided by 255."""
        return self.divisor is not None and self.divisor != 1.0

    def convert(self, chunk, owned=False):
        """The chunk's feature columns in the model's column order and units: an array of
        numbers, or, for a model with text columns, the DataFrame as it is (its cells are
        checked where they are encoded: see :meth:`located`). ``owned``: the chunk's
        array is the caller's to change (a table reader's fresh array), so 0..255 pixels
        are divided in place rather than into a new array."""
        if self.schema.categorical:
            X = chunk.features
            if not hasattr(X, "iloc"):  # numbers alone: codes a Parquet file types as such
                import pandas as pd

                X = pd.DataFrame(X, columns=self.names)
            X = X if self.order is None else X.iloc[:, self.order]
            with self.located(chunk):
                check_number_columns(X)
            self.filled += self.schema.encoding.missing_numbers(X)
            self.unseen += self.schema.encoding.unplaced_categories(X)
            return X
        with self.located(chunk):
            X = to_matrix(chunk.features, self.dtype,
                          self.allow_missing or self.schema.encoding is not None)
            if X.dtype != np.float32 and X.size:  # min and max first: one cheap pass each
                lo, hi = float(np.min(X)), float(np.max(X))
                if not max(hi, -lo) <= FLOAT32_MAX:  # NaN too: the exact check then
                    check_float32_range(X, self.names)
        if not self.allow_missing and self.schema.encoding is not None:  # else none is NaN
            self.filled += int(np.isnan(X).sum())
        if self.order is not None:
            X = X[:, self.order]
        if self.divisor is None:
            self.divisor = self.schema.pixel_divisor(X)
        if self.divisor != 1.0:
            if owned and X.flags.writeable:  # to_matrix gives floats
                X = np.divide(X, X.dtype.type(self.divisor), out=X)
            else:
                X = X / X.dtype.type(self.divisor)
        if self.schema.scaling == "unit":
            with self.located(chunk):
                self._check_range(X)
        return X

    def _check_range(self, X):
        """A model of [0, 1] data: a pixel model refuses other values (0..255 pixels are
        divided first), any other counts them for :meth:`note`."""
        lo, hi = float(np.min(X, initial=0.0)), float(np.max(X, initial=0.0))
        if lo >= 0.0 and hi <= 1.0:  # two passes without temporaries (NaN fails both tests)
            return
        with np.errstate(invalid="ignore"):
            out = (X < 0) | (X > 1)
        if not out.any():
            return
        if not self.schema.pixels:
            self.outside += int(out.sum())
            return
        if self.divisor == 1.0:  # the table is not [0, 1]: name a cell that is no pixel
            raw = X
            with np.errstate(invalid="ignore"):
                out = ~((raw == np.round(raw)) & (raw >= 0) & (raw <= 255)) & out
        r, c = map(int, np.argwhere(out)[0])
        column = c if self.order is None else int(self.order[c])
        raise CellError(r, self.names[column] if self.names else column,
                        f"holds {X[r, c] * self.divisor:g}: a pixel model reads values in "
                        "[0, 1] or whole numbers 0..255, one scale for the whole table")

    @contextlib.contextmanager
    def located(self, chunk):
        """A bad cell found in ``chunk`` (a :class:`~aekit.errors.CellError`) raised as the
        table words it, naming the line and column."""
        try:
            yield
        except CellError as e:
            if self.locate is None:
                raise
            raise self.locate(e, chunk) from None

    def arrays(self, chunks):
        """Yield ``(chunk, X)`` for each chunk of a table's reader (whose arrays are made
        for the chunk: its features may be scaled in place)."""
        for chunk in chunks:
            yield chunk, self.convert(chunk, owned=True)


@contextlib.contextmanager
def arrays_in_model_order():
    """For rows handed to an estimator as plain arrays already in the model's column order
    (ModelInput put them there): scikit-learn's warning that an array has no feature
    names is moot then, and silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield
