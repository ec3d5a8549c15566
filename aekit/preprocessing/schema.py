"""The input schema: what a model expects of its inputs, fitted once and stored with it.

An :class:`InputSchema` holds the feature names and their order, how the columns
become numbers (:mod:`aekit.preprocessing.columns`: cells checked, text one-hot
encoded, gaps filled), the per-feature scaling into the network's space, and the
pixel rule. Every entry point (the estimators, `aekit detect`, `encode`, `impute`,
the numpy scorer) applies it the same way:

- **Columns** (:meth:`InputSchema.column_order`): when both the model and the input
  name their features, the input's columns are put in the model's order by name,
  and an input that lacks some of them or holds others is refused with one line
  naming them. Without names on either side, columns are taken in order, and only
  their number is checked.
- **Scaling**: data within [0, 1] (e.g. pixels / 255) is used as it is and modelled
  with a sigmoid output ("unit"); anything else is standardised per feature with
  the training mean and standard deviation ("standard"). A constant feature gets
  a scale of 1, so it stays harmless.
- **The pixel rule**: a model of 28 x 28 images (784 features) in [0, 1] also
  accepts rows of 0..255 pixel values (whole numbers), which are divided by 255
  (:meth:`InputSchema.pixel_divisor`); training data of 0..255 pixels is divided
  the same way before the scaling is fitted.
"""

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import CellError, DataError, WidthError, literal
from .columns import ColumnEncoding, column_names, plain_frame, precision_of, to_matrix

PIXEL_FEATURES = 784  # 28 x 28: the images aekit's pixel rule is for
# the relative spread below which a column of each precision is constant: float32's 7
# digits; float64's 16, less a margin for the rounding of the mean
RESOLUTION = {np.dtype(np.float32): 1e-7, np.dtype(np.float64): 1e-13}
TINY = 1e-30  # a spread below this is none
PIXEL_MAX = 255.0
MAX_NAMES_SHOWN = 5


def looks_like_pixels(X):
    """True for 0..255 pixel values: whole numbers, some above 1, none below 0 or above 255
    (inputs in [0, 1] scaled up by dropout noise are not whole numbers)."""
    if X.size == 0 or np.isnan(X).all():
        return False
    hi, lo = float(np.nanmax(X)), float(np.nanmin(X))
    if not (hi > 1.0 and lo >= 0.0 and hi <= PIXEL_MAX):
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all((X == np.round(X)) | np.isnan(X)))


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(X, names=None):
    """Refuse values beyond float32's range (the networks compute in float32).

    Raises
    ------
    aekit.errors.CellError
        Naming the row and the column (``names[c]``, else its number) of the first such
        value; a table turns it into the file's line.
    """
    big = np.abs(X) > FLOAT32_MAX
    if big.any():
        r, c = map(int, np.argwhere(big)[0])
        name = names[c] if names is not None else c
        if np.isinf(X[r, c]):  # (a cell such as "inf" or "1e400")
            raise CellError(r, name, f"holds {X[r, c]:g}, not a finite number")
        raise CellError(r, name, f"holds {X[r, c]:g}, beyond float32's range (about 3.4e38): "
                        "aekit computes in float32, so rescale that column first")


def _shown(names):
    head = ", ".join(map(str, names[:MAX_NAMES_SHOWN]))
    more = len(names) - MAX_NAMES_SHOWN
    return head + (f" and {more} more" if more > 0 else "")


@dataclass
class InputSchema:
    """What a fitted model expects of its inputs (see the module's notes).

    Attributes
    ----------
    n_features : int
        Number of input columns.
    feature_names : list of str or None
        Their names, in the model's order, when the training data had names.
    encoding : ColumnEncoding or None
        How the columns become the network's features (None: numbers only, gaps refused,
        as aekit 0.1 stored models).
    scaling : {"unit", "standard"}
    center, scale : ndarray of shape (n_encoded,), float64 (a constant column: scale 1)
        ``(x - center) / scale`` is the network's input ("unit": 0 and 1), computed in
        the input's precision (float64 for float64 rows and DataFrames).
    pixels : bool
        The model reads 28 x 28 images in [0, 1] and accepts 0..255 pixels too.
    """

    n_features: int
    feature_names: list
    scaling: str
    center: np.ndarray
    scale: np.ndarray
    pixels: bool = False
    encoding: ColumnEncoding = None

    # -- fitting -------------------------------------------------------------------
    @classmethod
    def fit(cls, X, feature_names=None, missing_indicator=False, categorical=None):
        """The schema of training rows ``X`` (array or DataFrame, n_samples x n_features);
        ``categorical``: the columns read as categories whatever they hold (names among
        ``feature_names``, or 0-based numbers: an estimator's ``categorical``).

        Raises
        ------
        DataError
            A cell is not a number in a numeric column (CellError), a text column has
            too many categories, or a value is beyond float32's range.
        aekit.errors.ParameterError
            ``categorical`` names a column ``X`` does not hold
            (:func:`~aekit.preprocessing.columns.declared_columns`).
        """
        names = [str(c) for c in feature_names] if feature_names is not None else None
        encoding = ColumnEncoding.fit(X, missing_indicator, names, categorical)
        E = encoding.encode(X, precision_of(X))  # (every check below is exact in it)
        lo, hi = float(E.min(initial=0)), float(E.max(initial=0))
        if max(hi, -lo) > FLOAT32_MAX:
            shown = names or column_names(X)  # a DataFrame's names, for messages
            check_float32_range(E, encoding.feature_names(shown or list(range(X.shape[1]))))
        n = E.shape[1]
        pixel_image = encoding.plain and n == PIXEL_FEATURES
        divisor = PIXEL_MAX if pixel_image and looks_like_pixels(E) else 1.0
        lo, hi = lo / divisor, hi / divisor
        if lo >= 0.0 and hi <= 1.0:
            return cls(X.shape[1], names, "unit", np.zeros(n), np.ones(n),
                       pixels=pixel_image, encoding=encoding)
        return cls(X.shape[1], names, "standard", *_standard_scaling(E), encoding=encoding)

    def standardized(self, X):
        """This schema with its scaling made "standard" on training rows ``X`` (the same
        rows it was fitted on), even for data within [0, 1]: a masked network predicts
        distributions in standard units. Columns and their encoding are kept."""
        center, scale = _standard_scaling(self.encode(X, precision_of(X)))
        return replace(self, scaling="standard", center=center, scale=scale, pixels=False)

    @property
    def n_encoded(self):
        """The number of features the network sees (one-hot columns counted out)."""
        return self.n_features if self.encoding is None else self.encoding.width

    @property
    def categorical(self):
        """Whether some input column is text, booleans or declared categorical (encoded
        one-hot)."""
        return self.encoding is not None and not self.encoding.plain

    def empty_columns(self):
        """The input columns (numeric; positions in the model's order) that held no value
        in the training rows: constant 0 for the network, which learned nothing of them,
        so imputation leaves their cells empty."""
        return [] if self.encoding is None else list(self.encoding.empty)

    def unseen_slots(self):
        """The network's features that are categorical columns' unseen slots (0 on every
        training row: :class:`~aekit.preprocessing.columns.ColumnEncoding`), in order."""
        return [] if self.encoding is None else self.encoding.unseen_slots()

    def encoded_names(self):
        """Names of the network's features (``name=category`` for one-hot ones)."""
        names = self.feature_names or [str(i) for i in range(self.n_features)]
        return names if self.encoding is None else self.encoding.feature_names(names)

    # -- columns -------------------------------------------------------------------
    def column_order(self, names=None, width=None, source="the data", estimator=False):
        """Where the model's features are among an input's feature columns.

        ``names``: the input's feature column names, or None (a headerless file, a
        plain array), in which case ``width`` is its number of feature columns;
        ``source`` names the input in messages (``estimator``: an estimator's X, told to
        select the model's columns where a file's are told of their roles). Returns None
        when the columns are already in the model's order, else the positions (ndarray
        of int) that put them in it.

        Raises
        ------
        DataError
            The input lacks features of the model or holds others (both named), or,
            without names, has another number of columns.
        """
        if names is None or self.feature_names is None:
            self.check_width(width if names is None else len(names), source, file=not estimator)
            return None
        names = [str(c) for c in names]
        if names == self.feature_names:
            return None
        known, given = set(self.feature_names), set(names)
        missing = [c for c in self.feature_names if c not in given]
        extra = [c for c in names if c not in known]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"lacks {len(missing)} of the model's features ({_shown(missing)})")
            if extra:
                parts.append(f"has {len(extra)} column(s) the model was not trained on "
                             f"({_shown(extra)})")
            text = f"{source} " + " and ".join(parts)
            if not extra:
                raise DataError(text)
            if estimator:  # an estimator's input (select), not a file's columns
                raise DataError(literal(text + "; give the model's columns alone: "
                                        "X[model.feature_names_in_]"))
            raise DataError(literal(text) + "; carry them through as a label or ids "
                            "({label_column}, {id_columns}) or leave them out "
                            "({ignore_columns})",
                            params=("label_column", "id_columns", "ignore_columns"))
        if len(given) != len(names):
            dup = sorted({c for c in names if names.count(c) > 1})
            raise DataError(f"{source} names a column more than once ({_shown(dup)})")
        where = {c: i for i, c in enumerate(names)}
        return np.asarray([where[c] for c in self.feature_names], dtype=np.intp)

    def check_width(self, n, source="the data", file=False):
        """Refuse ``n`` feature columns (None: unknown) when the model expects another number;
        ``file``: the columns are a file's, where more than the model's may be a label or
        ids, which the error then says how to set apart."""
        if n is not None and n != self.n_features:
            text = literal(f"{source} has {n} feature columns but the model expects "
                           f"{self.n_features}")
            if file and n > self.n_features:
                raise WidthError(text + "; carry the others through as a label or ids "
                                 "({label_column}, {id_columns}) or leave them out "
                                 "({ignore_columns})",
                                 params=("label_column", "id_columns", "ignore_columns"))
            raise WidthError(text)

    def select(self, X, source="X"):
        """``X``'s columns in the model's order: a DataFrame is reordered by name (or
        refused, see :meth:`column_order`); an array is returned as it is (its width
        is checked by the caller). A polars or pyarrow-backed frame is read as
        :func:`~aekit.preprocessing.columns.plain_frame` reads it."""
        X = plain_frame(X)
        names = column_names(X)
        if names is None:
            return X
        order = self.column_order(names, source=source, estimator=True)
        return X if order is None else X.iloc[:, order]

    # -- values --------------------------------------------------------------------
    def pixel_divisor(self, X):
        """255 when ``X`` holds 0..255 pixels for a pixel model, else 1."""
        return PIXEL_MAX if self.pixels and looks_like_pixels(np.asarray(X)) else 1.0

    def encode(self, X, dtype=np.float64):
        """The network's features of rows ``X`` (in the model's column order), unscaled:
        cells checked (CellError), gaps filled, text one-hot encoded."""
        if self.encoding is None:
            return to_matrix(X, dtype)
        return self.encoding.encode(X, dtype)

    def transform(self, X, dtype=None):
        """Rows (in the model's column order) as the network reads them, of ``dtype``
        (default: float64 for float64 input, else float32); 0..255 pixels are divided by
        255 for a pixel model.

        Float64 input (and a DataFrame) is scaled in float64 whatever the result's dtype,
        so that values with a large offset and a small spread (Unix times, coordinates)
        keep their precision until they are centred.
        """
        wide = getattr(X, "dtype", None) == np.float64 or hasattr(X, "iloc")
        out = dtype or (np.float64 if getattr(X, "dtype", None) == np.float64 else np.float32)
        work = np.float64 if wide else np.dtype(out).type
        return self.scaled(self.encode(X, work), out)

    def float32_rows(self, X):
        """Rows as :meth:`transform` gives them (float32), from X's values rounded to
        float32 first, then scaled in float64: the same array for a float32 and a float64
        copy of the rows (what a VAE keys each row's draws by:
        :func:`aekit.nn.vae.row_generators`)."""
        return self.scaled(self.encode(X, np.float32).astype(np.float64), np.float32)

    def scaled(self, X, out):
        """Encoded rows ``X`` (:meth:`encode`) as the network reads them, of dtype ``out``,
        computed in X's dtype (float32 or float64)."""
        work = X.dtype.type
        divisor = self.pixel_divisor(X)
        if divisor != 1.0:
            X = X / work(divisor)
        if self.scaling == "unit":
            return X.astype(out, copy=False)
        centred = X - self.center.astype(work)  # a new array: X may be the caller's
        # divided into the result's dtype at once: one temporary array, not three; a value
        # beyond float32 there (a spread below 1, a cell near 3.4e38) becomes inf, which the
        # engines score as the surprise it is (`aekit detect` counts what they cannot)
        with np.errstate(over="ignore"):
            return np.divide(centred, self.scale.astype(work), out=np.empty(X.shape, out),
                             casting="same_kind")

    def inverse_transform(self, Xs, dtype=np.float32, divisor=1.0):
        """Rows of the network's space back in the units of the encoded features (times
        ``divisor``, the :meth:`pixel_divisor` the inputs had)."""
        if self.scaling == "unit":
            out = Xs.astype(dtype, copy=False)
        else:
            out = (Xs.astype(np.float64) * self.scale + self.center).astype(dtype)
        return out * out.dtype.type(divisor) if divisor != 1.0 else out

    def decode(self, E):
        """Encoded rows as a table of the input columns (each text column's most likely
        category): for models with text columns."""
        names = self.feature_names or [str(i) for i in range(self.n_features)]
        return self.encoding.decode(E, names)

    # -- the model file ------------------------------------------------------------
    def to_json(self):
        doc = {"n_features": int(self.n_features), "feature_names": self.feature_names,
               "scaling": self.scaling, "pixels": bool(self.pixels)}
        if self.encoding is not None:
            doc["encoding"] = self.encoding.to_json()
        if self.scaling != "unit":
            doc["center"] = [float(v) for v in self.center]
            doc["scale"] = [float(v) for v in self.scale]
        return doc

    @classmethod
    def from_json(cls, doc):
        """The schema stored by :meth:`to_json`, every field checked (ValueError)."""
        if not isinstance(doc, dict):
            raise ValueError("the input schema is not an object")
        n = doc.get("n_features")
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_FEATURES:
            raise ValueError("the input schema's n_features is not a positive integer")
        names = doc.get("feature_names")
        if names is not None and not (isinstance(names, list) and len(names) == n
                                      and all(isinstance(c, str) for c in names)):
            raise ValueError("the input schema's feature_names are not one name per feature")
        encoding = None
        if doc.get("encoding") is not None:
            encoding = ColumnEncoding.from_json(doc["encoding"], n)
        width = n if encoding is None else encoding.width
        scaling = doc.get("scaling")
        if scaling == "unit":
            center, scale = np.zeros(width), np.ones(width)
        elif scaling == "standard":
            center, scale = _vector(doc.get("center"), width), _vector(doc.get("scale"), width)
            if not np.all(scale > 0):
                raise ValueError("the input schema's scales must be positive")
        else:
            raise ValueError(f"unknown input scaling {scaling!r}")
        pixels = doc.get("pixels", False)
        if not isinstance(pixels, bool):
            raise ValueError("the input schema's pixels flag is not true or false")
        return cls(n, names, scaling, center, scale, pixels=pixels and scaling == "unit",
                   encoding=encoding)


MAX_FEATURES = 10_000_000


def _standard_scaling(E):
    """``(mean, std)`` per column of encoded rows ``E``, float64 and exact, so that a
    column with a large offset and a small spread (Unix times in milliseconds) is centred
    and scaled in the precision it was read in; a constant column (no spread that E's
    precision can tell from its mean, relative to the column's own size, so that values
    near 1e-12 are no constant: :data:`RESOLUTION`) gets the scale 1."""
    mean = E.mean(axis=0, dtype=np.float64)
    std = E.std(axis=0, dtype=np.float64)
    std[~(std > np.maximum(RESOLUTION[E.dtype] * np.abs(mean), TINY))] = 1.0
    return mean, std


def _vector(values, n):
    ok = isinstance(values, list) and len(values) == n and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for v in values)
    if not ok:
        raise ValueError(f"the input schema's scaling is not {n} finite numbers")
    return np.asarray(values, dtype=np.float64)


def has_text_columns(X):
    """Whether ``X`` is a DataFrame with text or boolean columns (one-hot encoded)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "iloc"):
        return False
    import pandas as pd

    return any(pd.api.types.is_bool_dtype(t) or not pd.api.types.is_numeric_dtype(t)
               for t in dtypes)


def checked_rows(X):
    """``(X, names)``: rows checked as :func:`checked_input` checks them, for an estimator
    that records nothing yet (:meth:`aekit.Autoencoder.plan`), and their column names
    (a DataFrame's, when all are strings) or None."""
    from sklearn.utils import check_array

    X = plain_frame(X)
    names = column_names(X)
    if has_text_columns(X):
        if X.shape[0] < 1:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        return X, names
    X = check_array(X, dtype=[np.float64, np.float32], ensure_all_finite=False)
    with np.errstate(invalid="ignore"):  # (NaN is a gap, allowed)
        check_float32_range(X, names)  # an infinite cell, named by row and column
    return X, names


def checked_input(estimator, X, reset):
    """``X`` checked the way scikit-learn checks an estimator's input (its feature names and
    number recorded or compared): numbers as a float array where gaps (NaN) are allowed,
    a DataFrame with text columns as it is (its cells are checked where they are encoded).
    A polars, pyarrow-backed or nullable frame is read as :func:`plain_frame` reads it.

    Raises
    ------
    ValueError
        scikit-learn's, for the wrong shape or number of features; fitting (``reset``)
        on one row.
    aekit.errors.CellError
        A value beyond float32's range, named by row and column."""
    from sklearn.utils.validation import validate_data

    X = plain_frame(X)
    if has_text_columns(X):
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        if X.shape[0] < 1:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        check_number_columns(X)
    else:
        names = column_names(X)
        X = validate_data(estimator, X, dtype=[np.float64, np.float32], reset=reset,
                          ensure_all_finite="allow-nan")
        with np.errstate(invalid="ignore"):  # (NaN is a gap, allowed)
            check_float32_range(X, names)  # as at fitting: the networks compute in float32
    if reset and X.shape[0] < 2:  # (scikit-learn's checks expect "1 sample" in the words)
        raise ValueError(f"{type(estimator).__name__} needs at least 2 rows to fit; got 1 "
                         "sample")
    if not reset:
        _warn_unreadable(getattr(estimator, "schema_", None), X)
    return X


def check_number_columns(frame):
    """:func:`check_float32_range` of a DataFrame's number columns (its others are text).

    Raises
    ------
    aekit.errors.CellError
        Naming the row and column of the first value beyond float32's range."""
    import pandas as pd

    numbers = [j for j, t in enumerate(frame.dtypes)
               if pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)]
    if numbers:
        values = frame.iloc[:, numbers].to_numpy(np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):  # (NaN is a gap, allowed)
            check_float32_range(values, [str(frame.columns[j]) for j in numbers])


def _warn_unreadable(schema, X):
    """Warn of rows a fitted model scores without knowing them (every cell missing) and
    of category cells (text, or a column declared categorical) of categories it never saw
    (``X`` in the model's column order)."""
    encoding = getattr(schema, "encoding", None)
    if encoding is None:
        return
    from ..errors import AekitWarning, warn

    empty, unseen = encoding.unreadable(X)
    if empty:
        rows = f"{empty:,} rows of X hold" if empty > 1 else "1 row of X holds"
        warn(AekitWarning(f"{rows} no value at all: read as a row of the training medians "
                          "(and no category), so what the model gives for it (a score, "
                          "codes) says nothing of the row"))
    if unseen:
        cells = f"{unseen:,} category cells of X hold" if unseen > 1 else \
            "1 category cell of X holds"
        warn(AekitWarning(f"{cells} a category never seen in training "
                          f"({encoding.unseen_encoded_as})"))
