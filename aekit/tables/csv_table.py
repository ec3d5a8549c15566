"""Reading CSV tables in chunks, with one clear error for each malformed file.

What is found from the file itself (and can be given instead): the separator, the
decimal mark, whether the first line is a header, and a UTF-8 byte-order mark
(skipped) (:mod:`aekit.tables.dialect`). A gzip-compressed file (``data.csv.gz``, found
by its first bytes, not its name) is read as the text it holds. Every row must have the
first line's number of fields: a row that has not is refused with its line number. ``-``
reads stdin.

The bytes are cut into blocks of whole records (:mod:`aekit.tables.records`), each
parsed by polars (:mod:`aekit.tables.csv_blocks`), so that memory stays bounded on
files and pipes larger than memory. Numbers are parsed as float64: a chunk's
feature columns are an array (of the table's ``dtype``, float64 by default) when every
one holds numbers, else a DataFrame
(text columns as text). Cells are checked where they are converted for a model
(:mod:`aekit.preprocessing`), which names the line and column of a bad cell through
:meth:`CsvTable.locate`.
"""

import bisect
import io
import os
import stat
import sys
import zlib

from ..errors import CellError, DataError, Note, literal
from .columns import Chunk, ColumnRoles, Table
from .dialect import (BOM, SNIFF_LINES, column_kinds, counts_columns, looks_like_header,
                      may_name_columns, not_utf8, refuse_other_formats, sniff_decimal,
                      sniff_separator, split_line)
from .records import MAX_RECORD, RecordBlocks

DEFAULT_CHUNK = 50_000
MAX_COLUMNS = 100_000
# bytes per polars call: enough rows to spread its per-column work on (wide rows parse
# with less CPU per byte in larger blocks: 784 byte columns parse about 15% faster in
# 16 MiB blocks than in 4 MiB ones), and no more, since memory goes with the block
# (polars holds a block's text, columns and buffers at once)
PARSE_ROWS, PARSE_MIN, PARSE_MAX = 8192, 2**20, 16 * 2**20
GZIP_MAGIC = b"\x1f\x8b"
# what reading a file can raise: the system's errors, and a damaged gzip file's (a
# truncated one: EOFError; a corrupt one: zlib.error, or gzip.BadGzipFile, an OSError)
READ_ERRORS = (OSError, EOFError, zlib.error)


def block_bytes(chunk_rows, row_bytes):
    """The bytes to parse at once, for rows of ``row_bytes`` and chunks of ``chunk_rows``."""
    return min(chunk_rows * row_bytes, max(PARSE_MIN, min(PARSE_MAX, PARSE_ROWS * row_bytes)))


class CsvTable(Table):
    """A CSV table read in chunks of rows.

    Parameters
    ----------
    path : str or path
        The file (plain or gzip-compressed text), or ``"-"`` for stdin (plain text).
    label_column : str or int, optional
        Carried to the output, not used as a feature (name or 0-based number).
    id_columns : sequence of str or int
        Carried to the output (ids, sites, timestamps...), not used as features.
    ignore_columns : sequence of str or int
        Not features, and dropped (``carry_ignored=False``, the default) or carried to the
        output as ids are (True: an output that gives the whole table back).
    sep, decimal : str, optional
        The separator and decimal mark; found from the file when not given.
    chunksize : int
        Rows per chunk (the last one may have fewer).
    header : bool or None
        Whether the first line names the columns; None: found from the file.

    Raises
    ------
    DataError
        The file cannot be read (a damaged gzip file among them), is empty, is not
        UTF-8 text, or a named column is not in it.

    >>> for chunk in CsvTable("data.csv", label_column="label").chunks():   # doctest: +SKIP
    ...     X = schema.transform(chunk.features)
    """

    def __init__(self, path, label_column=None, id_columns=(), ignore_columns=(), sep=None,
                 decimal=None, chunksize=DEFAULT_CHUNK, header=None, carry_ignored=False):
        self.path = path
        # feature columns to read as text (a model's categories): header names (str), or
        # 0-based positions among the feature columns (int: as a model without names, or a
        # file without a header, counts them)
        self.text_columns = set()
        self.name = "stdin" if str(path) == "-" else str(path)  # for messages
        self.chunksize = chunksize
        self._raw = self._open()
        self._shifts = []  # (first data row with this shift, lines it starts below row order)
        try:
            # only a regular file can be reopened past its header (not a pipe or stdin)
            self.is_regular_file = self.name != "stdin" and stat.S_ISREG(
                os.fstat(self._raw.fileno()).st_mode)
            try:
                self._read_head(sep, decimal, header)
            except READ_ERRORS as e:
                raise self._read_error(e) from None
            ignore_columns = list(ignore_columns)
            if self.has_header and self.n_columns > 1 and self.columns[-1] == "":
                ignore_columns.append(str(self.n_columns - 1))  # a trailing separator
            self.roles = ColumnRoles(self.columns, self.has_header, self.name, label_column,
                                     id_columns, ignore_columns, carry_ignored)
        except BaseException:
            self._raw.close()
            raise

    def give_back_head(self):
        """Of a table on stdin that has read its head alone (its columns, its header): give
        those bytes back, for the next table opened on stdin to read again. Stdin is read
        once, and a command may open it first to learn its columns (`aekit detect -`
        finds the roles of training in its header). Does nothing for a file."""
        global _GIVEN_BACK
        if self.name == "stdin":
            _GIVEN_BACK = (sys.stdin.buffer, self._head)

    def _open(self):
        if str(self.path) == "-":
            return _stdin()
        try:
            return _open_file(self.path)
        except IsADirectoryError:
            raise DataError(f"{self.path} is a folder, not a CSV file") from None
        except FileNotFoundError:
            raise DataError(f"file not found: {self.path}") from None
        except OSError as e:
            raise DataError(f"cannot read {self.path}: {e.strerror}") from None

    def _head_lines(self):
        """The first lines (raw bytes), up to :data:`SNIFF_LINES` that are not blank."""
        raw_lines = []
        while len([x for x in raw_lines if x.strip()]) < SNIFF_LINES:
            line = self._raw.readline(MAX_RECORD)
            if not line:
                break
            raw_lines.append(line)
            if len(line) >= MAX_RECORD:
                raise DataError(f"{self.name}: a line is longer than {MAX_RECORD:,} bytes; "
                                "not a CSV table")
        return raw_lines

    def _read_head(self, sep, decimal, header):
        raw_lines = self._head_lines()
        self._head = b"".join(raw_lines)  # re-read by the parser
        bom = len(BOM) if self._head.startswith(BOM) else 0
        refuse_other_formats(self.name, self._head)
        try:
            lines = self._head[bom:].decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise not_utf8(self.name) from None
        lines = [line for line in lines if line.strip()]
        if not lines:
            raise DataError(f"{self.name} is empty")
        self.sep = sep or sniff_separator(lines)
        self.decimal = decimal or sniff_decimal(lines[1:] or lines, self.sep)
        if self.decimal == self.sep:
            raise DataError(f"the decimal mark {self.decimal!r} is also the separator; give "
                            "another separator ({sep})", params=("sep",))
        cells = [c.strip() for c in split_line(lines[0], self.sep)]
        if len(cells) > MAX_COLUMNS:
            raise DataError(f"{self.name} has {len(cells)} columns; at most {MAX_COLUMNS} "
                            "are supported")
        second = split_line(lines[1], self.sep) if len(lines) > 1 else None
        self.has_header = looks_like_header(cells, second, self.decimal) if header is None \
            else bool(header)
        self._counted_header = header is None and counts_columns(cells, second, self.decimal)
        self._numbers_read_as_data = header is None and not self.has_header and \
            may_name_columns(cells, second, self.decimal)
        self.n_columns = len(cells)
        self.columns = cells if self.has_header else [str(i) for i in range(len(cells))]
        # the data starts after any blank lines and the header (a BOM is skipped anyway)
        blanks = next(k for k, x in enumerate(raw_lines) if x.strip(BOM + b" \t\r\n"))
        if self.n_columns == 1 and not self.has_header:
            blanks = 0  # its blank lines are rows whose cell is missing, the first ones too
        skipped = raw_lines[:blanks + (1 if self.has_header else 0)]
        self._data_offset = sum(map(len, skipped)) or bom
        self._first_line = blanks + (1 if self.has_header else 0) + 1
        data = lines[1:] if self.has_header else lines
        self._sample = [split_line(line, self.sep) for line in data]
        sizes = [len(x) for x in raw_lines[len(skipped):] if x.strip()]
        self._row_bytes = max(1, sum(sizes) // max(1, len(sizes)))

    # -- what the table holds ------------------------------------------------------
    @property
    def notes(self):
        """Lines for people about how the file was read, when it is not a plain
        comma-separated file with a header (str, or :class:`~aekit.errors.Note` where
        they name a parameter)."""
        out = []
        if self.sep != "," or self.decimal != ".":
            sep = {"\t": "tab", ";": "';'", "|": "'|'", ",": "','"}[self.sep]
            mark = "decimal commas" if self.decimal == "," else "decimal points"
            out.append(f"read {self.name} as {sep}-separated with {mark}")
        if self._counted_header:
            out.append(Note(literal(f"took the first line of {self.name} ({self.columns[0]}, "
                                    f"{self.columns[1]}, ... {self.columns[-1]}) as unnamed "
                                    "columns' names") + " (give {header:False} if it is data)",
                            params=("header",)))
        if self._numbers_read_as_data:
            shown = ", ".join(self._sample[0][:3]) + (", ..." if self.n_columns > 3 else "")
            out.append(Note(literal(f"read the first line of {self.name} ({shown}) as data, "
                                    "as it holds only numbers") +
                            " (give {header:True} if it names the columns)",
                            params=("header",)))
        if self.has_header and self.n_columns > 1 and self.columns[-1] == "":
            out.append(f"left out the unnamed last column of {self.name} (a separator at the "
                       "end of each line)")
        return out

    # -- chunks --------------------------------------------------------------------
    def chunks(self):
        """Yield :class:`~aekit.tables.columns.Chunk` objects of ``chunksize`` rows (the
        last one fewer), in file order.

        Raises
        ------
        DataError
            On the first malformed row (naming its line).
        """
        self.roles.refuse_duplicate_features()
        target = max(1, int(self.chunksize))
        rows, row = None, 1
        try:
            for frame, lines in self._parsed(target):
                self._note_lines(row + (rows.n if rows else 0), lines)
                while len(frame):  # chunks of target rows; a block's rest begins the next
                    rows = rows or self._chunk_rows(target)
                    take = min(len(frame), target - rows.n)
                    rows.add(*self._numbers(frame.head(take)))
                    frame = frame.slice(take)
                    if rows.n == target:
                        yield self._chunk(rows, row)
                        rows, row = None, row + target
            if rows is not None:
                yield self._chunk(rows, row)
                row += rows.n
        except READ_ERRORS as e:
            raise self._read_error(e) from None
        finally:
            self._raw.close()
        if row == 1:
            raise DataError(f"{self.name} has a header but no data rows")

    def _read_error(self, e):
        """The DataError for ``e``, one of :data:`READ_ERRORS` raised reading the file."""
        if getattr(e, "strerror", None):
            return DataError(f"cannot read {self.name}: {e.strerror}")
        return DataError(f"{self.name} is a damaged gzip file ({e}): compress it again, or "
                         "give it decompressed")

    def _parsed(self, target):
        """``(frame, lines)`` of each block of records in file order (see
        :meth:`~aekit.tables.csv_blocks.BlockParser.parse`; blocks that hold only blank
        lines left out), read in the caller's thread (`aekit detect` reads a regular
        file ahead in a thread of its own, and a pipe in the thread where Ctrl-C lands)."""
        from .csv_blocks import BlockParser

        parser = BlockParser(self._kinds(), self.sep, self.decimal, self.name,
                             "the header" if self.has_header else "line 1")
        blocks = RecordBlocks(*self._stream(), self.name)
        size, line = block_bytes(target, self._row_bytes), self._first_line
        while (block := blocks.next(size, line)) is not None:
            frame, lines, n_lines = parser.parse(block, line)
            line += n_lines
            if len(frame):  # blocks sized by the bytes per row so far
                size = block_bytes(target, max(1, len(block) // len(frame)))
                yield frame, lines

    def _kinds(self):
        """How each column is parsed at first: carried, ignored and the model's text
        columns as text, the others as the first rows suggest."""
        kinds = column_kinds(self._sample, self.n_columns, self.decimal)
        features, text = set(self.roles.feature_idx), self._text_idx()
        for i in range(self.n_columns):
            if i not in features or i in text:
                kinds[i] = "text"
        return kinds

    def _text_idx(self):
        """The file columns (0-based) of :attr:`text_columns`: a header name's, and the
        feature column at each position (a name matches nothing in a file without a
        header, whose columns have none)."""
        roles = self.roles
        named = {i for i in roles.feature_idx if roles.has_header and
                 self.columns[i] in self.text_columns}
        return named | {roles.feature_idx[j] for j in self.text_columns
                        if isinstance(j, int) and 0 <= j < roles.n_features}

    def _stream(self):
        """``(file, first bytes)``: where the data is read from, and the bytes of it read
        already (a regular file is reopened past its header; a pipe cannot be)."""
        if self.is_regular_file:
            raw = _open_file(self.path)
            raw.seek(self._data_offset)  # (in a gzip file, by reading up to it)
            self._raw.close()
            self._raw = raw
            return raw, b""
        return self._raw, self._head[self._data_offset:]

    def _numbers(self, frame):
        """``(frame, text_left)``: a parsed block with its feature columns read as text made
        numbers where all their cells are (see :func:`~aekit.tables.csv_blocks.
        numbers_where_text_is`; the model's text columns stay text)."""
        import polars as pl

        from .csv_blocks import column, numbers_where_text_is

        text = set(frame.select(pl.col(pl.String)).columns)
        text = [column(i) for i in self.roles.feature_idx if column(i) in text]
        keep = {column(i) for i in self._text_idx()}
        return numbers_where_text_is(frame, text, self.decimal, keep)

    def _chunk_rows(self, size):
        from .chunk_rows import ChunkRows
        from .csv_blocks import column

        roles = self.roles
        names = [column(i) for i in roles.feature_idx]
        every = len(roles.feature_idx) == self.n_columns
        return ChunkRows(size, None if every else names,
                         [column(i) for i in roles.carried_idx] or None, names, self.dtype)

    def _chunk(self, rows, first_row):
        return rows.chunk(first_row, self.feature_labels, self.roles.carried_names)

    # -- where things are ----------------------------------------------------------
    def _note_lines(self, row, lines):
        """Remember the file line of data rows ``row``, ``row + 1``... (``lines``): only
        where they stop following one another (blank lines, records over several lines)."""
        import numpy as np

        shift = lines - (self._first_line + row - 1 + np.arange(len(lines)))
        last = self._shifts[-1][1] if self._shifts else 0
        changes = np.flatnonzero(np.diff(shift, prepend=last) != 0)
        self._shifts += [(row + int(k), int(shift[k])) for k in changes]

    def line_of(self, row):
        """The file line (1-based) of data row ``row`` (1-based), once it has been read."""
        k = bisect.bisect_right(self._shifts, (row, float("inf"))) - 1
        return self._first_line + row - 1 + (self._shifts[k][1] if k >= 0 else 0)

    def place_of(self, row):
        """Where data row ``row`` (1-based) is, as an error names it: ``"line N"`` of the
        file."""
        return f"line {self.line_of(row)}"

    def locate(self, error, chunk):
        """A :class:`~aekit.errors.CellError` about ``chunk`` as a one-line DataError naming
        the file, the line and the column (by its header name when the file has one)."""
        column = self.column_of(error, chunk)
        return CellError(error.row, column, error.what).at(
            self.name, self.place_of(chunk.first_row + error.row))


_GIVEN_BACK = None  # (stdin, its head) read once and given back (CsvTable.give_back_head)


def _open_file(path):
    """A binary stream of the text in the file ``path``: the file, or where its first
    bytes are gzip's, what it holds decompressed (a seekable stream, as the file is)."""
    raw = open(path, "rb")
    if raw.peek(len(GZIP_MAGIC))[:len(GZIP_MAGIC)] != GZIP_MAGIC:
        return raw
    import gzip

    raw.close()
    return gzip.open(path, "rb")


def _stdin():
    """stdin's bytes, after any head a table gave back (of this stdin: a test harness
    gives each command its own)."""
    global _GIVEN_BACK
    given, _GIVEN_BACK = _GIVEN_BACK, None
    if given is None or given[0] is not sys.stdin.buffer:
        return sys.stdin.buffer
    return io.BufferedReader(_Prefixed(given[1], sys.stdin.buffer))


class _Prefixed(io.RawIOBase):
    """``prefix`` (bytes), then what ``rest`` (a binary stream) holds."""

    def __init__(self, prefix, rest):
        self._prefix, self._rest = memoryview(prefix), rest

    def readable(self):
        return True

    def readinto(self, b):
        if len(self._prefix):
            n = min(len(b), len(self._prefix))
            b[:n], self._prefix = self._prefix[:n], self._prefix[n:]
            return n
        data = self._rest.read1(len(b))
        b[:len(data)] = data
        return len(data)
