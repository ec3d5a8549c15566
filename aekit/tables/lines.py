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
    """Passes a CSV's bytes through, refusing the first row whose number of fields is not
    ``n_columns``, and noting the blank lines (which readers skip), so that a data row's
    line number can be found again (:meth:`line_of`).

    Fields are counted by their separators; from the first quote on (where a separator
    may sit inside a field) the rows are left to the parser.
    """

    def __init__(self, f, n_columns, sep, source, first_line, header):
        self._f = f
        self._header = header
        self._sep = ord(sep)
        self._n = n_columns
        self._source = source
        self._first_line = first_line
        self._line = first_line  # the line number of the next complete line
        self._tail = b""
        self.checking = True
        self.blank_lines = []

    def read(self, n=-1):
        data = self._f.read(n)
        if self.checking:
            self._check(data)
        return data

    def _check(self, data):
        buf = self._tail + data
        if not data:  # the end: the last line may lack its line feed
            buf = buf + b"\n" if buf else buf
        raw = np.frombuffer(buf, dtype=np.uint8)
        if raw.size and (raw == QUOTE).any():
            self.checking = False
            return
        ends = np.flatnonzero(raw == LINE_FEED)
        if not ends.size:
            self._tail = buf
            if len(buf) > MAX_LINE:
                self.checking = False
            return
        self._tail = buf[ends[-1] + 1:]
        starts = np.concatenate(([0], ends[:-1] + 1))
        seps = np.concatenate(([0], np.cumsum(raw[:ends[-1] + 1] == self._sep)))
        fields = seps[ends] - seps[starts] + 1
        length = ends - starts - (raw[np.maximum(ends - 1, 0)] == CARRIAGE_RETURN)
        blank = length <= 0
        bad = np.flatnonzero((fields != self._n) & ~blank)
        if bad.size:
            i = int(bad[0])
            self._refuse(self._line + i, int(fields[i]))
        self.blank_lines.extend((self._line + np.flatnonzero(blank)).tolist())
        self._line += len(ends)

    def _refuse(self, line, fields):
        hint = ""
        if self._sep == ord(",") and fields > self._n:
            hint = " (decimal commas? give --sep ';' --decimal ',' for such files)"
        first = "the header" if self._header else "line 1"
        raise DataError(f"{self._source}: line {line} has {fields} field"
                        f"{'s' if fields != 1 else ''} but {first} has {self._n}{hint}")

    def line_of(self, row):
        """The file line of data row ``row`` (1-based, counted from this stream's start)."""
        line = self._first_line + row - 1
        for blank in self.blank_lines:  # few in practice: a blank line at the end, say
            if blank <= line:
                line += 1
            else:
                break
        return line
