"""Tables in and out, in chunks: CSV (any size, any dialect) and Parquet.

- :mod:`aekit.tables.columns`: which columns are features, carried through (a label,
  ids) or ignored.
- :mod:`aekit.tables.csv_table`: :class:`~aekit.tables.csv_table.CsvTable`, a CSV
  file read in chunks (every row checked for the header's width).
- :mod:`aekit.tables.dialect`: what a CSV's first lines say (separator, decimal mark,
  header, byte-order mark, the kind of each column), and files that are not CSV.
- :mod:`aekit.tables.records`: a byte stream cut into blocks of whole records.
- :mod:`aekit.tables.csv_blocks`: one block parsed by polars (typed columns, each
  row's line, one clear error for a malformed row).
- :mod:`aekit.tables.parquet_table`: a Parquet file or dataset read by row groups.
- :mod:`aekit.tables.writers`: output tables, atomically for regular files and in
  place for pipes and devices.

A table yields :class:`~aekit.tables.columns.Chunk` objects: the feature columns
(a float64 array when all hold numbers, else a DataFrame), the carried columns,
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
