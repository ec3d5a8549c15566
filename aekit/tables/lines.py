"""Byte streams under the CSV reader: line blocks, a prepended head, checked row widths."""

import io

import numpy as np

from ..errors import DataError

BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark, as Excel's "CSV UTF-8" writes it
MAX_LINE = 16 * 2**20  # bytes: far beyond 100,000 numbers, far below a memory problem
LINE_FEED, CARRIAGE_RETURN, QUOTE = 10, 13, ord('"')


def line_blocks(f, block_bytes):
    """Whole lines of ``f``, about ``block_bytes`` at a time, each block ending in a line feed.

    A line longer than MAX_LINE is returned as it is (without a line feed), so that
    whoever parses it declines it.
    """
    pending = b""
    while True:
        data = f.read(block_bytes)
        buf = pending + data
        if not data:
            if buf:
                yield buf + b"\n"  # the last row has no line end
            return
        cut = buf.rfind(b"\n") + 1
        if cut == 0:
            if len(buf) > MAX_LINE:
                yield buf
                return
            pending = buf  # a row longer than a block: read on
            continue
        yield buf[:cut]
        pending = buf[cut:]


class ReadOnlyStream(io.RawIOBase):
    """A binary stream defined by its ``read``."""

    def readable(self):
        return True

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


class Prepend(ReadOnlyStream):
    """A binary stream that first returns ``head`` (bytes already read) then the rest of ``f``."""

    def __init__(self, head, f):
        self._head, self._f = head, f

    def read(self, n=-1):
        if self._head:
            if n is None or n < 0:
                out, self._head = self._head + self._f.read(), b""
                return out
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._f.read(n)


class CheckedRows(ReadOnlyStream):
    """Passes a CSV's bytes through, refusing the first record whose number of fields is not
    ``n_columns``, and noting where each data row starts, so that its line number can be
    found again (:meth:`line_of`: blank lines, which readers skip, and quoted fields that
    span lines shift them).

    Quotes are followed the way CSV readers follow them: a separator or a line feed
    inside quotes (an odd number of quotes before it, doubled quotes included) is part
    of a field. The work is a few numpy passes over each block (positions of line
    feeds, separators and quotes, then binary searches among them).
    """

    def __init__(self, f, n_columns, sep, source, first_line, header):
        self._f = f
        self._header = header
        self._sep = ord(sep)
        self._n = n_columns
        self._source = source
        self._first_line = first_line
        self._line = first_line  # the line number where the next record starts
        self._rows = 0  # data rows seen
        self._tail = b""
        self.checking = True
        self._shifts = []  # (first data row with this shift, lines it starts below row order)

    def read(self, n=-1):
        data = self._f.read(n)
        if self.checking:
            self._check(data)
        return data

    def _check(self, data):
        buf = self._tail + data
        if not data and buf and not buf.endswith(b"\n"):
            buf += b"\n"  # the end: the last record may lack its line feed
        raw = np.frombuffer(buf, dtype=np.uint8)
        all_lf = np.flatnonzero(raw == LINE_FEED)
        seps = np.flatnonzero(raw == self._sep)
        if b'"' in buf:  # keep the line feeds and separators outside quotes: those with
            quotes = np.flatnonzero(raw == QUOTE)  # an even number of quotes before them
            ends = all_lf[np.searchsorted(quotes, all_lf) % 2 == 0]
            seps = seps[np.searchsorted(quotes, seps) % 2 == 0]
        else:
            ends = all_lf
        if not ends.size:
            self._tail = buf
            if len(buf) > MAX_LINE:
                self.checking = False  # an unterminated quote: the parser words it
            return
        self._tail = buf[ends[-1] + 1:]
        starts = np.concatenate(([0], ends[:-1] + 1))
        fields = np.searchsorted(seps, ends) - np.searchsorted(seps, starts) + 1
        length = ends - starts - (raw[np.maximum(ends - 1, 0)] == CARRIAGE_RETURN)
        blank = length <= 0
        lines = np.searchsorted(all_lf, starts) + self._line
        bad = np.flatnonzero((fields != self._n) & ~blank)
        if bad.size:
            i = int(bad[0])
            self._refuse(int(lines[i]), int(fields[i]))
        data_lines = lines[~blank]
        rows = self._rows + np.arange(1, len(data_lines) + 1)
        shift = data_lines - (self._first_line + rows - 1)
        last = self._shifts[-1][1] if self._shifts else 0
        changes = np.flatnonzero(np.diff(np.concatenate(([last], shift))) != 0)
        self._shifts += [(int(rows[k]), int(shift[k])) for k in changes]
        self._rows += len(data_lines)
        self._line += int(np.searchsorted(all_lf, ends[-1], side="right"))

    def _refuse(self, line, fields):
        hint = ""
        if self._sep == ord(",") and fields > self._n:
            hint = " (decimal commas? give --sep ';' --decimal ',' for such files)"
        first = "the header" if self._header else "line 1"
        raise DataError(f"{self._source}: line {line} has {fields} field"
                        f"{'s' if fields != 1 else ''} but {first} has {self._n}{hint}")

    def line_of(self, row):
        """The file line of data row ``row`` (1-based, counted from this stream's start)."""
        import bisect

        k = bisect.bisect_right(self._shifts, (row, float("inf"))) - 1
        return self._first_line + row - 1 + (self._shifts[k][1] if k >= 0 else 0)
