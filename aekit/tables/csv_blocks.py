"""Blocks of CSV records parsed by polars: typed columns, the file line of each row, and one
clear error for a malformed row.

Each column is parsed as the file's first rows suggest (:func:`~aekit.tables.dialect.
column_kinds`): whole numbers as 8- or 32-bit integers (exact in float64, and the
fastest to parse), other numbers as float64, the rest as text; a block that polars
cannot parse so widens the column it names (byte to int to float to text) and is
parsed again, and the column stays wider for the blocks after it. Text in a feature column is made
numbers where every cell is one (words such as ``NA`` being missing), so that only a
column with a cell that is no number reaches the caller as text, to be named there.

polars pads a short row with nulls and reads a blank line as a row of nulls; so the
rows whose last column is null are looked at again in the block's bytes: a blank line
is left out (in a file of one column it is a row whose cell is missing), a row of
another width is refused naming its line. Where polars fails without naming a column
(a row too wide, a quote never closed, bytes that are not UTF-8), the block is read
again slowly, record by record with Python's csv module, to name the line.
"""

import csv
import re

import numpy as np
import polars as pl

from ..errors import DataError, literal
from .dialect import MISSING_WORDS, not_utf8, split_line
from .records import line_count

TYPES = {"byte": pl.UInt8, "int": pl.Int32, "float": pl.Float64, "text": pl.String}
WIDER = {"byte": "int", "int": "float", "float": "text"}
PARSE_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException)
_UNPARSED = re.compile(r"could not parse .* as dtype `\w+` at column 'c(\d+)' \(column number",
                       re.S)
QUOTE = b'"'


def column(j):
    """The name polars gives column ``j`` (0-based) of a block."""
    return f"c{j}"


class BlockParser:
    """Parses blocks of whole CSV records (see the module's notes).

    ``kinds``: per column of the file, "byte", "int", "float" or "text" (widened as
    blocks need). ``first``: what the widths are compared with in messages ("the header" or
    "line 1").
    """

    def __init__(self, kinds, sep, decimal, source, first):
        self.kinds, self.sep, self.decimal = list(kinds), sep, decimal
        self.source, self.first, self.n = source, first, len(kinds)
        self._schema = None  # polars' schema for the kinds, made again when one widens

    def parse(self, block, first_line):
        """``(frame, lines, n_lines)``: the records of ``block`` (bytes of whole records
        starting on file line ``first_line``) as a polars DataFrame with columns c0, c1...,
        blank lines left out, the file line of each of its rows, and the lines the block
        holds (without a quote, each line is a row of polars', a blank one a row of nulls:
        the lines are not counted then).

        Raises
        ------
        DataError
            Naming the line of a row of the wrong width, of bytes that are not UTF-8,
            or of records that polars cannot read.
        """
        frame = self._read(block, first_line)
        n_lines = len(frame) if QUOTE not in block else line_count(block)
        starts, spans = self._row_starts(block, frame, first_line, n_lines)
        keep = self._check_short_rows(block, frame, starts, spans, first_line)
        if self.decimal == "," and b"." in block:
            self._refuse_points(block, first_line + starts, keep)
        if keep is not None:
            frame, starts = frame.filter(pl.Series(keep)), starts[keep]
        return frame, first_line + starts, n_lines

    def _read(self, block, first_line):
        while True:
            try:
                if self._schema is None:
                    self._schema = pl.Schema({column(j): TYPES[k]
                                              for j, k in enumerate(self.kinds)})
                return pl.read_csv(
                    block, has_header=False, separator=self.sep, quote_char='"',
                    schema=self._schema,
                    decimal_comma=self.decimal == ",", missing_columns="insert",
                    raise_if_empty=False)
            except PARSE_ERRORS as e:
                if not self._widen(e):
                    raise self._malformed(block, first_line, e) from None

    def _widen(self, error):
        """Widen the column polars could not parse (every byte or int column at once: a
        file of integers that turns to decimals does so in many columns); False if
        none."""
        found = _UNPARSED.search(str(error))
        if not found or int(found.group(1)) >= self.n:
            return False
        kind, self._schema = self.kinds[int(found.group(1))], None
        if kind in ("byte", "int"):
            self.kinds = [WIDER[k] if k == kind else k for k in self.kinds]
        elif kind == "float":
            self.kinds[int(found.group(1))] = "text"
        return kind in WIDER

    def _row_starts(self, block, frame, first_line, n_lines):
        """``(starts, spans)``: the line (0-based in the block) each row starts on, and the
        lines each spans (None: one each). A record spans more than one line where a
        quoted cell holds line feeds."""
        if len(frame) == n_lines:
            return np.arange(len(frame)), None
        spans = np.ones(len(frame), dtype=np.int64)
        for j, kind in enumerate(self.kinds):
            if kind == "text":
                feeds = frame.get_column(column(j)).str.count_matches("\n", literal=True)
                spans += feeds.fill_null(0).to_numpy().astype(np.int64)
        if spans.sum() != n_lines:  # not what polars' cells say: ask the csv module
            starts, _ = self._records(block, first_line)
            if len(starts) != len(frame):
                raise self._malformed(block, first_line, None)
            spans = np.diff(np.append(starts, n_lines))
        return np.cumsum(spans) - spans, spans

    def _refuse_points(self, block, lines, keep):
        """With decimal commas, refuse a number written with a point, naming its line
        (``lines``: each row's; ``keep``: the rows kept, or None). In that locale "1.000"
        is a thousand, which polars reads as 1: a silent wrong number otherwise."""
        numeric = [column(j) for j, kind in enumerate(self.kinds) if kind != "text"]
        if not numeric:
            return
        raw = pl.read_csv(block, has_header=False, separator=self.sep, quote_char='"',
                          schema=pl.Schema({column(j): pl.String for j in range(self.n)}),
                          missing_columns="insert", raise_if_empty=False)
        pointed = raw.select(pl.any_horizontal(
            pl.col(numeric).str.contains(".", literal=True).fill_null(False))).to_series()
        hits = np.flatnonzero(pointed.to_numpy() & (True if keep is None else keep))
        if hits.size:
            i = int(hits[0])
            row = raw.row(i, named=True)  # (the numeric column's cell, not a date's)
            cell = next(row[c] for c in numeric if row[c] is not None and "." in row[c])
            raise DataError(f"{literal(self.source)}: line {int(lines[i])} holds "
                            f"{literal(repr(cell))}: in a file with decimal commas a point "
                            "in a number is ambiguous (a thousands separator?); write the "
                            "numbers without points")

    def _check_short_rows(self, block, frame, starts, spans, first_line):
        """A mask of the rows to keep (None: all): blank lines are left out, a row with
        fewer fields than the header (padded with nulls by polars) is refused."""
        suspects = np.flatnonzero(frame.get_column(column(self.n - 1)).is_null().to_numpy())
        if not suspects.size:
            return None
        lines = block.split(b"\n")
        keep = np.ones(len(frame), dtype=bool)
        for i in suspects.tolist():
            s = int(starts[i])
            record = lines[s] if spans is None else b"\n".join(lines[s:s + int(spans[i])])
            if not record.strip(b"\r"):
                # a blank line: left out, but in a file of one column it is that column's
                # cell left empty (as pandas writes a missing value there): a row, kept
                keep[i] = self.n == 1
                continue
            width = record.count(self.sep.encode()) + 1 if QUOTE not in record else \
                len(split_line(record.decode("utf-8", "replace"), self.sep))
            if width != self.n:
                raise self.wrong_width(first_line + s, width)
        return keep

    def wrong_width(self, line, fields):
        text = (f"{self.source}: line {line} has {fields} field"
                f"{'s' if fields != 1 else ''} but {self.first} has {self.n}")
        if self.sep == "," and fields > self.n:
            return DataError(literal(text) + " (decimal commas? give {sep:;} {decimal:,} for "
                             "such files)", params=("sep", "decimal"))
        return DataError(text)

    # -- the slow way, record by record: only to name the line of a problem -------------
    def _records(self, block, first_line):
        """``(starts, widths)`` of every record of ``block`` (blank lines: width 0), read
        by Python's csv module."""
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as e:
            line = first_line + block.count(b"\n", 0, e.start)
            raise not_utf8(self.source, line) from None
        pieces = text.split("\n")
        lines = [p + "\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
        reader = csv.reader(lines, delimiter=self.sep)
        starts, widths, at = [], [], 0
        try:
            for record in reader:
                starts.append(at)
                widths.append(len(record))
                at = reader.line_num
        except csv.Error as e:
            raise DataError(f"{self.source}: line {first_line + at} is not CSV ({e})") from None
        return np.asarray(starts, dtype=np.int64), np.asarray(widths, dtype=np.int64)

    def _malformed(self, block, first_line, error):
        """The DataError for a block polars could not read: a row of the wrong width or
        bytes that are not UTF-8, named by line; else polars' own words."""
        starts, widths = self._records(block, first_line)
        bad = np.flatnonzero((widths != self.n) & (widths != 0))
        if bad.size:
            return self.wrong_width(first_line + int(starts[bad[0]]), int(widths[bad[0]]))
        last = first_line + block.count(b"\n", 0, len(block) - 1)
        words = str(error).strip().splitlines()[0] if error is not None and str(error).strip() \
            else "a quote opened and not closed?"
        return DataError(f"{self.source}: malformed CSV in lines {first_line}-{last} ({words})")


def numbers_where_text_is(frame, columns, decimal, keep_text=()):
    """``(frame, text_left)``: ``frame`` with its text ``columns`` (names of feature
    columns) made float64 where every cell is a number or missing (:data:`~aekit.tables.
    dialect.MISSING_WORDS` become null, spaces around numbers are dropped, a decimal comma
    read as a point), and whether any is left as text. Those keep their text (missing
    words null), with numbers written with decimal commas rewritten with points when
    most cells are numbers, so that a cell that is no number is the one named;
    ``keep_text`` columns (a model's categories) keep their text as it is but for
    missing words."""
    out, text_left = [], False
    for name in columns:
        text = pl.when(pl.col(name).is_in(MISSING_WORDS)).then(None).otherwise(pl.col(name))
        if name in keep_text:
            out.append(text.alias(name))
            text_left = True
            continue
        plain = text.str.strip_chars()
        if decimal != ".":  # (a point there is no decimal mark: "1.000" is no number)
            plain = pl.when(plain.str.contains(".", literal=True)).then(None).otherwise(
                plain.str.replace(decimal, ".", literal=True))
        number = plain.cast(pl.Float64, strict=False)
        numbers, given = frame.select(number.count().alias("n"), text.count().alias("g")).row(0)
        if numbers == given:
            out.append(number.alias(name))
            continue
        text_left = True
        if decimal != "." and 2 * numbers >= given:
            out.append(pl.when(number.is_not_null()).then(plain).otherwise(text).alias(name))
        else:
            out.append(text.alias(name))
    return (frame.with_columns(out) if out else frame), text_left
