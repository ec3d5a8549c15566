"""Reading tables: the CSV reader's paths (integer blocks, pandas on bytes, stdin and pipes),
what it finds from the file (separator, decimal mark, header, byte-order mark), its errors,
Parquet, and the prefetching thread."""

import numpy as np
import pytest

from aekit.concurrency import prefetch
from aekit.errors import CellError, DataError
from aekit.preprocessing import to_matrix
from aekit.tables.csv_table import CsvTable
from aekit.tables.integers import parse_integer_rows


def rows(table, dtype=np.float64):
    """Every row of a table as numbers; a bad cell as the table's located error."""
    out = []
    for chunk in table.chunks():
        try:
            out.append(to_matrix(chunk.features, dtype))
        except CellError as e:
            raise table.locate(e, chunk) from None
    return np.concatenate(out)


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
    got_file = rows(from_file)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    got_stdin = rows(CsvTable("-", chunksize=10))
    np.testing.assert_array_equal(got_file, X)
    np.testing.assert_array_equal(got_stdin, X)


def test_fast_path_still_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(DataError, match="line 3, column 'b' holds 'x', not a number"):
        rows(CsvTable(path))


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
    X = rows(table)
    writer.join()
    np.testing.assert_array_equal(X[:, 0], np.arange(5000))


def test_float32_overflow_is_one_clear_error(tmp_path, recwarn):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n1,2\n1e39,3\n")
    with pytest.raises(DataError, match="line 3, column 'a'.*float32"):
        rows(CsvTable(path), np.float32)
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
    assert all(isinstance(c.features, np.ndarray) for c in chunks)
    assert len(chunks) > 3 and [c.first_row for c in chunks] == \
        list(np.cumsum([1] + [len(c) for c in chunks[:-1]]))
    got = np.concatenate([c.features for c in chunks])
    np.testing.assert_array_equal(got, by_pandas)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # no line end after the last row
    np.testing.assert_array_equal(CsvTable(path).read_all()[0], by_pandas)


@pytest.mark.parametrize("block", [b"1,2,3\n4,5\n", b"1,2,3\n4,5,6,7\n", b"1,,3\n", b"1,2,3\n\n",
                                   b"-1,2,3\n", b"1.5,2,3\n", b"1, 2,3\n", b"1,2,3\r\n",
                                   b'"1",2,3\n', b"1e3,2,3\n", b"1234567890123456,2,3\n", b"",
                                   b"1,2,3,4\n5,6\n", b"1,2,3\n4,5,6", b"1,2,:\n", b"1,2,\x003\n"])
def test_the_integer_parser_declines_anything_else(block):
    assert parse_integer_rows(block, 3) is None
    assert parse_integer_rows(b"0,255,007\n10,2,3\n", 3).tolist() == [[0, 255, 7], [10, 2, 3]]


def test_the_integer_parser_is_exact_up_to_15_digits():
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
        np.testing.assert_array_equal(rows(table), expected)
    else:
        first_rows = []
        with pytest.raises(DataError, match=f"line {bad + 1}, column 1 holds 'x7'"):
            for c in table.chunks():
                first_rows.append(c.first_row)
                try:
                    to_matrix(c.features)
                except CellError as e:
                    raise table.locate(e, c) from None
        assert len(first_rows) > 1 and first_rows == sorted(first_rows)


# -- what the reader finds from the file, on every path: a regular file read as integer
#    blocks, a regular file read by pandas (decimals), and stdin (a stream) ---------------

def _read(tmp_path, monkeypatch, data, via, **kwargs):
    """All rows of ``data`` (bytes) read from a file or from stdin."""
    import io
    import sys

    if via == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        table = CsvTable("-", **kwargs)
    else:
        path = tmp_path / "t.csv"
        path.write_bytes(data)
        table = CsvTable(path, **kwargs)
    return table, rows(table)


VIAS = ["file", "stdin"]
BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("values", ["integers", "decimals"])
def test_a_utf8_byte_order_mark_is_skipped(tmp_path, monkeypatch, via, values):
    """Excel's "CSV UTF-8": without a header the first row stays a row; with one, the first
    column's name is found as it reads."""
    import pandas as pd

    X = np.arange(12).reshape(4, 3) + (0.5 if values == "decimals" else 0)
    df = pd.DataFrame(X, columns=["id", "b", "c"])
    for header in (False, True):
        data = df.to_csv(index=False, header=header, encoding="utf-8-sig").encode("utf-8-sig")
        assert data.startswith(BOM)
        table, got = _read(tmp_path, monkeypatch, data, via)
        assert table.has_header == header
        np.testing.assert_array_equal(got, X)  # no row lost, none shifted
    table, got = _read(tmp_path, monkeypatch, data, via, id_columns=["id"])
    assert table.feature_names == ["b", "c"]
    np.testing.assert_array_equal(got, X[:, 1:])


@pytest.mark.parametrize("via", VIAS)
def test_a_decimal_comma_in_a_comma_separated_file_is_refused_naming_the_line(
        tmp_path, monkeypatch, via):
    """One column written 20,35: each row has a field more than the header. pandas once took
    the first field as an index and kept the digits after the comma."""
    data = b"temperature\n20,35\n21,5\n19,75\n"
    with pytest.raises(DataError, match=r"line 2 has 2 fields but the header has 1 \(decimal "
                                        r"commas\? give --sep ';' --decimal ','"):
        _read(tmp_path, monkeypatch, data, via)
    table, got = _read(tmp_path, monkeypatch, data, via, sep=";", decimal=",")
    np.testing.assert_allclose(got[:, 0], [20.35, 21.5, 19.75])


@pytest.mark.parametrize("via", VIAS)
def test_semicolons_and_decimal_commas_are_found_from_the_file(tmp_path, monkeypatch, via):
    data = "Temperatur;Druck;Zähler\n20,35;1013,2;7\n21,5;1009;8\n".encode()
    table, got = _read(tmp_path, monkeypatch, data, via)
    assert (table.sep, table.decimal) == (";", ",")
    assert table.feature_names == ["Temperatur", "Druck", "Zähler"]
    assert "';'-separated with decimal commas" in " ".join(table.notes)
    np.testing.assert_allclose(got, [[20.35, 1013.2, 7], [21.5, 1009, 8]])
    tabs = b"a\tb\n1.5\t2\n3\t4.25\n"
    table, got = _read(tmp_path, monkeypatch, tabs, via)
    assert table.sep == "\t" and table.decimal == "."
    np.testing.assert_allclose(got, [[1.5, 2], [3, 4.25]])


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("values", ["integers", "decimals"])
@pytest.mark.parametrize("row, words", [
    ("1,2,3,4", r"line 4 has 4 fields but the header has 3"),
    ("1,2", r"line 4 has 2 fields but the header has 3"),
    ("1,nan,3", r"line 4, column 'b' is missing"),
    ("1,,3", r"line 4, column 'b' is missing"),
    ("1,P0000,3", r"line 4, column 'b' holds 'P0000', not a number"),
])
def test_every_bad_row_is_named_by_line_and_column(tmp_path, monkeypatch, via, values, row,
                                                   words):
    """Rows of the wrong width and bad cells, past the first rows, on every reader path."""
    first = "1,2,3" if values == "integers" else "1.5,2,3"
    data = f"a,b,c\n{first}\n{first}\n{row}\n{first}\n".encode()
    with pytest.raises(DataError, match=words):
        _read(tmp_path, monkeypatch, data, via)


def test_blank_lines_do_not_shift_the_line_numbers(tmp_path, monkeypatch):
    data = b"a,b\n1.5,2\n\n\n3,4\n5,x\n"
    with pytest.raises(DataError, match=r"line 6, column 'b' holds 'x'"):
        _read(tmp_path, monkeypatch, data, "file")


def test_values_beyond_float32_are_refused_naming_the_column_when_training():
    from aekit.preprocessing import InputSchema

    X = np.ones((5, 3))
    X[3, 2] = 1e39
    with pytest.raises(DataError, match=r"column 'c' holds values beyond float32's range.*row 4"):
        InputSchema.fit(X, ["a", "b", "c"])


def test_several_pass_through_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,site,x,y,ts\n1,A,0.5,1,2026-01-01\n2,B,0.25,2,2026-01-02\n")
    table = CsvTable(path, id_columns=["id", "site", "ts"])
    assert table.feature_names == ["x", "y"]
    (chunk,) = table.chunks()
    assert list(chunk.carried.columns) == ["id", "site", "ts"]
    assert chunk.carried["site"].tolist() == ["A", "B"]
    table = CsvTable(path, id_columns=["id"], ignore_columns=["site", "ts"])
    assert table.feature_names == ["x", "y"] and table.roles.carried_names == ["id"]
    with pytest.raises(DataError, match="named as both"):
        CsvTable(path, id_columns=["id"], label_column="id")


def test_a_parquet_table_reads_as_the_csv_does(tmp_path):
    import pandas as pd

    from aekit.tables import open_table

    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.normal(size=(1000, 3)), columns=["a", "b", "c"])
    df.insert(0, "id", [f"r{i}" for i in range(1000)])
    df.to_parquet(tmp_path / "t.parquet", row_group_size=300)
    df.to_csv(tmp_path / "t.csv", index=False)
    pq, csv = (open_table(tmp_path / f"t.{ext}", id_columns=["id"], chunksize=256)
               for ext in ("parquet", "csv"))
    assert pq.feature_names == csv.feature_names == ["a", "b", "c"]
    np.testing.assert_array_equal(rows(pq), rows(csv))
    chunks = list(pq.chunks())
    assert [c.first_row for c in chunks][:2] == [1, 1 + len(chunks[0])]
    assert pd.concat([c.carried for c in chunks])["id"].tolist() == df["id"].tolist()
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        open_table(tmp_path / "bad.parquet")
