"""Reading CSV tables in chunks, with one clear error for each malformed file.

What is found from the file itself (and can be given instead): the separator
(``,`` ``;`` tab or ``|``: the one that splits the first lines into the same number
of fields), the decimal mark (a comma for ``;``-separated files whose numbers are
written ``20,35``), whether the first line is a header (it is when it names columns
that hold numbers below it), and a UTF-8 byte-order mark (skipped). Every row must
have the first line's number of fields: a row that has not is refused with its line
number. ``-`` reads stdin.

Files of plain non-negative integers (pixels, counts) are parsed by a vectorised
reader (:mod:`aekit.tables.integers`) block by block, handing the rest of the file
to pandas at the first block it declines; everything else is read by pandas' C
parser. Cells are converted to numbers by the input schema
(:mod:`aekit.preprocessing`), which names the line and column of a bad cell
through :meth:`CsvTable.locate`.
"""

import csv
import os
import re
import stat
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor


import numpy as np

from ..errors import DataError
from .columns import Chunk, ColumnRoles, Table
from .integers import parse_integer_rows
from .lines import BOM, MAX_LINE, CheckedRows, Prepend, line_blocks

DEFAULT_CHUNK = 50_000
PARSE_THREADS = 2  # blocks of integers parsed at once (and held in memory)
MAX_COLUMNS = 100_000
SEPARATORS = (",", ";", "\t", "|")
MISSING_WORDS = ("", "NaN", "nan", "NA", "N/A", "null", "NULL", "None")  # read as missing
SNIFF_LINES = 5
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+\s*$")


def is_number(cell, decimal="."):
    """Whether a CSV cell reads as a number (or as a missing value)."""
    cell = cell.strip().strip('"').strip()
    if cell in MISSING_WORDS:
        return True
    if decimal != ".":
        cell = cell.replace(decimal, ".")
    try:
        float(cell)
        return True
    except ValueError:
        return False


def split_line(line, sep):
    return next(iter(csv.reader([line], delimiter=sep)), [])


def sniff_separator(lines):
    """The separator splitting the first line and most of the sampled ones into the same
    number (> 1) of fields, the one giving the most fields; "," when there is none (a
    single column). A row of the wrong width among them is then refused by line."""
    best, fields = ",", 1
    for sep in SEPARATORS:
        counts = [len(split_line(line, sep)) for line in lines]
        n = counts[0]
        if n > fields and counts.count(n) > len(counts) / 2:
            best, fields = sep, n
    return best


def sniff_decimal(lines, sep):
    """"," when a ``;``-style file writes its numbers with decimal commas, else "."."""
    if sep == ",":
        return "."
    cells = [c for line in lines for c in split_line(line, sep)]
    return "," if any(_DECIMAL_COMMA.match(c) for c in cells) else "."


COUNTED_HEADER_MIN = 8  # columns; a narrower first row 0,1,2 is as likely to be data


def counts_columns(first):
    """Whether a first row of at least :data:`COUNTED_HEADER_MIN` cells reads 0, 1, 2... or
    1, 2, 3...: the names pandas and R give unnamed columns, written as a header."""
    counted = [c.strip() for c in first]
    return len(first) >= COUNTED_HEADER_MIN and counted in (
        [str(i) for i in range(len(first))], [str(i) for i in range(1, len(first) + 1)])


def looks_like_header(first, second, decimal):
    """Whether the first row names the columns: some column has a name above a number, no
    cell of the first row is a number, or it counts the columns (:func:`counts_columns`)."""
    numeric = [is_number(c, decimal) for c in first]
    if counts_columns(first):
        return True
    if all(numeric):
        return False
    if second and len(second) == len(first):
        if any(not n and is_number(c, decimal) and c.strip() not in MISSING_WORDS
               for n, c in zip(numeric, second)):
            return True
    return not any(numeric)


class CsvTable(Table):
    """A CSV table read in chunks of rows.

    Parameters
    ----------
    path : str or path
        The file, or ``"-"`` for stdin.
    label_column : str or int, optional
        Carried to the output, not used as a feature (name or 0-based number).
    id_columns : sequence of str or int
        Carried to the output (ids, sites, timestamps...), not used as features.
    ignore_columns : sequence of str or int
        Dropped.
    sep, decimal : str, optional
        The separator and decimal mark; found from the file when not given.
    chunksize : int
        Rows per chunk.
    dtype : numpy dtype
        Of the arrays the integer fast path delivers (float32 halves their memory for
        a consumer that computes in float32).
    header : bool or None
        Whether the first line names the columns; None: found from the file.

    Raises
    ------
    DataError
        The file cannot be read, is empty, is not UTF-8 text, or a named column is
        not in it.

    >>> for chunk in CsvTable("data.csv", label_column="label").chunks():   # doctest: +SKIP
    ...     X = schema.transform(chunk.features)
    """

    def __init__(self, path, label_column=None, id_columns=(), ignore_columns=(), sep=None,
                 decimal=None, chunksize=DEFAULT_CHUNK, dtype=np.float64, header=None):
        self.path = path
        self.dtype = dtype
        self.text_columns = set()  # feature columns to read as text (a model's categories)
        self.name = "stdin" if str(path) == "-" else str(path)  # for messages
        self.chunksize = chunksize
        self._raw = self._open()
        self._checker = None
        self._pandas_first_row = None
        try:
            # only a regular file can be reopened past its header (not a pipe or stdin)
            self.is_regular_file = self.name != "stdin" and stat.S_ISREG(
                os.fstat(self._raw.fileno()).st_mode)
            self._read_head(sep, decimal, header)
            ignore_columns = list(ignore_columns)
            if self.has_header and self.n_columns > 1 and self.columns[-1] == "":
                ignore_columns.append(str(self.n_columns - 1))  # a trailing separator
            self.roles = ColumnRoles(self.columns, self.has_header, self.name, label_column,
                                     id_columns, ignore_columns)
        except BaseException:
            self._raw.close()
            raise

    def _open(self):
        if str(self.path) == "-":
            return sys.stdin.buffer
        try:
            return open(self.path, "rb")
        except IsADirectoryError:
            raise DataError(f"{self.path} is a folder, not a CSV file") from None
        except FileNotFoundError:
            raise DataError(f"file not found: {self.path}") from None
        except OSError as e:
            raise DataError(f"cannot read {self.path}: {e.strerror}") from None

    def _read_head(self, sep, decimal, header):
        raw_lines = []
        while len([x for x in raw_lines if x.strip()]) < SNIFF_LINES:
            line = self._raw.readline(MAX_LINE)
            if not line:
                break
            raw_lines.append(line)
            if len(line) >= MAX_LINE:
                raise DataError(f"{self.name}: a line is longer than {MAX_LINE:,} bytes; "
                                "not a CSV table")
        self._head = b"".join(raw_lines)  # re-read by the parsers
        self._bom = len(BOM) if self._head.startswith(BOM) else 0
        _refuse_other_formats(self.name, self._head)
        try:
            lines = self._head[self._bom:].decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise DataError(f"{self.name} is not a text CSV file (not UTF-8)") from None
        lines = [line for line in lines if line.strip()]
        if not lines:
            raise DataError(f"{self.name} is empty")
        self.sep = sep or sniff_separator(lines)
        self.decimal = decimal or sniff_decimal(lines[1:] or lines, self.sep)
        if self.decimal == self.sep:
            raise DataError(f"the decimal mark {self.decimal!r} is also the separator; give "
                            "another --sep")
        cells = [c.strip() for c in split_line(lines[0], self.sep)]
        if len(cells) > MAX_COLUMNS:
            raise DataError(f"{self.name} has {len(cells)} columns; at most {MAX_COLUMNS} "
                            "are supported")
        second = split_line(lines[1], self.sep) if len(lines) > 1 else None
        self.has_header = looks_like_header(cells, second, self.decimal) if header is None \
            else bool(header)
        self._counted_header = header is None and counts_columns(cells)
        self.n_columns = len(cells)
        self.columns = cells if self.has_header else [str(i) for i in range(len(cells))]
        # the data starts after any blank lines and the header (a BOM is skipped anyway)
        blanks = next(k for k, x in enumerate(raw_lines) if x.strip(BOM + b" \t\r\n"))
        skipped = raw_lines[:blanks + (1 if self.has_header else 0)]
        self._data_offset = sum(map(len, skipped)) or self._bom
        self._header_lines = blanks + (1 if self.has_header else 0)

    # -- what the table holds ------------------------------------------------------
    @property
    def notes(self):
        """Lines for people about how the file was read, when it is not a plain
        comma-separated file with a header."""
        out = []
        if self.sep != "," or self.decimal != ".":
            sep = {"\t": "tab", ";": "';'", "|": "'|'", ",": "','"}[self.sep]
            mark = "decimal commas" if self.decimal == "," else "decimal points"
            out.append(f"read {self.name} as {sep}-separated with {mark}")
        if self._counted_header:
            out.append(f"took the first line of {self.name} ({self.columns[0]}, "
                       f"{self.columns[1]}, ... {self.columns[-1]}) as unnamed columns' names "
                       "(give --no-header if it is data)")
        if self.has_header and self.n_columns > 1 and self.columns[-1] == "":
            out.append(f"left out the unnamed last column of {self.name} (a separator at the "
                       "end of each line)")
        return out

    # -- chunks --------------------------------------------------------------------
    def chunks(self):
        """Yield :class:`~aekit.tables.columns.Chunk` objects, in file order.

        Raises
        ------
        DataError
            On the first malformed row (naming its line).
        """
        if self._integer_path_ok:
            return self._integer_chunks()
        return self._pandas_chunks(self._data_offset, first_row=1)

    @property
    def _integer_path_ok(self):
        """Integer blocks need a regular file (to read past the head), commas, no carried or
        ignored columns, and a first line with a line end (a row boundary)."""
        return (self.is_regular_file and self.sep == "," and
                len(self.roles.feature_idx) == self.n_columns and self._head.endswith(b"\n"))

    def _integer_chunks(self):
        block_bytes = int(min(4 * 2**20, max(2**16, 3 * self.chunksize * self.n_columns)))
        delivered, offset, done = 0, self._data_offset, False
        try:
            with open(self.path, "rb") as f, ThreadPoolExecutor(PARSE_THREADS) as pool:
                f.seek(offset)
                # blocks are parsed ahead in a small pool (numpy releases the GIL) and
                # delivered in file order; memory stays bounded by PARSE_THREADS blocks
                parsing = deque()
                blocks = line_blocks(f, block_bytes)
                while True:
                    while len(parsing) < PARSE_THREADS:
                        block = next(blocks, None)
                        if block is None:
                            break
                        parsing.append((pool.submit(parse_integer_rows, block, self.n_columns,
                                                    self.dtype), len(block)))
                    if not parsing:
                        done = True
                        break
                    future, size = parsing.popleft()
                    X = future.result()
                    if X is None:
                        for later, _ in parsing:
                            later.cancel()
                        break
                    if len(X):
                        yield Chunk(X, None, delivered + 1)
                    delivered += len(X)
                    offset += size
        except OSError as e:
            raise DataError(f"cannot read {self.name}: {e.strerror}") from None
        finally:
            self._raw.close()
        if done:
            if delivered == 0:
                raise DataError(f"{self.name} has a header but no data rows")
            return
        yield from self._pandas_chunks(offset, first_row=delivered + 1)

    def _stream(self, offset):
        """The file's bytes from ``offset`` (a regular file is reopened there; a pipe is the
        head already read, then the rest)."""
        if self.is_regular_file:
            raw = open(self.path, "rb")
            raw.seek(offset)
            self._raw.close()
            self._raw = raw
            return raw
        return Prepend(self._head[offset:], self._raw)

    def _pandas_chunks(self, offset, first_row):
        import pandas as pd

        header_lines = self._header_lines
        self._pandas_first_row = first_row
        self._checker = CheckedRows(self._stream(offset), self.n_columns, self.sep, self.name,
                                    first_row + header_lines, self.has_header)
        roles = self.roles
        used = sorted(roles.feature_idx + roles.carried_idx)
        missing = {i: list(MISSING_WORDS) for i in roles.feature_idx}
        row, seen = first_row, first_row > 1
        try:
            text = set(roles.carried_idx) | {i for i in roles.feature_idx
                                             if self.columns[i] in self.text_columns
                                             or i in self.text_columns}
            reader = pd.read_csv(
                self._checker, header=None, names=list(range(self.n_columns)), usecols=used,
                dtype={i: str for i in text}, sep=self.sep, decimal=self.decimal,
                chunksize=self.chunksize, engine="c", skip_blank_lines=True, index_col=False,
                na_values=missing, keep_default_na=False, encoding="utf-8")
            for df in reader:
                if len(df) == 0:
                    continue
                features = self._numbers_with_decimal_mark(df[roles.feature_idx])
                if roles.feature_names is not None:
                    features.columns = roles.feature_names
                carried = None
                if roles.carried_idx:
                    carried = df[roles.carried_idx]
                    carried.columns = roles.carried_names
                seen = True
                yield Chunk(features, carried, row)
                row += len(df)
        except DataError:
            raise
        except (ValueError, pd.errors.ParserError) as e:
            raise DataError(self._explain(e)) from None
        except UnicodeDecodeError:
            raise DataError(f"{self.name} is not a text CSV file (not UTF-8)") from None
        finally:
            self._raw.close()
        if not seen:
            raise DataError(f"{self.name} has a header but no data rows")

    def _numbers_with_decimal_mark(self, features):
        """Text columns in a file of decimal commas: their cells written ``20,35`` made
        numbers (the parser reads a column so only when every cell is a number), so that
        a bad cell among them is named, not the column taken for text."""
        if self.decimal == ".":
            return features
        import pandas as pd

        features = features.copy()
        for j in range(features.shape[1]):
            col = features.iloc[:, j]
            if pd.api.types.is_numeric_dtype(col) or features.columns[j] in self.text_columns:
                continue
            num = pd.to_numeric(col.astype(str).str.replace(self.decimal, ".", regex=False),
                                errors="coerce")
            if num.notna().sum() * 2 >= col.notna().sum():  # mostly numbers: keep the rest
                features.isetitem(j, col.where(num.isna(), num).astype(object))
        return features

    def _explain(self, e):
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = msg.replace("Error tokenizing data. C error: ", "")
        return f"{self.name}: malformed CSV ({msg})"

    # -- where things are ----------------------------------------------------------
    def line_of(self, row):
        """The file line (1-based) of data row ``row`` (1-based)."""
        if self._pandas_first_row is not None and row >= self._pandas_first_row:
            return self._checker.line_of(row - self._pandas_first_row + 1)
        return row + self._header_lines

    def locate(self, error, chunk):
        """A :class:`~aekit.errors.CellError` about ``chunk`` as a one-line DataError naming
        the file, the line and the column."""
        return error.at(self.name, f"line {self.line_of(chunk.first_row + error.row)}")


MAGIC = {b"\x1f\x8b": "gzip-compressed: decompress it first (gunzip)",
         b"PAR1": "a Parquet file: name it .parquet",
         b"PK\x03\x04": "a zip archive (an Excel workbook?): export it as CSV first",
         b"\xff\xfe": "UTF-16 text: save it as UTF-8", b"\xfe\xff": "UTF-16 text: save it as UTF-8"}


def _refuse_other_formats(name, head):
    """One clear line for files that are not UTF-8 CSV text at all."""
    for magic, what in MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"{name} is {what}")
    if b"\r" in head and b"\n" not in head and head.count(b"\r") > 1:
        raise DataError(f"{name} ends its lines with a carriage return alone (old Mac "
                        "files): convert its line ends to \\n or \\r\\n first")
