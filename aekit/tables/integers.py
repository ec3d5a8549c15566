"""A vectorised parser for CSV blocks of plain non-negative integers (pixels, counts).

Such files are the common large input (MNIST rows are 784 integers 0..255):
reading them as whole blocks of bytes in a few numpy passes is faster than a
general CSV reader, which spends most of its time on per-column bookkeeping
(BENCHMARKS.md compares it with pandas, polars and pyarrow on the same files).
A block holding anything else (a sign, a decimal point, a space, a quote, a short
row...) is declined, and the caller hands it to a general reader.
"""

import numpy as np

_ZERO, _NINE, _COMMA, _LINE_FEED = b"09,\n"
_MAX_DIGITS = 15  # integers of up to 15 digits are exact in float64


def parse_integer_rows(block, n_columns, dtype=np.float64):
    """Rows of ``n_columns`` non-negative integers, or None if ``block`` is anything else.

    ``block`` holds whole lines, each ending in a line feed. Each cell's value
    is summed from its last digit backwards, one pass per digit position, so
    the work is a few passes over the cells rather than a loop over them.
    """
    raw = np.frombuffer(block, dtype=np.uint8)
    if raw.size == 0 or raw[-1] != _LINE_FEED or raw.max() > _NINE:
        return None
    separator = raw < _ZERO  # a comma, a line feed, or a byte that no integer table holds
    n_cells = np.count_nonzero(separator)
    n_rows = np.count_nonzero(raw == _LINE_FEED)
    if n_cells != n_rows * n_columns or n_cells != n_rows + np.count_nonzero(raw == _COMMA):
        return None
    ends = np.flatnonzero(separator)  # the comma or line feed closing each cell
    # with the counts above, line feeds at every n_columns-th cell end mean none elsewhere
    if not (raw[ends[n_columns - 1 :: n_columns]] == _LINE_FEED).all():
        return None
    width = np.empty_like(ends)  # digits in each cell
    width[0] = ends[0]
    np.subtract(ends[1:], ends[:-1], out=width[1:])
    width[1:] -= 1
    widest = int(width.max())
    if width.min() < 1 or widest > _MAX_DIGITS:
        return None  # an empty cell (or a blank line), or a number float64 would round
    itype = np.int32 if widest <= 9 else np.int64
    last = ends - 1
    values = raw.take(last).astype(itype)
    values -= _ZERO
    for k in range(1, widest):
        # the k-th digit from the right, where the cell has one ("clip": the first cell's
        # index may fall before the block, and its digit is masked out anyway)
        digit = raw.take(last - k, mode="clip").astype(itype)
        digit -= _ZERO
        digit *= width > k
        digit *= itype(10**k)
        values += digit
    return values.reshape(-1, n_columns).astype(dtype)


