"""Output tables written chunk by chunk: CSV (stdout too) or Parquet.

A regular file is written atomically (a temporary file renamed into place once
every row is written); a pipe or device (``/dev/null``, a FIFO, ``/dev/fd/N``) is
written in place (:mod:`aekit.atomic`).
"""

import contextlib

import numpy as np

from ..atomic import atomic_open, atomic_path
from ..errors import DataError, literal
from .columns import same_values_kind, type_words

SCORE_COLUMNS = ("anomaly_score", "is_anomaly")
_ROW_ENDS = (",0\n", ",1\n")  # a score row's end, by its is_anomaly


def refuse_name_clashes(carried, written):
    """Refuse an input's columns carried to the output (ids, the label) named like a column
    the output writes itself (``written``), which would overwrite or repeat it.

    Raises
    ------
    aekit.errors.DataError
        Naming the first such column.
    """
    taken = set(written)
    for name in carried:
        if name in taken:
            raise DataError(f"the input's column {literal(repr(name))} has the name of a "
                            "column aekit writes to the output; rename it in the input")


def is_parquet_path(path):
    return str(path).lower().endswith((".parquet", ".pq"))


class TableWriter:
    """Writes DataFrames (all with the same columns) one after another to ``path``.

    ``path``: a file (``.parquet`` / ``.pq``: Parquet, else CSV; ``.tsv``: separated by
    tabs whatever ``sep``) or ``"-"`` (CSV on stdout); ``header=False`` writes a CSV
    without its header line. Use as a context manager; the file is complete only on a
    clean exit.
    """

    def __init__(self, path, float_format="%.6g", header=True, sep=",", decimal="."):
        self.path = path
        self.sep = "\t" if str(path).lower().endswith(".tsv") else sep
        self.decimal = decimal
        self.parquet = is_parquet_path(path)
        self.float_format = float_format
        self._stack = contextlib.ExitStack()
        self._header = header  # a CSV's header line (Parquet always names its columns)
        self._parquet_writer = None
        self.rows = 0

    def __enter__(self):
        if self.parquet:
            self._target = self._stack.enter_context(atomic_path(self.path, ".tmp.parquet"))
        else:
            self._file = self._stack.enter_context(
                atomic_open(self.path, "w", encoding="utf-8", newline=""))
        return self

    def __exit__(self, *exc):
        if self._parquet_writer is not None:
            self._parquet_writer.close()
        return self._stack.__exit__(*exc)

    def write(self, frame):
        """Append the rows of ``frame`` (a DataFrame).

        Raises
        ------
        aekit.errors.DataError
            Parquet: two columns of one name, or a column's type differs from the rows
            written before; CSV: a column of lists, structs, maps or bytes (a Parquet
            input's), which CSV text would not hold exactly.
        """
        if self.parquet:
            self._write_parquet(frame)
        else:
            _refuse_nested(frame)
            frame = _exact_floats(frame)
            frame.to_csv(self._file, header=self._header, index=False, sep=self.sep,
                         decimal=self.decimal, float_format=self.float_format,
                         lineterminator="\n")
        self._header = False
        self.rows += len(frame)

    def write_scores(self, scores, flagged):
        """Append rows of just ``anomaly_score`` and ``is_anomaly``: as :meth:`write` would
        write them, ~6x faster for CSV (finite or infinite scores; NaN goes through
        :meth:`write`, which leaves the cell empty)."""
        if self.parquet or self.sep != "," or np.isnan(scores).any():
            import pandas as pd

            return self.write(pd.DataFrame({SCORE_COLUMNS[0]: scores,
                                            SCORE_COLUMNS[1]: flagged.astype(np.int8)}))
        if self._header:
            self._file.write(",".join(SCORE_COLUMNS) + "\n")
        cells = map("%.6g".__mod__, scores.tolist())
        ends = map(_ROW_ENDS.__getitem__, flagged.tolist())  # indexed by the flag
        self._file.write("".join(map(str.__add__, cells, ends)))
        self._header = False
        self.rows += len(scores)

    def _write_parquet(self, frame):
        import pyarrow as pa
        import pyarrow.parquet as pq

        twice = frame.columns[frame.columns.duplicated()]
        if len(twice):
            raise DataError(f"the output would hold two columns named {literal(repr(twice[0]))}: "
                            "a Parquet file names each column once; rename one in the input, "
                            "or write CSV")
        # no pandas metadata: pandas could not read back the Arrow types it would name
        table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
        if self._parquet_writer is None:
            # through a stream that counts what it wrote: Arrow asks for the position, which
            # a pipe cannot tell (the writer never seeks back)
            sink = self._stack.enter_context(open(self._target, "wb"))
            stream = pa.PythonFile(_Counting(sink), mode="w")
            self._parquet_writer = pq.ParquetWriter(stream, table.schema)
        self._parquet_writer.write_table(_cast(table, self._parquet_writer.schema))


def _refuse_nested(frame):
    """Refuse a column of lists, structs, maps or bytes (Arrow-typed, as a Parquet input
    typed it) for CSV: pandas would write it as Python's or numpy's printed form, which
    shortens long lists ('...') and rounds floats."""
    import pandas as pd

    for name, t in frame.dtypes.items():
        if not isinstance(t, pd.ArrowDtype):
            continue
        import pyarrow as pa

        a = t.pyarrow_dtype
        if pa.types.is_nested(a) or pa.types.is_binary(a) or pa.types.is_large_binary(a) \
                or pa.types.is_fixed_size_binary(a) or str(a) == "binary_view":
            raise DataError(f"column {literal(repr(name))} holds {type_words(a)}, which a CSV "
                            "cannot hold as it is: write a Parquet file (a .parquet output)")


def _exact_floats(frame):
    """``frame`` with its Arrow-typed float columns (an input's ids, as a Parquet file typed
    them) as exact text: a CSV's number format is for the scores aekit writes, and would
    round an id."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    floats = [c for c, t in frame.dtypes.items()
              if isinstance(t, pd.ArrowDtype) and pa.types.is_floating(t.pyarrow_dtype)]
    if not floats:
        return frame
    frame = frame.copy(deep=False)
    for c in floats:
        frame[c] = pd.array(pc.cast(pa.array(frame[c].array), pa.string()).to_pylist(),
                            dtype=object)
    return frame


def _cast(table, schema):
    """``table`` in the types of the rows written before (``schema``), or a DataError
    naming the first column whose type differs, and the file of these rows where the
    frame names it (inputs whose columns differ in type: one Parquet file has one type
    per column, and a cast could lose values: '007' to 7, a time zone). A column of no
    values (Arrow's null type) takes any type, and integers any integer type they fit
    (:func:`aekit.tables.columns.same_values_kind`)."""
    if table.schema.names != schema.names:
        raise DataError(f"these rows' columns ({literal(', '.join(table.column_names))}) "
                        "differ from those written before (" +
                        literal(', '.join(schema.names)) + ")")
    for field, column in zip(schema, table.columns):
        if column.type == field.type:
            continue
        if not (same_values_kind(column.type, field.type) and _fits(column, field.type)):
            where = ""
            if "file" in table.column_names and len(table):
                where = f" in {table.column('file')[0].as_py()}"
            raise DataError(
                f"column {literal(repr(field.name))} holds {type_words(column.type)}"
                f"{literal(where)} and {type_words(field.type)} in the rows written before: "
                "a Parquet file has one type per column; give the inputs one type, or write "
                "CSV")
    return table.cast(schema)


def _fits(column, t):
    """Whether every value of Arrow ``column`` survives a cast to type ``t`` (Arrow's safe
    cast refuses an integer that does not fit)."""
    import pyarrow as pa

    try:
        column.cast(t, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


class _Counting:
    """A write-only file that tells its position by counting (pipes cannot tell theirs)."""

    def __init__(self, f):
        self._f, self._n = f, 0
        self.closed = False

    def write(self, data):
        self._f.write(data)
        self._n += len(data)
        return len(data)

    def tell(self):
        return self._n

    def flush(self):
        self._f.flush()

    def close(self):
        self._f.flush()
        self.closed = True
