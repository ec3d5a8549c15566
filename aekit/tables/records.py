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


def record_blocks(f, first, block_bytes, first_line, source):
    """Yield ``(block, line, n_lines)``: the bytes ``first`` then those of ``f``, about
    ``block_bytes`` at a time, cut after whole records; ``line`` is the file line
    (1-based) where the block starts, counting from ``first_line``, and ``n_lines`` the
    lines it holds.

    Raises
    ------
    DataError
        A record runs on for more than :data:`MAX_RECORD` bytes (a quote never closed,
        or not a CSV file).
    """
    pending, line, size = first, first_line, block_bytes
    while True:
        data = f.read(size)
        buf = pending + data if pending else data
        if not data:
            if buf.strip():  # the last record (it may lack its line end)
                yield buf, line, buf.count(b"\n") + (not buf.endswith(b"\n"))
            return
        cut = record_end(buf)
        if cut == 0:
            if len(buf) > MAX_RECORD:
                what = "a quote opened there is never closed" if QUOTE in buf else \
                    "not a CSV table"
                raise DataError(f"{source}: line {line} runs on for more than "
                                f"{MAX_RECORD:,} bytes ({what})")
            pending, size = buf, max(block_bytes, len(buf))  # read on, twice as far
            continue
        block, pending, size = buf[:cut], buf[cut:], block_bytes
        n_lines = block.count(b"\n")
        yield block, line, n_lines
        line += n_lines
