"""The CSV reader's plumbing: the byte fast path and the prefetching thread."""

import numpy as np
import pytest

from aekit.errors import DataError
from aekit.tabular import CsvTable, prefetch


def test_prefetch_keeps_order_and_items():
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))


def test_prefetch_raises_the_producers_error_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise DataError("line 3 is bad")

    seen = []
    with pytest.raises(DataError, match="line 3"):
        for x in prefetch(items()):
            seen.append(x)
    assert seen == [1, 2]


def test_prefetch_stops_and_closes_the_source_when_left_early():
    closed = []

    def items():
        try:
            for i in range(10**6):
                yield i
        finally:
            closed.append(True)

    for x in prefetch(items(), depth=1):
        if x == 3:
            break
    assert closed == [True]


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_file_and_stdin_paths_read_the_same_rows(tmp_path, header, newline, monkeypatch):
    import io
    import sys

    rng = np.random.RandomState(0)
    X = rng.randint(0, 255, size=(37, 5)).astype(float)
    lines = ([",".join(f"c{i}" for i in range(5))] if header else []) + \
        [",".join(f"{v:g}" for v in row) for row in X]
    text = newline.join(lines) + newline
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    from_file = CsvTable(path, chunksize=10)
    assert from_file.has_header == header
    got_file = np.concatenate([c.X for c in from_file.chunks()])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    got_stdin = np.concatenate([c.X for c in CsvTable("-", chunksize=10).chunks()])
    np.testing.assert_array_equal(got_file, X)
    np.testing.assert_array_equal(got_stdin, X)


def test_fast_path_still_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(DataError, match="non-numeric"):
        list(CsvTable(path).chunks())


def test_a_pipe_loses_no_rows(tmp_path):
    """A FIFO cannot be reopened past its header: all rows still arrive."""
    import os
    import threading

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    text = "a,b\n" + "".join(f"{i},{2 * i}\n" for i in range(5000))

    def write():
        with open(fifo, "w") as f:
            f.write(text)

    writer = threading.Thread(target=write)
    writer.start()
    table = CsvTable(fifo, chunksize=700)
    assert not table.is_regular_file
    X = np.concatenate([c.X for c in table.chunks()])
    writer.join()
    np.testing.assert_array_equal(X[:, 0], np.arange(5000))


def test_float32_overflow_is_one_clear_error(tmp_path, recwarn):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n1,2\n1e39,3\n")
    table = CsvTable(path)
    table.dtype = np.float32
    with pytest.raises(DataError, match="line 3, column 'a'.*float32"):
        list(table.chunks())
    assert not [w for w in recwarn if "overflow" in str(w.message)]


def _write_rows(path, X, header=None, bad_row=None, bad_text=None):
    lines = [header] if header else []
    for i, row in enumerate(X):
        cells = [f"{v:.15g}" for v in row]
        if i == bad_row:
            cells[1] = bad_text
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


def test_a_file_of_integers_is_parsed_by_numpy_as_pandas_would(tmp_path, monkeypatch):
    import pandas as pd

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(10_000, 7)).astype(float)
    X[0, 0] = 123456789012345  # 15 digits: still exact
    path = tmp_path / "t.csv"
    _write_rows(path, X, header="a,b,c,d,e,f,g")
    by_pandas = pd.read_csv(path).to_numpy(dtype=np.float64)
    monkeypatch.setattr(CsvTable, "_pandas_chunks", lambda self, **kw: 1 / 0)
    table = CsvTable(path, chunksize=100)  # blocks of 64 KiB: many chunks, rows cut at block ends
    chunks = list(table.chunks())
    assert len(chunks) > 3 and [c.first_row for c in chunks] == \
        list(np.cumsum([1] + [len(c.X) for c in chunks[:-1]]))
    got = np.concatenate([c.X for c in chunks])
    np.testing.assert_array_equal(got, by_pandas)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # no line end after the last row
    np.testing.assert_array_equal(CsvTable(path).read_all()[0], by_pandas)


@pytest.mark.parametrize("block", [b"1,2,3\n4,5\n", b"1,2,3\n4,5,6,7\n", b"1,,3\n", b"1,2,3\n\n",
                                   b"-1,2,3\n", b"1.5,2,3\n", b"1, 2,3\n", b"1,2,3\r\n",
                                   b'"1",2,3\n', b"1e3,2,3\n", b"1234567890123456,2,3\n", b"",
                                   b"1,2,3,4\n5,6\n", b"1,2,3\n4,5,6", b"1,2,:\n", b"1,2,\x003\n"])
def test_the_integer_parser_declines_anything_else(block):
    from aekit.tabular import parse_integer_rows

    assert parse_integer_rows(block, 3) is None
    assert parse_integer_rows(b"0,255,007\n10,2,3\n", 3).tolist() == [[0, 255, 7], [10, 2, 3]]


def test_the_integer_parser_is_exact_up_to_15_digits():
    from aekit.tabular import parse_integer_rows

    values = [0, 9, 10, 999_999_999, 1_000_000_000, 16_777_217, 123_456_789_012_345]
    block = ",".join(map(str, values)).encode() + b"\n"
    assert parse_integer_rows(block, len(values)).tolist() == [values]
    # float32 output rounds once, as pandas does
    got = parse_integer_rows(block, len(values), dtype=np.float32)
    np.testing.assert_array_equal(got, np.asarray([values], dtype=np.float64).astype(np.float32))


@pytest.mark.parametrize("bad_text,lenient", [(" 7", True), ("x7", False)])
def test_pandas_takes_over_where_the_integer_reader_stops(tmp_path, bad_text, lenient):
    """The integer reader has delivered chunks before the odd row; pandas reads on."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 255, size=(20_000, 5)).astype(float)
    bad = 15_000
    path = tmp_path / "big.csv"
    _write_rows(path, X, bad_row=bad, bad_text=bad_text)
    table = CsvTable(path, chunksize=100)  # 64 KiB blocks
    if lenient:  # pandas reads " 7" as 7: the same rows as if pandas had read it all
        expected = X.copy()
        expected[bad, 1] = 7
        got = np.concatenate([c.X for c in table.chunks()])
        np.testing.assert_array_equal(got, expected)
    else:
        first_rows = []
        with pytest.raises(DataError, match="non-numeric"):
            for c in table.chunks():
                first_rows.append(c.first_row)
        assert len(first_rows) > 1 and first_rows == sorted(first_rows)
