"""How a table's columns become numbers: cells checked, text and booleans one-hot encoded,
missing numbers filled.

:class:`ColumnEncoding` is fitted on the training table: the training median of each
numeric column (numpy's; optionally a missing-indicator column for those with gaps) and,
with scikit-learn's ``OneHotEncoder``, the categories of each text or boolean column.
What it learns is stored as JSON in the model file and applied by
:meth:`ColumnEncoding.encode` in numpy and pandas alone, so that scoring needs neither
scikit-learn nor pickle. A numeric array is fitted in numpy alone.

- A column is **numeric** when most of its cells are numbers (the others are errors,
  named by row and column); else **categorical**, one 0/1 feature per category seen in
  training (a column of more than :data:`ID_LIKE` distinct texts, most on a row of
  their own, is most likely an id, to pass through instead).
- A column **declared categorical** (the estimators' ``categorical``,
  :func:`declared_columns`) is categorical whatever it holds: numeric codes such as
  HTTP statuses (200, 404, 500). Its categories are its values, a number spelled one
  way however the cell holds it (404, 404.0 and the text "404" are the category
  ``404``; "007" is ``7``; a true or false is the number it stands for, ``1`` or
  ``0``), so that a CSV file, a Parquet file and a DataFrame of the same codes are
  encoded alike (a CSV's 0/1, Parquet's int 0/1 and its booleans).
- A **category never seen in training** sets its column's **unseen slot**, one more
  0/1 feature after the column's categories (``name=(unseen)``), and none of them.
  The slot is 0 on every training row, so a model expects 0 there (a masked network
  is started predicting it exactly, and keeps so:
  :meth:`aekit.nn.network.AutoencoderNet.hold_at_zero`), and a value never seen among
  the training rows scores as surprising, not as the absence of every category (all
  0/1 features 0), which features scored one at a time find the likeliest row of all.
  Constant in training, the slot keeps its 0 and 1 in the network's space (a constant
  column's scale is 1: :meth:`aekit.preprocessing.schema.InputSchema.fit`). Decoding
  (``reconstruct``, ``impute``) never gives it: a column's most likely category is one
  seen in training. Model files written before the slot (no ``unseen_slot`` in their
  encoding) encode such a value as no category, as scikit-learn's
  ``handle_unknown="ignore"`` does, and score as they did. Either way the row is
  scored, and `aekit detect` and the estimators say how many such cells they met.
- A **missing number** (an empty or NaN cell) takes its column's training median;
  with ``missing_indicator`` a 0/1 feature says it was missing, for the columns
  that had gaps in training. A **missing category** (an empty or NaN cell) encodes as
  no category, its unseen slot 0: missing is not unseen.
"""

import math
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import AekitWarning, CellError, DataError, ParameterError, literal, warn

MAX_CATEGORIES = 1000  # one-hot features of one column, at most
ID_LIKE = 64  # more distinct texts than this, most of them on one row: an id, not a feature
NUMERIC_SHARE = 0.5  # a column this numeric is numeric; its other cells are errors
FLOAT32_MAX = float(np.finfo(np.float32).max)
UNSEEN = "(unseen)"  # the unseen slot's value in names: ``name=(unseen)``
EMPTY = "(empty)"  # a category cell that holds none, in explanations (``name=(empty)``)
NO_CATEGORY = "(unseen or empty)"  # ... for an encoding without the slot (older files)
# a number written for people: a currency sign before or after it, a percent sign after
# it, thousands in groups of three (a comma, an apostrophe, a space: a plain or a narrow
# no-break one), a sign or accounting parentheses; a decimal point, or a decimal comma
# with thousands points beside a currency or percent sign ("3,99 €")
_SIGN = "[$€£¥₹₩]"
_GROUPS = r"[1-9]\d{0,2}(?:(?P<sep>[,'’ \u00a0\u202f])\d{3})(?:(?P=sep)\d{3})*"
_COMMA_DECIMAL = r"(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?P<comma>,\d+)"
MIN_DATES = 3  # distinct ISO dates that make a text column a column of dates (refused)
DATE_SHARE = 0.9  # ... when they are at least this share of its categories
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T].*)?$|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}(?: .*)?$")
WRITTEN_NUMBER = re.compile(
    rf"^(?P<open>\()?[-+−]?(?P<before>{_SIGN} ?)?[-+−]?"
    rf"(?:(?:{_GROUPS}|\d+)(?P<point>\.\d+)?|{_COMMA_DECIMAL})"
    rf"(?P<after> ?(?:%|{_SIGN}))?(?(open)\))$")


def plain_frame(X):
    """``X`` with the column types aekit reads: a polars DataFrame as pandas
    (``to_pandas``), a pandas Series refused, and a pandas DataFrame's pyarrow-backed or
    nullable (``Int64``, ``Float64``) columns as numpy's, their gaps (``pd.NA``) as NaN
    (numbers) or None (text). True/False columns keep pandas' nullable ``boolean``. A
    numpy array of dates or durations is refused as a DataFrame column of them is
    (:func:`refuse_time_columns`). Anything else is returned as it is.

    Raises
    ------
    ValueError
        A Series (one column or one row: which, aekit can't tell), a polars LazyFrame, or
        a DataFrame with two columns of one name.
    DataError
        An array of dates or durations.
    """
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    if kind in ("M", "m") and isinstance(X, np.ndarray):
        raise DataError(f"X holds dates or times ({X.dtype}), which aekit does not read as "
                        "features (they would count their units since 1970): give numbers "
                        "of your own from them (the hour, the weekday)")
    module = type(X).__module__
    if module.startswith("polars") and type(X).__name__ == "LazyFrame":
        raise ValueError("X is a polars LazyFrame; give a DataFrame: X.collect()")
    if module.startswith("polars") and hasattr(X, "to_pandas"):
        X = X.to_pandas()
    elif not module.startswith("pandas"):
        return X
    import pandas as pd

    if isinstance(X, pd.Series):
        raise ValueError("X is a Series; give a DataFrame: X.to_frame() for one column, "
                         "X.to_frame().T (pandas) for one row")
    twice = X.columns[X.columns.duplicated()]
    if len(twice):
        raise ValueError(f"X has two columns named {twice[0]!r}: give each column its own "
                         "name")
    refuse_time_columns(X)
    refuse_nested_columns(X)
    plain = {j: _plain_column(X.iloc[:, j]) for j, t in enumerate(X.dtypes)
             if isinstance(t, pd.ArrowDtype) or (pd.api.types.is_extension_array_dtype(t)
                                                and pd.api.types.is_numeric_dtype(t))}
    plain = {j: col for j, col in plain.items() if col is not None}
    if plain:
        X = X.copy()
        for j, col in plain.items():
            X.isetitem(j, col)
    return X


def _plain_column(col):
    """A pyarrow-backed or nullable column as numpy's types (see :func:`plain_frame`), or
    None to keep it as it is."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(col.dtype):
        return None if isinstance(col.dtype, pd.BooleanDtype) else col.astype("boolean")
    if pd.api.types.is_numeric_dtype(col.dtype):
        return pd.Series(col.to_numpy(np.float64, na_value=np.nan), index=col.index)
    if pd.api.types.is_string_dtype(col.dtype) or _is_arrow_dictionary(col.dtype):
        return col.astype(object).where(col.notna(), None)
    return None  # dates and the like: refused by name (refuse_time_columns)


def _is_arrow_dictionary(dtype):
    """Whether a pandas column type is pyarrow's dictionary (a Parquet category column)."""
    import pandas as pd
    import pyarrow as pa

    return isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(dtype.pyarrow_dtype)


def _is_arrow_time(dtype):
    """Whether a pandas column type is pyarrow's date, time, timestamp or duration."""
    import pandas as pd

    if not isinstance(dtype, pd.ArrowDtype):
        return False
    import pyarrow as pa

    return pa.types.is_temporal(dtype.pyarrow_dtype)


_NESTED = {list: "lists", tuple: "lists", np.ndarray: "lists", dict: "structs or maps",
           set: "sets", frozenset: "sets", bytes: "bytes", bytearray: "bytes"}


def refuse_nested_columns(frame):
    """Refuse a DataFrame column of lists, structs, maps or bytes (a polars or Parquet
    frame's nested columns, a pandas column of Python lists), whose cells would otherwise
    be read as categories spelled by their text (helper-56), where ``aekit train`` refuses
    them in a file.

    Raises
    ------
    DataError
        Naming the first such column and what it holds.
    """
    import pandas as pd

    for j, t in enumerate(frame.dtypes):
        if isinstance(t, pd.ArrowDtype):
            import pyarrow as pa

            p = t.pyarrow_dtype
            nested = pa.types.is_nested(p) or pa.types.is_binary(p) or \
                pa.types.is_large_binary(p) or pa.types.is_fixed_size_binary(p)
            held = str(p) if nested else None
        elif t == object and pd.api.types.infer_dtype(
                col := frame.iloc[:, j], skipna=True) in ("mixed", "bytes"):
            held = next((_NESTED[type(v)] for v in col if type(v) in _NESTED), None)
        else:
            held = None
        if held is not None:
            raise DataError(f"column {literal(repr(str(frame.columns[j])))} holds {held}, "
                            "which aekit does not read as a feature (numbers, text and "
                            "true/false are): leave it out of X")


def refuse_time_columns(frame, names=None):
    """Refuse a DataFrame column of dates, times or durations (pandas' datetime64,
    timedelta64 and period types), which would be read as nanosecond counts: a trend, not
    a feature. ``names``: the columns as messages name them (default: the frame's).

    Raises
    ------
    DataError
        Naming the first such column, its type, and what to do.
    """
    import pandas as pd

    shown = list(names) if names is not None else list(frame.columns)
    for j, t in enumerate(frame.dtypes):
        if pd.api.types.is_datetime64_any_dtype(t) or pd.api.types.is_timedelta64_dtype(t) \
                or isinstance(t, pd.PeriodDtype) or _is_arrow_time(t):
            raise DataError(f"column {literal(repr(shown[j]))} holds dates or times ({t}), "
                            "which aekit does not read as a feature (they would count "
                            "nanoseconds): keep it beside X, or give numbers of your own "
                            "from it (the hour, the weekday)")


def precision_of(X):
    """The float type rows ``X`` are read in at fitting: a float array's own, else float64
    (every check of the values is then exact in it)."""
    dtype = getattr(X, "dtype", None)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def to_matrix(features, dtype=np.float64, allow_missing=False):
    """A table's numeric columns as an array of ``dtype``, every cell checked.

    ``features``: a DataFrame (any column types, as a reader gives them) or an array.
    Missing cells (NaN) are allowed only with ``allow_missing``.

    Raises
    ------
    aekit.errors.CellError
        Naming the row and column of the first cell that is not a number, is
        missing, infinite, or beyond float32's range when ``dtype`` is float32.
    """
    names = list(getattr(features, "columns", []))
    if names:
        import pandas as pd

        refuse_time_columns(features)
        converted = {}
        for j, name in enumerate(names):
            col = features.iloc[:, j]
            if pd.api.types.is_bool_dtype(col) and len(col):
                raise CellError(0, name, f"holds {str(col.iloc[0])!r} (true/false), not a "
                                "number")
            if not pd.api.types.is_numeric_dtype(col):
                num = pd.to_numeric(col, errors="coerce")
                bad = np.flatnonzero(num.isna().to_numpy() & col.notna().to_numpy())
                if bad.size:
                    cell = col.iloc[bad[0]]
                    hint = " (write numbers without thousands separators or signs such as " \
                        "$ or %)" if isinstance(cell, str) and is_written_number(cell) else ""
                    raise CellError(bad[0], name, f"holds {cell!r}, not a number{hint}")
                converted[j] = num
        if converted:
            features = features.copy()
            for j, num in converted.items():
                features.isetitem(j, num)
    with np.errstate(over="ignore", invalid="ignore"):
        # pandas' nullable types (Int64, Float64: a Parquet column with gaps) hold pd.NA,
        # which float() refuses: their gaps become NaN
        M = features.to_numpy(dtype=dtype, na_value=np.nan) if hasattr(features, "iloc") \
            else np.asarray(features, dtype=dtype)
    finite = np.isfinite(M)
    if not finite.all():
        bad = ~finite & ~np.isnan(M) if allow_missing else ~finite
        if bad.any():
            r, c = map(int, np.argwhere(bad)[0])
            name = names[c] if names else c
            if np.isnan(M[r, c]):
                what = "is missing (an empty or NaN cell)"
            elif dtype == np.float32:
                what = "is infinite or beyond float32's range (about 3.4e38)"
            else:
                what = f"is {M[r, c]} (not finite)"
            raise CellError(r, name, what)
    return M


def _is_categorical(col):
    """Whether a column read from a table is text or booleans rather than numbers."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(col):
        return True
    if pd.api.types.is_numeric_dtype(col):
        return False
    known = col.dropna()
    if len(known) == 0:
        return False
    numbers = pd.to_numeric(known, errors="coerce").notna().mean()
    return numbers < NUMERIC_SHARE


def declared_columns(categorical, n_columns, names=None):
    """The input columns (0-based, in order) that ``categorical`` declares categorical:
    column names (found among ``names``, the data's column names) or 0-based column
    numbers (below ``n_columns``). None declares none.

    Raises
    ------
    aekit.errors.ParameterError
        A name that is not a column's, names for data without column names (an array), a
        number out of range, or a column given twice (by its name and its number).
    """
    if not categorical:
        return []
    out = []
    for c in categorical:
        if isinstance(c, str):
            if names is None:
                raise ParameterError(
                    f"{{categorical}} names column {literal(repr(c))}, but the data has no "
                    "column names (an array): give 0-based column numbers",
                    params=("categorical",))
            if c not in names:
                shown = ", ".join(map(str, names[:10])) + ("..." if len(names) > 10 else "")
                raise ParameterError(f"{{categorical}} names column {literal(repr(c))}, which "
                                     f"the data does not hold (its columns: {literal(shown)})",
                                     params=("categorical",))
            j = list(names).index(c)
        else:
            j = int(c)
            if not 0 <= j < n_columns:
                raise ParameterError(f"{{categorical}} gives column number {j}, but the data "
                                     f"has {n_columns} columns (0..{n_columns - 1})",
                                     params=("categorical",))
        if j in out:
            raise ParameterError(f"{{categorical}} gives column {literal(repr(c))} twice (by "
                                 "its name and by its number)", params=("categorical",))
        out.append(j)
    return sorted(out)


FLOAT32_LARGEST = float(np.finfo(np.float32).max)
_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
# a number with a decimal comma: "7,25", "0,125"; not "1,250" (a thousands separator?)
_COMMA_NUMBER = re.compile(r"^[-+]?(?:0+,\d+|\d+,(?!\d{3}$)\d+)$")


def _code_text(v):
    """A cell of a column declared categorical as its category: a number (or text that is
    a plain number) spelled one way, ``404`` for 404, 404.0 and "404"; other text
    stripped; a true or false as the number it stands for, ``1`` or ``0`` (a Parquet
    boolean is then the CSV's 0/1)."""
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, str):
        v = v.strip()
        if not _PLAIN_NUMBER.match(v):
            return v
        if v.lstrip("+-").isdigit():
            return str(int(v))
        v = float(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v.is_integer() and abs(v) < 2**53:
            return str(int(v))
        # a float32 cell (Parquet's, a frame's), however widened since: its own shortest
        # spelling, "3.3" as a CSV's 3.3 is, not 3.299999952316284
        single = np.float32(v) if abs(v) <= FLOAT32_LARGEST else None
        return str(single) if single is not None and float(single) == v else repr(v)
    return str(v).strip()


def code_with_point(code):
    """A declared column's category or cell (text) written with a decimal comma ("7,25",
    "12,0", :data:`_COMMA_NUMBER`) as the number written with a point ("7.25"; a whole
    number as :func:`_code_text` spells it, "12"); other text as it is."""
    if not _COMMA_NUMBER.match(code):
        return code
    whole, fraction = code.split(",")
    return f"{whole}.{fraction}" if fraction.strip("0") else str(int(whole))


def code_as_written(category, decimal="."):
    """A declared column's category (:func:`_code_text`'s spelling) as a table whose decimal
    mark is ``decimal`` writes it: a plain number with that mark ("7.25" as "7,25" in a
    decimal-comma CSV); other text as it is."""
    if decimal != "." and _PLAIN_NUMBER.match(category):
        return category.replace(".", decimal)
    return category


class CodeSpelling:
    """How a file spells the codes of a column declared categorical, learned from its
    known cells chunk after chunk (:meth:`learn`), so that fills (:meth:`spell`) are
    spelled as the file spells its codes, the same way in every chunk."""

    def __init__(self):
        self.spelled, self.tails = {}, set()

    def learn(self, cells):
        """Take in known cells of the column as read (text; other cells, numbers read as
        numbers, are passed over): each code's first spelling (by its number, with a point:
        "12,0" is the spelling of 12), and whether the whole numbers are written with a
        trailing ".0" or ",0"."""
        for cell in cells:
            if isinstance(cell, str) and cell.strip():
                cell = cell.strip()
                code = code_with_point(_code_text(cell))
                self.spelled.setdefault(code, cell)
                if _is_whole(code):
                    self.tails.add(cell.endswith((".0", ",0")))

    def spell(self, categories, decimal="."):
        """Categories (:func:`code_with_point`'s spelling: a model trained on a
        decimal-comma CSV holds "7,25") as the file spells them: a category seen among
        its known cells as it was first written ("200" as "200.0" in a CSV that writes
        that), a whole number as the known whole numbers are written where each has a
        trailing zero fraction (404 as "404.0" there, "404,0" with decimal commas), else
        as :func:`code_as_written` writes it with the file's decimal mark."""
        tail = decimal + "0" if self.tails == {True} else ""
        return [self.spelled.get(c) or (c + tail if _is_whole(c) else code_as_written(
            c, decimal)) for c in categories]


def _is_whole(code):
    return bool(_PLAIN_NUMBER.match(code)) and code.lstrip("+-").isdigit()


def _code_order(category):
    """Sort key of a declared column's categories: numbers first, by value (3, 7, 12), then
    text."""
    return (0, float(category), "") if _PLAIN_NUMBER.match(category) else (1, 0.0, category)


TRUTH = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


def _as_text(col, cats=None, codes=False):
    """A categorical column's cells as strings (missing ones None); ``codes``: a column
    declared categorical, its numbers spelled one way (:func:`_code_text`). With the
    column's training categories ``cats``, where they are true and false however spelled
    (a CSV reader's "true", pandas' and Parquet's True; a declared column's 1 and 0), a
    true or false cell, a 1 or a 0 takes their spelling: the same table read from either
    format is encoded alike."""
    import pandas as pd

    s = col.astype(object)
    spell = _code_text if codes else (lambda v: str(v).strip())
    text = s.where(pd.notna(s), None).map(lambda v: v if v is None else spell(v))
    if codes and cats:
        text = _as_category_number(text, cats)
    spelling = _truth_spelling(cats, codes)
    if spelling is None:
        return text
    return text.map(lambda v: spelling.get(TRUTH.get(v.lower()), v) if isinstance(v, str)
                    else None)  # (map makes a gap NaN again)


def _as_category_number(cells, cats):
    """A declared column's ``cells`` (:func:`_code_text`'s spelling, None where missing)
    that are none of its categories ``cats`` but stand for the number one of them alone
    stands for (:func:`_code_number`), spelled as that category: a code written with a
    decimal comma ("7,25", "12,0" in a decimal-comma CSV) and the same code written with a
    point or held as a number (7.25, 12.0 in a Parquet file) are one category, whichever
    of the two the model was trained on."""
    by_number = {}
    for c in cats:
        number = _code_number(c)
        if number is not None:
            by_number[number] = None if number in by_number else c  # (None: two stand for it)
    if not any(by_number.values()):
        return cells
    odd = (cells.notna() & ~cells.isin(cats)).to_numpy()
    if odd.any():  # (each distinct cell read once: a column holds few codes)
        found = {v: by_number.get(_code_number(v)) or v for v in cells[odd].unique()}
        cells = cells.copy()
        cells[odd] = cells[odd].map(found)
    return cells


def _code_number(code):
    """The number that a declared column's category or cell (text) stands for, written with
    a decimal point or a decimal comma ("7.25", "7,25", "12"; :func:`code_with_point`),
    exactly (a Decimal: codes past float64's integers stay apart), else None: other text,
    and a comma before three digits alone, which may be a thousands separator
    ("1,250")."""
    from decimal import Decimal

    code = code_with_point(code)
    return Decimal(code) if _PLAIN_NUMBER.match(code) else None


def _truth_spelling(cats, codes=False):
    """{True: how ``cats`` spell true, False: ...} when they are true and false (either
    or both, in any case; with ``codes``, a declared column's, also ``1`` and ``0``, as
    :func:`_code_text` spells its trues and falses), else None."""
    if not cats or len(cats) > 2:
        return None
    spelled = ("true", "false", "1", "0") if codes else ("true", "false")
    if any(str(c).lower() not in spelled for c in cats):
        return None
    return {TRUTH[str(c).lower()]: c for c in cats}


@dataclass
class ColumnEncoding:
    """What :mod:`aekit.preprocessing.columns` learned of a table's columns (see its notes).

    ``kinds``: per input column "numeric" or "categorical"; ``categories``: per input
    column its categories (None for numeric ones); ``fills``: per input column its
    training median (None for categorical ones); ``indicators``: the input columns
    that get a missing-indicator feature; ``declared``: the categorical input columns
    that were declared so (their numbers spelled one way: see the module's notes);
    ``unseen_slot``: each categorical column's one-hot features end with its unseen
    slot (every encoding fitted now that has a categorical column; False for model files
    written before it). ``whole``: per input column, whether it is numeric and held only
    whole numbers in the training rows (what `aekit impute` rounds its fills to); None
    for model files written before it. ``empty``: the numeric input columns that held no
    value in the training rows (0 for the network, which learned nothing of them:
    imputation leaves their cells empty); none for files written before it.
    """

    kinds: list
    categories: list
    fills: list
    indicators: list = field(default_factory=list)
    declared: list = field(default_factory=list)
    unseen_slot: bool = False
    whole: list = None
    empty: list = field(default_factory=list)

    # -- fitting -------------------------------------------------------------------
    @classmethod
    def fit(cls, X, missing_indicator=False, names=None, categorical=None):
        """Learn the encoding of training rows ``X`` (DataFrame or numeric array; column
        ``names``, else the frame's, for messages and for finding the ``categorical``
        columns by name). A numeric column without any value is named in a warning. A
        numeric array is fitted in numpy alone (no DataFrame, no imputer: its medians are
        numpy's). ``categorical``: columns read as categories whatever they hold (names
        or 0-based numbers: :func:`declared_columns`).

        Raises
        ------
        aekit.errors.CellError
            A mostly numeric column holds a cell that is not a number.
        aekit.errors.ParameterError
            ``categorical`` names a column the data does not hold (see
            :func:`declared_columns`).
        DataError
            A text column (or a column declared categorical) has more than
            :data:`MAX_CATEGORIES` distinct values, or a column holds dates or times
            (:func:`refuse_time_columns`).
        """
        known = names if names is not None else column_names(X)
        shown = list(names) if names is not None else \
            list(getattr(X, "columns", range(np.shape(X)[1])))
        declared = declared_columns(categorical, np.shape(X)[1], known)
        if declared and not hasattr(X, "iloc"):
            X = _frame(X)  # an array of numbers with codes among them: read by columns
        if hasattr(X, "iloc"):
            refuse_time_columns(X, shown)
        else:  # a numeric array: every column is a number
            values = to_matrix(X, precision_of(X), allow_missing=True)
            fills, indicators, empty = _numeric_fills(values, range(values.shape[1]), shown,
                                                      missing_indicator)
            return cls(["numeric"] * values.shape[1], [None] * values.shape[1], fills,
                       indicators, whole=_whole(values), empty=empty)
        kinds = ["categorical" if j in declared or _is_categorical(X.iloc[:, j]) else "numeric"
                 for j in range(X.shape[1])]
        numeric = [j for j, k in enumerate(kinds) if k == "numeric"]
        text = [j for j, k in enumerate(kinds) if k == "categorical" and j not in declared]
        fills, categories, indicators = [None] * len(kinds), [None] * len(kinds), []
        whole, empty = [False] * len(kinds), []
        if numeric:
            values = to_matrix(X.iloc[:, numeric], np.float64, allow_missing=True)
            found, indicators, empty = _numeric_fills(values, numeric, shown, missing_indicator)
            for j, v, w in zip(numeric, found, _whole(values)):
                fills[j], whole[j] = v, w
        if text:
            found = list(zip(text, _categories(X, text)))
            _refuse_id_columns([(X.columns[j], cats) for j, cats in found], len(X))
            _refuse_date_columns([(X.columns[j], cats) for j, cats in found])
            for j, cats in found:
                categories[j] = _checked_categories(X.iloc[:, j], cats)
        if declared:  # the user's word: no id or date rules, only the file's limit
            for j, cats in zip(declared, _categories(X, declared, codes=True)):
                _refuse_many_codes(shown[j], cats, len(X))
                _warn_of_id_like_codes(shown[j], cats, len(X))
                if not cats:
                    raise DataError(f"column {literal(repr(str(shown[j])))} is declared "
                                    "categorical ({categorical}) but holds no value in the "
                                    "training rows: leave it out of {categorical}",
                                    params=("categorical",))
                categories[j] = sorted(cats, key=_code_order)
        return cls(kinds, categories, fills, indicators, declared,
                   unseen_slot="categorical" in kinds, whole=whole, empty=empty)

    # -- applying ------------------------------------------------------------------
    @property
    def plain(self):
        """Numbers only, no indicator: encoding is filling gaps, nothing more."""
        return all(k == "numeric" for k in self.kinds) and not self.indicators

    @property
    def width(self):
        """The number of features the network sees."""
        return sum(1 if k == "numeric" else len(self.one_hot_values(c))
                   for k, c in zip(self.kinds, self.categories)) + len(self.indicators)

    def one_hot_values(self, cats):
        """What each one-hot feature of a categorical column of categories ``cats`` stands
        for, in their order: its categories, then :data:`UNSEEN` (its unseen slot) for an
        encoding with the slot."""
        return list(cats) + ([UNSEEN] if self.unseen_slot else [])

    @property
    def no_category(self):
        """How explanations name a category cell whose one-hot features are all 0: an
        empty cell (:data:`EMPTY`), or for an encoding without the unseen slot an empty
        cell or an unseen category (:data:`NO_CATEGORY`)."""
        return EMPTY if self.unseen_slot else NO_CATEGORY

    @property
    def unseen_encoded_as(self):
        """How a category never seen in training is encoded, for messages."""
        return "encoded by its column's unseen slot" if self.unseen_slot else \
            "encoded as no category"

    @property
    def unplaced_encoded_as(self):
        """How a missing category cell or one of a category never seen in training is
        encoded (:meth:`unplaced_categories`' cells), for messages."""
        return "a missing one encoded as no category, an unseen one by its column's " \
            "unseen slot" if self.unseen_slot else "encoded as no category"

    def unseen_slots(self):
        """The encoded features that are unseen slots (one per categorical column, after
        its categories; none without :attr:`unseen_slot`), in order."""
        groups = self.feature_groups(list(range(len(self.kinds))))
        return [stop - 1 for _, _, stop, values in groups
                if self.unseen_slot and values is not None]

    def feature_names(self, input_names):
        """Names of the encoded features: ``name``, ``name=category`` (``name=(unseen)``
        for the unseen slot), ``name (missing)``."""
        out = []
        for name, kind, cats in zip(input_names, self.kinds, self.categories):
            out += [str(name)] if kind == "numeric" else \
                [f"{name}={c}" for c in self.one_hot_values(cats)]
        return out + [f"{input_names[j]} (missing)" for j in self.indicators]

    def feature_groups(self, input_names):
        """The encoded features by input column, in their order: ``(name, start, stop,
        values)`` for each, ``start:stop`` its features; a numeric column's or a missing
        indicator's one feature has ``values`` None, a categorical column's one-hot
        features what each stands for (:meth:`one_hot_values`: its categories, then its
        unseen slot's :data:`UNSEEN`)."""
        out, start = [], 0
        for name, kind, cats in zip(input_names, self.kinds, self.categories):
            values = None if kind == "numeric" else self.one_hot_values(cats)
            stop = start + (1 if values is None else len(values))
            out.append((str(name), start, stop, values))
            start = stop
        for j in self.indicators:
            out.append((f"{input_names[j]} (missing)", start, start + 1, None))
            start += 1
        return out

    def encode(self, X, dtype=np.float64):
        """The network's numeric features of rows ``X`` (DataFrame or array, in the model's
        column order): numbers checked (CellError), gaps filled, categories one-hot."""
        if self.plain and not hasattr(X, "columns"):
            return self.fill(to_matrix(X, dtype, allow_missing=True))
        frame = _frame(X)
        numeric = [j for j, k in enumerate(self.kinds) if k == "numeric"]
        parts = []
        values = to_matrix(frame.iloc[:, numeric], dtype, allow_missing=True) if numeric \
            else np.zeros((len(frame), 0), dtype)
        missing = np.isnan(values)
        filled = self.fill_columns(values, numeric)
        column, k = {}, 0
        for j in numeric:
            column[j] = filled[:, k]
            k += 1
        for j, (kind, cats) in enumerate(zip(self.kinds, self.categories)):
            if kind == "numeric":
                parts.append(column[j][:, None])
            else:
                cells = self._cells(frame, j)
                parts.append((cells.to_numpy()[:, None] == np.asarray(cats, dtype=object)[
                    None, :]).astype(dtype))
                if self.unseen_slot:
                    parts.append(_unseen(cells, cats)[:, None].astype(dtype))
        for j in self.indicators:
            parts.append(missing[:, numeric.index(j)][:, None].astype(dtype))
        return np.hstack(parts) if parts else np.zeros((len(frame), 0), dtype)

    def _cells(self, frame, j):
        """The cells of categorical input column ``j`` of DataFrame ``frame`` as its
        categories are spelled (a Series of str, None where missing)."""
        return _as_text(frame.iloc[:, j], self.categories[j], j in self.declared)

    def missing_cells(self, X):
        """Which cells of rows ``X`` (a DataFrame in the model's column order) are missing,
        shape (n, n_columns): empty or NaN numbers, and empty category cells (a category
        never seen in training is not missing: it is kept as it is)."""
        frame = _frame(X)
        out = np.zeros(frame.shape, dtype=bool)
        for j, kind in enumerate(self.kinds):
            col = frame.iloc[:, j]
            if kind == "numeric":
                out[:, j] = pd_isna(col)
            else:
                text = _as_text(col)
                out[:, j] = (text.isna() | (text == "")).to_numpy()
        return out

    def spread(self, cells):
        """Input-column cells (n, n_columns) spread over the encoded features (n, width):
        a numeric column's to its feature, a text column's to all of its one-hot features,
        its unseen slot among them (missing indicators are known, never spread to)."""
        parts = [np.repeat(cells[:, [j]], 1 if k == "numeric" else len(self.one_hot_values(c)),
                           axis=1)
                 for j, (k, c) in enumerate(zip(self.kinds, self.categories))]
        parts.append(np.zeros((len(cells), len(self.indicators)), dtype=bool))
        return np.hstack(parts)

    def categories_left_out(self, X, kept, names, share=0.9, least=20):
        """The categories of training rows ``X`` whose rows were nearly all (``share``)
        left out of a second fit that kept rows ``kept`` (indices): a list of
        ``("name=category", rows left out, rows)``, for categories of at least ``least``
        rows and 1% of all. Such a group is never seen by the final model, which then
        takes it for anomalies (a whole customer segment, not a few bad rows)."""
        frame = _frame(X)
        inside = np.zeros(len(frame), dtype=bool)
        inside[np.asarray(kept)] = True
        out = []
        for j, (kind, cats) in enumerate(zip(self.kinds, self.categories)):
            if kind != "categorical":
                continue
            cells = self._cells(frame, j).to_numpy()
            for c in cats:
                rows = cells == c
                n, left = int(rows.sum()), int((rows & ~inside).sum())
                if n >= max(least, 0.01 * len(frame)) and left >= share * n:
                    out.append((f"{names[j]}={c}", left, n))
        return out

    def unplaced_categories(self, X):
        """How many category cells of rows ``X`` are missing or hold a category never seen
        in training (none of their categories set)."""
        frame = _frame(X)
        n = 0
        for j, (kind, cats) in enumerate(zip(self.kinds, self.categories)):
            if kind == "categorical":
                n += int((~self._cells(frame, j).isin(cats)).sum())
        return n

    def unreadable(self, X):
        """``(rows, cells)`` of rows ``X`` (in the model's column order) the model reads
        without knowing them: the rows whose every cell is missing (scored as a row of
        training medians and no categories) and the category cells holding categories never
        seen in training (:attr:`unseen_encoded_as`; missing cells not counted)."""
        if self.plain and not hasattr(X, "columns"):
            values = np.asarray(X, dtype=np.float64)
            return int(np.isnan(values).all(axis=1).sum()) if values.shape[1] else 0, 0
        missing = self.missing_cells(X)
        frame = _frame(X)
        unseen = sum(int(_unseen(self._cells(frame, j), cats).sum())
                     for j, (kind, cats) in enumerate(zip(self.kinds, self.categories))
                     if kind == "categorical")
        return int(missing.all(axis=1).sum()) if missing.shape[1] else 0, unseen

    def missing_numbers(self, X):
        """How many numeric cells of rows ``X`` are missing (empty or NaN)."""
        frame = _frame(X)
        numeric = [j for j, k in enumerate(self.kinds) if k == "numeric"]
        return int(frame.iloc[:, numeric].isna().to_numpy().sum())

    def fill(self, values):
        """Numeric rows (all columns numeric) with their gaps filled by the training medians."""
        return self.fill_columns(values, range(len(self.kinds)))

    def fill_columns(self, values, columns):
        gaps = np.isnan(values)
        if not gaps.any():
            return values
        fills = np.asarray([self.fills[j] for j in columns], dtype=values.dtype)
        return np.where(gaps, fills[None, :], values)

    def decode(self, E, input_names):
        """Encoded rows back as a table: numbers, and each categorical column's most
        likely category among those seen in training (a DataFrame with the input
        columns; the unseen slot is never one). A column whose categories are spelled
        as Python spells true and false (a bool column of pandas, polars or Parquet)
        comes back as bool, so that a Parquet file written from it holds booleans."""
        import pandas as pd

        out, k = {}, 0
        for name, kind, cats in zip(input_names, self.kinds, self.categories):
            if kind == "numeric":
                out[name] = E[:, k]
                k += 1
            else:
                block = E[:, k:k + len(cats)]
                out[name] = np.asarray(cats, dtype=object)[block.argmax(axis=1)] if cats \
                    else None
                if cats and set(cats) <= {"False", "True"}:
                    out[name] = out[name] == "True"
                k += len(self.one_hot_values(cats))
        return pd.DataFrame(out)

    # -- the model file ------------------------------------------------------------
    def to_json(self):
        doc = {"kinds": self.kinds, "categories": self.categories, "fills": self.fills,
               "indicators": self.indicators}
        if self.declared:  # (files without it load as declaring none)
            doc["declared"] = self.declared
        if self.unseen_slot:  # (files without it load without the slot)
            doc["unseen_slot"] = True
        if self.whole is not None:  # (files without it: unknown)
            doc["whole"] = self.whole
        if self.empty:  # (files without it: none known)
            doc["empty"] = self.empty
        return doc

    @classmethod
    def from_json(cls, doc, n_columns):
        """The encoding stored by :meth:`to_json` for ``n_columns`` input columns, checked
        (ValueError)."""
        if not isinstance(doc, dict):
            raise ValueError("the column encoding is not an object")
        kinds, cats, fills = doc.get("kinds"), doc.get("categories"), doc.get("fills")
        ind, declared, empty = doc.get("indicators", []), doc.get("declared", []), \
            doc.get("empty", [])
        slot, whole = doc.get("unseen_slot", False), doc.get("whole")
        ok = whole is None or isinstance(whole, list) and len(whole) == n_columns and all(
            w is False or w is True and k == "numeric" for w, k in zip(whole, kinds or []))
        ok = ok and all(isinstance(v, list) and len(v) == n_columns for v in (kinds, cats, fills))
        ok = ok and all(isinstance(v, list) and all(
            isinstance(j, int) and not isinstance(j, bool) and 0 <= j < n_columns for j in v)
            for v in (ind, declared, empty)) and len(set(declared)) == len(declared)
        for k, c, f in zip(kinds or [], cats or [], fills or []):
            if k == "numeric":
                ok = ok and c is None and isinstance(f, (int, float)) and \
                    not isinstance(f, bool) and math.isfinite(f)
            elif k == "categorical":
                ok = ok and f is None and isinstance(c, list) and \
                    len(c) <= MAX_CATEGORIES and all(isinstance(x, str) for x in c)
            else:
                ok = False
        if not ok or any(kinds[j] != "numeric" for j in ind + empty) or \
                any(kinds[j] != "categorical" for j in declared) or \
                not isinstance(slot, bool) or (slot and "categorical" not in kinds):
            raise ValueError("the input schema's column encoding is malformed")
        return cls(list(kinds), [list(c) if c is not None else None for c in cats],
                   [float(f) if f is not None else None for f in fills], list(ind),
                   sorted(declared), slot, whole, sorted(set(empty)))


def _whole(values):
    """Per column of ``values`` (n, k; NaN gaps): whether it holds values, all whole."""
    gaps = np.isnan(values)
    with np.errstate(invalid="ignore"):
        whole = ((values == np.round(values)) | gaps).all(axis=0) & ~gaps.all(axis=0)
    return [bool(w) for w in whole]


def _numeric_fills(values, columns, names, missing_indicator):
    """``(fills, indicators, empty)`` of numeric training columns ``values`` (n,
    len(columns), float64 with NaN gaps): each column's median (0 for a column without any
    value, named in a warning), with ``missing_indicator`` the columns (of ``columns``)
    that had gaps, and the columns (of ``columns``) without any value. Columns without
    gaps skip the NaN-aware median."""
    gaps = np.isnan(values).any(axis=0) if values.size else np.zeros(values.shape[1], bool)
    fills = np.zeros(values.shape[1])
    if len(values):
        if not gaps.any():
            fills = _medians(values)
        elif (~gaps).any():
            fills[~gaps] = _medians(values[:, ~gaps])
        if gaps.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: said below
                fills[gaps] = np.nanmedian(values[:, gaps], axis=0)
    emptied = np.flatnonzero(~np.isfinite(fills)) if len(values) else []
    empty = [names[columns[i]] for i in emptied]
    fills[~np.isfinite(fills)] = 0.0
    if empty:
        warn(AekitWarning(
            f"column{'s' if len(empty) > 1 else ''} "
            f"{literal(', '.join(repr(str(c)) for c in empty))} "
            f"hold{'' if len(empty) > 1 else 's'} no values in the training rows: constant 0 "
            "for the model, carrying nothing (leave it out: {ignore_columns})",
            params=("ignore_columns",)))
    indicators = [columns[i] for i in np.flatnonzero(gaps)] if missing_indicator else []
    return [float(v) for v in fills], indicators, [int(columns[i]) for i in emptied]


def _medians(values, block=256):
    """Each column's median (float64) of gap-free rows ``values`` (n >= 1, d): the columns
    partitioned a block at a time, each laid out contiguously (numpy's median along the
    first axis of a row-major array is several times slower)."""
    n = len(values)
    k = n // 2
    out = np.empty(values.shape[1])
    for s in range(0, values.shape[1], block):
        T = np.ascontiguousarray(values[:, s:s + block].T)
        if n % 2:
            out[s:s + len(T)] = np.partition(T, k, axis=1)[:, k]
        else:
            P = np.partition(T, [k - 1, k], axis=1)
            out[s:s + len(T)] = (P[:, k - 1].astype(np.float64) + P[:, k]) / 2
    return out


def _refuse_id_columns(found, n_rows):
    """Refuse, all in one line, the text columns of too many categories to be features
    (``found``: ``(name, categories)`` of each text column of ``n_rows`` training rows):
    ids, dates, or numbers written with symbols.

    Raises
    ------
    DataError
        Naming every such column, what it looks like, and the flags for it.
    """
    ids = [(name, cats) for name, cats in found if len(cats) > MAX_CATEGORIES or
           (len(cats) > ID_LIKE and len(cats) > 0.5 * n_rows)]
    if not ids:
        return
    parts, written_any = [], False
    for name, cats in ids:
        written = _written_number(cats)
        written_any = written_any or written is not None
        dates = sum(bool(_DATE.match(c)) for c in cats[:1000]) >= 0.5 * min(len(cats), 1000)
        kind = f"dates, such as {literal(repr(cats[0]))}" if dates else \
            f"numbers written with symbols, such as {literal(repr(written))}" if written \
            else "text values"
        parts.append((literal(repr(str(name))), len(cats), kind, dates, written))
    flags = ("id_columns", "ignore_columns")
    if len(parts) > 1:
        shown = ", ".join(f"{name} ({n:,} distinct {kind})" for name, n, kind, _, _ in parts)
        raise DataError(f"columns {shown} in {n_rows:,} rows hold too many distinct values "
                        "to be features: carry them through ({id_columns}) or leave them "
                        "out ({ignore_columns})" + ("; write numbers as plain numbers to "
                                                     "have them read as numbers"
                                                     if written_any else ""), params=flags)
    name, n, kind, dates, written = parts[0]
    what = "these are not read as numbers: write them as plain numbers, or carry the " \
        "column through ({id_columns}) or leave it out ({ignore_columns})" if written else \
        f"most likely {'a date or an id' if dates else 'an id'}, to carry through " \
        "({id_columns}) or leave out ({ignore_columns}), not a feature"
    raise DataError(f"column {name} holds {n:,} distinct {kind}, in {n_rows:,} rows: {what}"
                    if dates or written else
                    f"column {name} holds {n:,} distinct {kind} in {n_rows:,} rows: {what}",
                    params=flags)


def _refuse_date_columns(found):
    """Refuse a text column whose categories are dates (``found``: ``(name, categories)``
    of each text column): at least :data:`MIN_DATES` ISO dates (2024-01-31, maybe with a
    time) that are real dates, and :data:`DATE_SHARE` of its categories, as a table's
    date-typed column is refused (:func:`refuse_time_columns`): every later date would
    be a category never seen.

    Raises
    ------
    DataError
        Naming the first such column, a date it holds, and what to do.
    """
    import pandas as pd

    for name, cats in found:
        shown = cats[:1000]
        iso = [c for c in shown if _ISO_DATE.match(c)]
        if len(iso) < max(MIN_DATES, DATE_SHARE * len(shown)):
            continue
        dates = pd.to_datetime(pd.Series(iso), format="ISO8601", errors="coerce").notna()
        if dates.sum() >= max(MIN_DATES, DATE_SHARE * len(shown)):
            raise DataError(
                f"column {literal(repr(str(name)))} holds dates, such as "
                f"{literal(repr(iso[int(np.argmax(dates.to_numpy()))]))}, which aekit does "
                "not read as a feature (each new "
                "date would be a category never seen): carry it through ({id_columns}) or "
                "leave it out ({ignore_columns}), or give numbers of your own from it (the "
                "hour, the weekday)", params=("id_columns", "ignore_columns"))


def _refuse_many_codes(name, cats, n_rows):
    """Refuse a column declared categorical of more than :data:`MAX_CATEGORIES` distinct
    values (``cats``, in ``n_rows`` training rows): a measurement, not codes.

    Raises
    ------
    DataError
        Naming the column, its count and the parameter that declared it.
    """
    if len(cats) > MAX_CATEGORIES:
        raise DataError(f"column {literal(repr(str(name)))} is declared categorical "
                        f"({{categorical}}) but holds {len(cats):,} distinct values in "
                        f"{n_rows:,} rows, more than the {MAX_CATEGORIES:,} categories a "
                        "column may have: leave it out of {categorical}",
                        params=("categorical",))


def _warn_of_id_like_codes(name, cats, n_rows):
    """Warn of a column declared categorical whose values look like an id's (``cats``, in
    ``n_rows`` training rows; the text columns' rule, :func:`_refuse_id_columns`): the
    user's word stands, but such categories tell the model little, and most values of
    new rows will be categories never seen."""
    if len(cats) > ID_LIKE and len(cats) > 0.5 * n_rows:
        warn(AekitWarning(
            f"column {literal(repr(str(name)))} is declared categorical ({{categorical}}) "
            f"but holds {len(cats):,} distinct values in {n_rows:,} rows, most of them on "
            "one row: "
            "an id more than categories (new rows' values will be categories never seen); "
            "carry it through ({id_columns}) or leave it out ({ignore_columns})",
            params=("categorical", "id_columns", "ignore_columns")))


def _checked_categories(col, cats):
    """The categories ``cats`` of text column ``col``, with a warning when its cells are
    numbers written with symbols (``$3.99``, ``5%``, ``1,234``), which are read as
    categories, their order and distances lost."""
    written = _written_number(cats)
    if written is not None:
        warn(AekitWarning(
            f"column {literal(repr(col.name))} is read as {len(cats):,} categories, though "
            f"its cells are numbers written with symbols (such as {literal(repr(written))}): "
            "their order is lost; write them as plain numbers to have them read as numbers"))
    return cats


def is_written_number(cell):
    """Whether text ``cell`` is a number written for people with a mark that makes it no
    plain number: ``$3.99``, ``5%``, ``1,234``, ``12'000``, ``(3.99)``, ``−5``,
    ``3,99 €``. Marks that ids and codes carry too are not enough alone: groups split by
    spaces (phone numbers, ``768 967 376``), parentheses around a whole number (``(1)``)
    and a decimal comma want a currency or percent sign (or, for the first two, a decimal
    point)."""
    m = WRITTEN_NUMBER.match(cell.strip())
    if m is None:
        return False
    signed = bool(m["before"] or m["after"])
    if m["comma"]:
        return signed
    if m["sep"] and m["sep"] not in ",'’" and not (signed or m["point"]):
        return False
    if m["open"] and not (signed or m["point"]):
        return False
    return bool(signed or m["sep"] or m["open"] or "−" in cell)


def _written_number(cats):
    """One of text categories ``cats`` when most of them (of the first 1,000) are numbers
    written for people (:func:`is_written_number`), else None."""
    cats = [c for c in cats[:1000] if c]
    written = [c for c in cats if is_written_number(c)]
    return written[0] if cats and len(written) >= NUMERIC_SHARE * len(cats) else None


def _categories(X, text, codes=False):
    """The categories of each text column ``text`` of DataFrame ``X`` (scikit-learn's
    OneHotEncoder, as strings; missing cells are no category); ``codes``: columns
    declared categorical (:func:`_code_text`)."""
    from sklearn.preprocessing import OneHotEncoder

    cells = np.column_stack([_as_text(X.iloc[:, j], codes=codes).fillna("").to_numpy()
                             for j in text]).astype(object)
    found = OneHotEncoder(handle_unknown="ignore").fit(cells).categories_
    return [[str(c) for c in cats if c != ""] for cats in found]


def _unseen(cells, cats):
    """Which of a categorical column's ``cells`` (a Series of str, None where missing, as
    :meth:`ColumnEncoding._cells` gives them) hold a category never seen in training (not
    among ``cats``): bool array. A missing or empty cell is not unseen."""
    return (cells.notna() & (cells != "") & ~cells.isin(cats)).to_numpy()


def pd_isna(col):
    """A column's missing cells as a bool array."""
    import pandas as pd

    return pd.isna(col).to_numpy()


def column_names(X):
    """The string column names of a DataFrame-like ``X``, else None (an array's, or a
    frame's whose names are not all strings)."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = list(columns)
    return [str(c) for c in names] if all(isinstance(c, str) for c in names) else None


def _frame(X):
    """``X`` as a DataFrame (an array's columns named by position)."""
    import pandas as pd

    return X if hasattr(X, "iloc") else pd.DataFrame(np.asarray(X))
