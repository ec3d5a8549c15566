"""A CSV byte stream cut into blocks of whole records, for a parser to take one at a time.

A block ends at a line feed outside quotes (an even number of ``"`` before it, counting
from the block's start, which is a record's start; doubled quotes count twice, as
CSV writes them). Memory stays bounded by the block size, on files and pipes alike.
"""

from ..errors import DataError

MAX_RECORD = 16 * 2**20  # bytes: far beyond 100,000 numbers, far below a memory problem
QUOTE = b'"'


def record_end(buf):
    """The end (exclusive) of the last whole record in ``buf``, 0 when there is none."""
    cut = buf.rfind(b"\n") + 1
    if cut == 0 or QUOTE not in buf:
        return cut
    quotes = buf.count(QUOTE, 0, cut)
    while cut and quotes % 2:  # that line feed is inside quotes: try the one before
        start = buf.rfind(b"\n", 0, cut - 1) + 1
        quotes -= buf.count(QUOTE, start, cut)
        cut = start
    return cut


class RecordBlocks:
    """The bytes ``first`` then those of ``f``, handed out in blocks of whole records.

    :meth:`next` returns ``(block, line, n_lines)``: about ``size`` bytes cut after a
    record, the file line (1-based) where the block starts (counting from
    ``first_line``) and the lines it holds; None at the end.

    Raises
    ------
    DataError
        A record runs on for more than :data:`MAX_RECORD` bytes (a quote never closed,
        or not a CSV file).
    """

    def __init__(self, f, first, first_line, source):
        self._f, self._pending, self.line, self._source = f, first, first_line, source

    def next(self, size):
        while True:
            data = self._f.read(size)
            buf = self._pending + data if self._pending else data
            if not data:
                self._pending = b""
                if not buf.strip():
                    return None
                n_lines = buf.count(b"\n") + (not buf.endswith(b"\n"))  # no line end?
                return self._hand_out(buf, n_lines)
            cut = record_end(buf)
            if cut:
                self._pending = buf[cut:]
                block = buf[:cut]
                return self._hand_out(block, block.count(b"\n"))
            if len(buf) > MAX_RECORD:
                what = "a quote opened there is never closed" if QUOTE in buf else \
                    "not a CSV table"
                raise DataError(f"{self._source}: line {self.line} runs on for more than "
                                f"{MAX_RECORD:,} bytes ({what})")
            self._pending, size = buf, max(size, len(buf))  # read on, twice as far

    def _hand_out(self, block, n_lines):
        line, self.line = self.line, self.line + n_lines
        return block, line, n_lines
