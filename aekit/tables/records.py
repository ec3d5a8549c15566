"""A CSV byte stream cut into blocks of whole records, for a parser to take one at a time.

A block ends at a line feed outside quotes (an even number of ``"`` before it, counting
from the block's start, which is a record's start; doubled quotes count twice, as
CSV writes them). Memory stays bounded by the block size, on files and pipes alike.
"""

from ..errors import DataError

MAX_RECORD = 16 * 2**20  # bytes: far beyond 100,000 numbers, far below a memory problem
QUOTE = b'"'


def record_end(buf, end=None):
    """The end (exclusive) of the last whole record in ``buf[:end]`` (bytes or bytearray),
    0 when there is none."""
    end = len(buf) if end is None else end
    cut = buf.rfind(b"\n", 0, end) + 1
    if cut == 0 or buf.find(QUOTE, 0, cut) < 0:
        return cut
    quotes = buf.count(QUOTE, 0, cut)
    while cut and quotes % 2:  # that line feed is inside quotes: try the one before
        start = buf.rfind(b"\n", 0, cut - 1) + 1
        quotes -= buf.count(QUOTE, start, cut)
        cut = start
    return cut


def line_count(block):
    """The lines of ``block`` (a last line without a line feed counts too)."""
    return block.count(b"\n") + (not block.endswith(b"\n"))


class RecordBlocks:
    """The bytes ``first`` then those of ``f`` (a binary file with ``readinto``), handed out
    in blocks of whole records.

    :meth:`next` returns about ``size`` bytes cut after a record, or None at the end. The
    file is read into one buffer, used again for every block, so that each block's bytes
    are copied once.

    Raises
    ------
    DataError
        A record runs on for more than :data:`MAX_RECORD` bytes (a quote never closed,
        or not a CSV file).
    """

    def __init__(self, f, first, source):
        self._f, self._pending, self._source = f, first, source
        self._buf = bytearray()

    def next(self, size, line):
        """The next block (bytes), ``line`` being the file line it starts on (for the
        message of a record that never ends); None at the end."""
        while True:
            keep = len(self._pending)
            if len(self._buf) < keep + size:
                self._buf = bytearray(keep + size)
            view = memoryview(self._buf)
            view[:keep] = self._pending
            n = keep + (self._f.readinto(view[keep:keep + size]) or 0)
            if n == keep:  # the end of the file
                self._pending = b""
                last = bytes(view[:n])
                return last if last.strip() else None
            cut = record_end(self._buf, n)
            if cut:
                self._pending = bytes(view[cut:n])
                return bytes(view[:cut])
            if n > MAX_RECORD:
                what = "a quote opened there is never closed" if self._buf.find(QUOTE, 0, n) >= 0 \
                    else "not a CSV table"
                raise DataError(f"{self._source}: line {line} runs on for more than "
                                f"{MAX_RECORD:,} bytes ({what})")
            self._pending, size = bytes(view[:n]), max(size, n)  # read on, twice as far
