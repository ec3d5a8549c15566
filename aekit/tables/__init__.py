"""Tables in and out, in chunks: CSV (any size, any dialect) and Parquet.

- :mod:`aekit.tables.columns`: which columns are features, carried through (a label,
  ids) or ignored.
- :mod:`aekit.tables.csv_table`: :class:`~aekit.tables.csv_table.CsvTable`, a CSV
  file read in chunks (separator, decimal mark, header and byte-order mark found
  from the file; every row checked for the header's width).
- :mod:`aekit.tables.lines`: the byte streams under it (line blocks, row widths).
- :mod:`aekit.tables.integers`: a vectorised parser for files of plain integers
  (pixels, counts), several times faster than a general CSV reader.
- :mod:`aekit.tables.parquet_table`: a Parquet file or dataset read by row groups.
- :mod:`aekit.tables.writers`: output tables, atomically for regular files and in
  place for pipes and devices.

A table yields :class:`~aekit.tables.columns.Chunk` objects: the feature columns
(a DataFrame, or a numeric array on the integer fast path), the carried columns,
and where the chunk starts, so that an error can name the line. Turning feature
columns into numbers for a model is the input schema's job
(:mod:`aekit.preprocessing`).
"""


def open_table(path, **kwargs):
    """A :class:`CsvTable` or, for ``.parquet`` files and folders of them, a
    :class:`ParquetTable` (keyword arguments as theirs)."""
    from .parquet_table import is_parquet

    if is_parquet(path):
        from .parquet_table import ParquetTable

        return ParquetTable(path, **kwargs)
    from .csv_table import CsvTable

    return CsvTable(path, **kwargs)
