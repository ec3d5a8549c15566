"""Reading numeric CSV tables, in chunks, with one clear error for each malformed file.

A table may have a header row or not (detected from its first line); a label
and an id column can be named (by header name, or by 0-based column number)
and are carried through untouched rather than scored. ``-`` reads stdin.
"""

import io
import math
import os
import re
import stat
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .errors import DataError

DEFAULT_CHUNK = 50_000
PARSE_THREADS = 2  # blocks of integers parsed at once (and held in memory)
MAX_COLUMNS = 100_000
MAX_LINE = 16 * 2**20  # characters: far beyond MAX_COLUMNS numbers, far below a memory problem
MISSING_WORDS = ("NaN", "nan", "NA", "N/A", "null")  # read as missing with allow_missing


@dataclass
class Chunk:
    X: np.ndarray  # CsvTable.dtype (rows, features); NaN where a cell was empty (if allowed)
    carried: "object"  # pandas DataFrame of the label/id columns, or None
    first_row: int  # 1-based data row number of X[0]


def _is_number(cell):
    cell = cell.strip().strip('"').strip()
    if cell == "":
        return True
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _open_text(path):
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict")
    try:
        return open(path, encoding="utf-8", newline="")
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, not a CSV file") from None
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None


class CsvTable:
    """A numeric CSV file read in chunks.

    >>> for chunk in CsvTable("data.csv", label_column="label").chunks():   # doctest: +SKIP
    ...     scores = model.score_samples(chunk.X)
    """

    def __init__(self, path, label_column=None, id_column=None, allow_missing=False,
                 chunksize=DEFAULT_CHUNK):
        self.path = path
        self.name = "stdin" if str(path) == "-" else str(path)  # for messages
        self.allow_missing = allow_missing
        self.chunksize = chunksize
        # float32 halves the memory of a chunk for consumers that compute in float32;
        # a value beyond float32's range then reads as infinite and is refused
        self.dtype = np.float64
        self._file = _open_text(path)
        try:
            # only a regular file can be reopened past its header (not a pipe or stdin)
            self.is_regular_file = self.name != "stdin" and stat.S_ISREG(
                os.fstat(self._file.fileno()).st_mode)
            self._read_first_line(label_column, id_column)
        except BaseException:
            self._file.close()
            raise

    def _read_first_line(self, label_column, id_column):
        import csv

        path = self.name
        try:
            first = self._file.readline(MAX_LINE)
        except UnicodeDecodeError:
            raise DataError(f"{path} is not a text CSV file (not UTF-8)") from None
        if first.strip() == "":
            raise DataError(f"{path} is empty")
        if len(first) >= MAX_LINE:
            raise DataError(f"{path}: the first line is longer than {MAX_LINE:,} characters; "
                            "not a CSV table")
        self._first = first
        try:
            cells = next(iter(csv.reader([first])))
        except csv.Error as e:
            raise DataError(f"{path}: malformed CSV header ({e})") from None
        self.has_header = not all(_is_number(c) for c in cells)
        self.n_columns = len(cells)
        if self.n_columns > MAX_COLUMNS:
            raise DataError(f"{path} has {self.n_columns} columns; at most {MAX_COLUMNS} are supported")
        self.columns = [c.strip() for c in cells] if self.has_header else [str(i) for i in range(len(cells))]
        self.carried_names = []
        self.carried_idx = []
        for role, spec in (("label", label_column), ("id", id_column)):
            if spec is None:
                continue
            idx = self._column_index(spec, role)
            if idx in self.carried_idx:
                raise DataError(f"the label and id columns are both column {idx} of {path}")
            self.carried_idx.append(idx)
            self.carried_names.append(self.columns[idx] if self.has_header else role)
        self.feature_idx = [i for i in range(self.n_columns) if i not in self.carried_idx]
        self.feature_names = [self.columns[i] for i in self.feature_idx]
        if not self.feature_idx:
            raise DataError(f"{path} has no feature columns left to score")

    def _column_index(self, spec, role):
        spec = str(spec)
        if self.has_header and spec in self.columns:
            return self.columns.index(spec)
        if spec.lstrip("-").isdigit():
            i = int(spec)
            if -self.n_columns <= i < self.n_columns:
                return i % self.n_columns
        known = f" (columns: {', '.join(self.columns[:10])}{'...' if self.n_columns > 10 else ''})" \
            if self.has_header else f" (the file has no header; give a column number 0..{self.n_columns - 1})"
        raise DataError(f"{role} column {spec!r} not found in {self.name}{known}")

    @property
    def n_features(self):
        return len(self.feature_idx)

    def chunks(self):
        """Yield :class:`Chunk` objects; raises DataError on the first bad row."""
        if self._readable_as_bytes and not self.carried_idx:
            return self._integer_chunks()
        return self._pandas_chunks()

    @property
    def _readable_as_bytes(self):
        """Whether the rows can be reread as raw bytes past the first line.

        Only a regular file can be reopened (not stdin or a pipe); a first line
        without a line end leaves no row boundary to start from; tables with gaps
        allowed are checked row by row in Python on the text stream.
        """
        return self.is_regular_file and not self.allow_missing and self._first.endswith("\n")

    def _integer_chunks(self):
        """Tables of plain non-negative integers (pixels, counts), parsed by numpy.

        Such files are the common large input (MNIST rows are 784 integers
        0..255): reading them as whole blocks of bytes in a few vectorised numpy
        passes is several times faster than pandas' tokenizer, which spends most
        of its time on per-column bookkeeping. The first block holding anything
        else (a sign, a decimal point, a space, a quote, a short row...) hands
        the rest of the file, from that block on, to pandas.
        """
        block_bytes = int(min(4 * 2**20, max(2**16, 3 * self.chunksize * self.n_columns)))
        delivered, offset, done = 0, 0, False
        try:
            with open(self.path, "rb") as f, ThreadPoolExecutor(PARSE_THREADS) as pool:
                if self.has_header:
                    f.readline()
                offset = f.tell()
                # blocks are parsed ahead in a small pool (numpy releases the GIL) and
                # delivered in file order; memory stays bounded by PARSE_THREADS blocks
                parsing = deque()
                blocks = _line_blocks(f, block_bytes)
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
            self._file.close()
        if done:
            if delivered == 0:
                raise DataError(f"{self.name} has a header but no data rows")
            return
        yield from self._pandas_chunks(offset=offset, first_row=delivered + 1)

    def _pandas_chunks(self, offset=0, first_row=1):
        import pandas as pd

        stream = self._fast_stream(offset)
        if stream is None:
            text = self._first if not self.has_header else ""
            stream = _Prepend(text, self._file)
        if self.allow_missing:
            # pandas pads a short row with NaN, which would read as gaps to fill
            stream = _RowLengths(stream, self.n_columns, self.name, 1 if not self.has_header else 2)
        if self.carried_idx:
            dtypes = {i: self.dtype for i in self.feature_idx}
            dtypes.update({i: "object" for i in self.carried_idx})
        else:
            dtypes = self.dtype  # one dtype for all: a per-column dict costs ~20% of the parse
        row = first_row
        seen = first_row > 1
        try:
            reader = pd.read_csv(
                stream, header=None, names=list(range(self.n_columns)), dtype=dtypes,
                chunksize=self.chunksize, engine="c", skip_blank_lines=True,
                na_values=[""] + (list(MISSING_WORDS) if self.allow_missing else []),
                keep_default_na=False, skipinitialspace=True, encoding="utf-8",
            )
            for df in _quiet_overflow(reader):
                if len(df) == 0:
                    continue
                X = df[self.feature_idx].to_numpy(dtype=self.dtype)
                self._check(X, row)
                carried = df[self.carried_idx].copy() if self.carried_idx else None
                if carried is not None:
                    carried.columns = self.carried_names
                seen = True
                yield Chunk(X, carried, row)
                row += len(X)
        except DataError:
            raise
        except (ValueError, pd.errors.ParserError) as e:
            raise DataError(self._explain(e, row)) from None
        except UnicodeDecodeError:
            raise DataError(f"{self.name} is not a text CSV file (not UTF-8)") from None
        finally:
            self._file.close()
        if not seen:
            raise DataError(f"{self.name} has a header but no data rows")

    def _fast_stream(self, offset=0):
        """The file as bytes, past the header, for pandas' C reader to read directly.

        A Python text stream in between costs pandas about a third of its speed;
        stdin, a file whose header does not end in a newline, and tables with
        gaps allowed (checked line by line in Python) keep the text stream.
        """
        if not self._readable_as_bytes:
            return None
        try:
            raw = open(self.path, "rb")
        except OSError:
            return None
        if offset:
            raw.seek(offset)  # where the integer reader stopped
        elif self.has_header:
            raw.readline()
        self._file.close()
        self._file = raw
        return raw

    def _check(self, X, first_row):
        finite = np.isfinite(X)
        if finite.all():
            return
        bad = ~finite
        if self.allow_missing:
            bad &= ~np.isnan(X)
            if not bad.any():
                return
        r, c = map(int, np.argwhere(bad)[0])
        value = X[r, c]
        if math.isnan(value):
            what = "is empty"
        elif self.dtype == np.float32:
            what = "is infinite or beyond float32's range (about 3.4e38)"
        else:
            what = f"is {value} (not finite)"
        line = first_row + r + (1 if self.has_header else 0)
        raise DataError(
            f"{self.name}: line {line}, column {self.feature_names[c]!r} {what}"
        )

    def _explain(self, e, row):
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "Expected" in msg and "fields" in msg:
            return f"{self.name}: rows of unequal length ({msg}); expected {self.n_columns} columns"
        if "could not convert" in msg or "Unable to parse" in msg or "cannot safely convert" in msg:
            return f"{self.name}: a non-numeric cell in a feature column ({msg})"
        return f"{self.name}: malformed CSV ({msg})"

    def read_all(self):
        """All rows at once: (X, carried DataFrame or None)."""
        import pandas as pd

        Xs, carried = [], []
        for ch in self.chunks():
            Xs.append(ch.X)
            if ch.carried is not None:
                carried.append(ch.carried)
        X = np.concatenate(Xs)
        return X, (pd.concat(carried, ignore_index=True) if carried else None)


def _line_blocks(f, block_bytes):
    """Whole lines of ``f``, about ``block_bytes`` at a time, each block ending in a line feed.

    A line longer than MAX_LINE is returned as it is (without a line feed), so
    that the integer parser declines it and pandas words the error.
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


def _quiet_overflow(reader):
    """pandas warns on stderr when a cell overflows float32; the reader reports it itself."""
    import warnings

    it = iter(reader)
    while True:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
            try:
                df = next(it)
            except StopIteration:
                return
        yield df


def prefetch(items, depth=2):
    """Iterate over ``items`` in a background thread, at most ``depth`` items ahead.

    pandas' C parser releases the GIL while it tokenises, so the next chunk of
    a CSV is parsed on one core while the current one is scored on another.
    An exception in the producer is raised here, at the item where it happened;
    leaving the loop early stops the producer and closes ``items``.
    """
    import queue
    import threading

    q = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(entry):
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as e:  # re-raised in the consumer's thread
            put((end, e))

    worker = threading.Thread(target=produce, name="aekit-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = q.get()
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()


class _Prepend(io.TextIOBase):
    """A text stream that first returns ``head`` then the rest of ``f``."""

    def __init__(self, head, f):
        self._head = head
        self._f = f

    def readable(self):
        return True

    def read(self, n=-1):
        if self._head:
            if n is None or n < 0:
                out, self._head = self._head + self._f.read(), ""
                return out
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._f.read(n)

    def readline(self, limit=-1):
        if self._head:
            out, self._head = self._head, ""
            return out
        return self._f.readline(limit)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


_LINE_END = re.compile(r"\r\n|\r|\n")


class _RowLengths(io.TextIOBase):
    """Passes text through, refusing any row whose number of fields is not ``n_columns``.

    Rows are counted by their commas; a file with quotes (where a comma may sit
    inside a field) is left to pandas from the first quote on.
    """

    def __init__(self, f, n_columns, path, first_line):
        self._f = f
        self._commas = n_columns - 1
        self._n_columns = n_columns
        self._path = path
        self._line = first_line
        self._tail = ""
        self._off = False

    def readable(self):
        return True

    def read(self, n=-1):
        text = self._f.read(n)
        if not self._off:
            self._check(text)
        return text

    def _check(self, text):
        data = self._tail + text
        if '"' in data:
            self._off = True
            return
        lines = _LINE_END.split(data)  # as pandas: \n, \r\n or a lone \r
        self._tail = lines.pop() if text else ""
        for i, line in enumerate(lines):
            c = line.count(",")
            if c != self._commas and line.strip():
                raise DataError(f"{self._path}: line {self._line + i} has {c + 1} fields; "
                                f"expected {self._n_columns} (rows of unequal length)")
        self._line += len(lines)


def looks_like_pixels(X):
    """True for 0..255 pixel values (to be divided by 255 for an MNIST model)."""
    return X.size > 0 and float(np.nanmax(X)) > 1.0 and float(np.nanmin(X)) >= 0.0 \
        and float(np.nanmax(X)) <= 255.0
