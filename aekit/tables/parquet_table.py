"""Reading a Parquet file (or a folder of them, one dataset) in batches of rows.

Memory stays bounded: pyarrow reads the row groups batch by batch and only the
columns used. Columns are named by the file, so a Parquet table always has names.
Feature columns of numbers are delivered as one float64 array, as the CSV reader's.
"""

from pathlib import Path

from ..errors import CellError, DataError, literal
from .columns import Chunk, ColumnRoles, Table, same_values_kind

DEFAULT_CHUNK = 50_000
SUFFIXES = (".parquet", ".pq")


def is_parquet(path):
    """A ``.parquet`` / ``.pq`` file, or a folder holding such files."""
    p = Path(str(path))
    if p.suffix.lower() in SUFFIXES:
        return True
    return p.is_dir() and any(q.suffix.lower() in SUFFIXES for q in p.iterdir())


class ParquetTable(Table):
    """A Parquet table read in chunks of rows; the same interface as
    :class:`~aekit.tables.csv_table.CsvTable` (``roles``, ``feature_names``,
    ``chunks()``, ``locate``, ``read_all``).

    Raises
    ------
    DataError
        The file cannot be read as Parquet, or a named column is not in it; when the
        rows are read (:meth:`chunks`), a feature column's type is not read, or the
        files of a folder differ in a column's type.
    """

    has_header = True
    is_regular_file = True
    notes = ()

    def __init__(self, path, label_column=None, id_columns=(), ignore_columns=(),
                 chunksize=DEFAULT_CHUNK, row_groups=None, carry_ignored=False, **_):
        import pyarrow.dataset as ds

        self.path, self.name, self.chunksize = path, str(path), chunksize
        self.row_groups = row_groups  # of a single file: read only these
        if not Path(self.name).exists():
            raise DataError(f"file not found: {path}")
        try:
            self._dataset = ds.dataset(self.name, format="parquet")
            if row_groups is not None:
                import pyarrow.parquet as pq

                self._file = pq.ParquetFile(self.name)
            columns = list(self._dataset.schema.names)
        except Exception as e:  # pyarrow's own errors for a damaged or foreign file
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DataError(f"{path} is not a readable Parquet file ({first})") from None
        self.columns, self.n_columns = columns, len(columns)
        self.roles = ColumnRoles(columns, True, self.name, label_column, id_columns,
                                 ignore_columns, carry_ignored)

    @property
    def integer_features(self):
        """The feature columns the file types as integers: name -> Arrow type (an output
        may keep the type: numbers are read as float64, exact up to 2^53)."""
        import pyarrow as pa

        schema = self._dataset.schema
        return {n: schema.field(n).type for n in self.roles.feature_names
                if pa.types.is_integer(schema.field(n).type)}

    @property
    def feature_types(self):
        """The feature columns' Arrow types: name -> type (a category column's, its values'
        type)."""
        import pyarrow as pa

        schema = self._dataset.schema
        types = {n: schema.field(n).type for n in self.roles.feature_names}
        return {n: t.value_type if pa.types.is_dictionary(t) else t for n, t in types.items()}

    def chunks(self):
        """Yield :class:`~aekit.tables.columns.Chunk` objects in the dataset's row order.

        The columns' types are checked first, when the rows are read (opening a table to
        learn its column names reads no types): a feature column must hold numbers, text
        or true/false, and the files of a folder must agree on the columns used."""
        import pandas as pd

        roles = self.roles
        used = [self.columns[i] for i in roles.feature_idx + roles.carried_idx]
        roles.refuse_duplicate_features()
        _check_feature_types(self._dataset.schema, roles.feature_names, self.name)
        _check_files_agree(self._dataset, used)
        row, seen = 1, False
        try:
            if self.row_groups is None:
                batches = self._dataset.to_batches(columns=used, batch_size=self.chunksize)
            else:
                batches = self._file.iter_batches(batch_size=self.chunksize, columns=used,
                                                  row_groups=self.row_groups)
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                carried = None
                if roles.carried_idx:
                    carried = _plain_types(
                        batch.select([self.columns[i] for i in roles.carried_idx]))
                    # as Arrow typed them: an integer id with gaps stays exact (not a
                    # float), a missing cell stays missing (not the text "nan")
                    carried = carried.to_pandas(types_mapper=pd.ArrowDtype)
                seen = True
                yield Chunk(_features(batch.select(roles.feature_names), self.dtype), carried,
                            row)
                row += batch.num_rows
        except DataError:
            raise
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DataError(f"{self.name}: cannot read the rows from row {row} onwards "
                            f"({first})") from None
        if not seen:
            raise DataError(f"{self.name} holds no rows")

    def line_of(self, row):
        return row

    def place_of(self, row):
        """Where data row ``row`` (1-based) is, as an error names it: ``"row N"`` (a
        Parquet file has no lines)."""
        return f"row {row}"

    def locate(self, error, chunk):
        """A :class:`~aekit.errors.CellError` about ``chunk`` as a DataError naming the row
        and the column."""
        return CellError(error.row, self.column_of(error, chunk), error.what).at(
            self.name, self.place_of(chunk.first_row + error.row))


def _check_feature_types(schema, names, source):
    """Refuse feature columns of types that are neither numbers, text nor true/false (lists,
    structs, maps, bytes, dates and times), which would become categories of their
    printed form, naming the first.

    Raises
    ------
    DataError
        Naming the column, its type, and the flags that carry it or leave it out.
    """
    import pyarrow as pa

    for name in names:
        t = schema.field(name).type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                or pa.types.is_decimal(t) or pa.types.is_null(t) or is_text_type(t)):
            raise DataError(
                f"{literal(source)}: column {literal(repr(name))} holds {literal(str(t))}, "
                "which aekit does not read as a feature (numbers, text and true/false "
                "are): carry it through ({id_columns}) or leave it out ({ignore_columns})",
                params=("id_columns", "ignore_columns"))


def is_text_type(t):
    """Whether the Arrow type ``t`` holds text (string, large string or string view)."""
    import pyarrow as pa

    return pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view"


def _check_files_agree(dataset, names):
    """Refuse a folder of Parquet files whose columns ``names`` differ in type from the
    first file's: pyarrow would cast them to it, silently ('007' to 7, a time zone to
    UTC). Text of either width, a column of no values, and integers of another width
    (pyarrow's cast refuses a value that does not fit) are taken.

    Raises
    ------
    DataError
        Naming the file, the column and both types.
    """
    import pyarrow.parquet as pq

    if len(dataset.files) < 2:
        return
    first = dataset.schema
    for path in dataset.files[1:]:
        schema = pq.read_schema(path)
        for name in names:
            if name not in schema.names:
                continue
            t, want = schema.field(name).type, first.field(name).type
            if not same_values_kind(t, want):
                raise DataError(
                    f"column {literal(repr(name))} holds {literal(str(t))} in "
                    f"{literal(path)} and {literal(str(want))} in "
                    f"{literal(dataset.files[0])}: the files of one table must give a column "
                    "one type")


def _features(batch, dtype):
    """A batch's feature columns: an array of ``dtype`` when all are integers or floats
    (nulls as NaN), else a DataFrame."""
    import numpy as np
    import pyarrow as pa

    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in batch.schema.types):
        out = np.empty((batch.num_rows, batch.num_columns), dtype=dtype)
        with np.errstate(over="ignore"):  # beyond float32: inf, refused by its reader
            for j, col in enumerate(batch.columns):
                out[:, j] = col.to_numpy(zero_copy_only=False)
        return out
    return batch.to_pandas()


def _plain_types(batch):
    """A batch of carried columns with categories (Arrow dictionaries) as their values,
    Arrow's view types as the plain ones, which every output (CSV, Parquet read back by
    pandas) takes, and a float's NaN as missing (null), as a CSV's empty cell is."""
    import pyarrow as pa
    import pyarrow.compute as pc

    views = {"string_view": pa.large_string(), "binary_view": pa.large_binary()}
    columns, changed = [], False
    for col in batch.columns:
        t = col.type
        if pa.types.is_dictionary(t):
            col, changed = col.cast(t.value_type), True
            t = col.type
        if str(t) in views:
            col, changed = col.cast(views[str(t)]), True
        if pa.types.is_floating(t) and pc.any(pc.is_nan(col)).as_py():
            col, changed = pc.if_else(pc.is_nan(col), pa.scalar(None, t), col), True
        columns.append(col)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names) if changed else batch

