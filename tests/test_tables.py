"""Reading tables: the CSV reader on files, stdin and pipes (blocks of records parsed by
polars, numbers in float64), what it finds from the file (separator, decimal mark, header,
byte-order mark), its errors, Parquet, and the prefetching thread."""

import numpy as np
import pytest

from aekit.concurrency import prefetch
from aekit.errors import CellError, DataError
from aekit.preprocessing import to_matrix
from aekit.tables.csv_table import CsvTable


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


def test_a_file_of_integers_is_read_exactly_in_chunks(tmp_path):
    import pandas as pd

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(10_000, 7)).astype(float)
    X[0, 0] = 123456789012345  # 15 digits: beyond 32 bits, still exact in float64
    X[5000, 3] = 2**53
    path = tmp_path / "t.csv"
    _write_rows(path, X, header="a,b,c,d,e,f,g")
    by_pandas = pd.read_csv(path).to_numpy(dtype=np.float64)
    table = CsvTable(path, chunksize=100)  # many chunks, rows cut at block ends
    chunks = list(table.chunks())
    assert all(isinstance(c.features, np.ndarray) and c.features.dtype == np.float64
               for c in chunks)
    assert len(chunks) > 3 and [c.first_row for c in chunks] == \
        list(np.cumsum([1] + [len(c) for c in chunks[:-1]]))
    got = np.concatenate([c.features for c in chunks])
    np.testing.assert_array_equal(got, by_pandas)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # no line end after the last row
    np.testing.assert_array_equal(CsvTable(path).read_all()[0], by_pandas)


def test_numbers_keep_their_float64_digits(tmp_path, monkeypatch):
    """Unix times in seconds (about 1.49e9) keep their fractions: float32 would round them
    to multiples of 128 s."""
    times = 1_490_000_000 + np.arange(600) + 0.25
    data = ("t,x\n" + "".join(f"{t!r},{i % 7}\n" for i, t in enumerate(times.tolist()))).encode()
    for via in VIAS:
        _, got = _read(tmp_path, monkeypatch, data, via, chunksize=50)
        np.testing.assert_array_equal(got[:, 0], times)
        assert len(np.unique(got[:, 0])) == 600


@pytest.mark.parametrize("cell, value", [("-1", -1), ("1.5", 1.5), (" 7", 7), ("7 ", 7),
                                         ("1e3", 1000), ("1234567890123456", 1234567890123456),
                                         ('"9"', 9), ("NA", np.nan), ("", np.nan),
                                         ("nan", np.nan), ("inf", np.inf), ("n/a", np.nan),
                                         ("#N/A", np.nan), ("<NA>", np.nan)])
def test_any_number_late_in_a_file_of_integers_is_read_as_pandas_reads_it(tmp_path, cell,
                                                                           value):
    """The first rows are whole numbers (parsed as such); a later cell that is another
    kind of number widens its column, in that chunk and after it."""
    X = np.random.RandomState(0).randint(0, 255, size=(3000, 3)).astype(float)
    path = tmp_path / "t.csv"
    _write_rows(path, X, bad_row=2000, bad_text=cell)
    table = CsvTable(path, chunksize=300)
    got = np.concatenate([c.features for c in table.chunks()])
    X[2000, 1] = value
    np.testing.assert_array_equal(got, X)


@pytest.mark.parametrize("bad_text", ["x7", "0x10", "1_000", "\u0661"])
def test_a_bad_cell_late_in_a_file_of_integers_is_named(tmp_path, bad_text):
    """After chunks already delivered: the line in the file and the column, by its number
    in a file without a header, by its name in one with a header."""
    X = np.random.RandomState(0).randint(0, 255, size=(20_000, 5)).astype(float)
    bad = 15_000
    path = tmp_path / "big.csv"
    for header, line, column in ((None, bad + 1, "1"), ("a,b,c,d,e", bad + 2, "'b'")):
        _write_rows(path, X, header=header, bad_row=bad, bad_text=bad_text)
        table = CsvTable(path, chunksize=1000)
        first_rows = []
        with pytest.raises(DataError, match=f"line {line}, column {column} holds "
                                            f"'{bad_text}', not a number"):
            for c in table.chunks():
                first_rows.append(c.first_row)
                try:
                    to_matrix(c.features)
                except CellError as e:
                    raise table.locate(e, c) from None
        assert len(first_rows) > 1 and first_rows == sorted(first_rows)


def test_a_bad_cell_deep_in_a_large_file_leaks_no_warning(tmp_path):
    """pandas once printed a DtypeWarning ("Columns (1) have mixed types") before aekit's
    own line for such a file."""
    import warnings

    X = np.random.RandomState(0).normal(size=(60_000, 20)).round(4)
    path = tmp_path / "big.csv"
    _write_rows(path, X, header=",".join(f"c{j}" for j in range(20)), bad_row=40_000,
                bad_text="oops1.0794")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataError, match="line 40002, column 'c1' holds 'oops1.0794'"):
            rows(CsvTable(path))
    assert not caught, [str(w.message) for w in caught]


@pytest.mark.parametrize("row, words", [("1,2", "line {} has 2 fields but the header has 3"),
                                        ("1,2,3,4", "line {} has 4 fields but the header has 3"),
                                        ("1,2,", "line {}, column 'c' is missing"),
                                        ("", None)])
def test_a_bad_row_at_any_place_in_a_block_is_named(tmp_path, row, words):
    """Blocks are cut by bytes: the bad row falls first, last or inside one."""
    lines = ["a,b,c"] + [f"{i},{i + 1},{i + 2}" for i in range(300)]
    for at in range(1, 40):
        bad = lines.copy()
        bad[at] = row
        (tmp_path / "t.csv").write_text("\n".join(bad) + "\n")
        if words is None:  # a blank line: left out
            got = rows(CsvTable(tmp_path / "t.csv", chunksize=7))
            assert len(got) == 299 and got[at - 1, 0] == at
            continue
        with pytest.raises(DataError, match=words.format(at + 1)):
            rows(CsvTable(tmp_path / "t.csv", chunksize=7))


def test_quoted_line_feeds_and_blank_lines_keep_the_line_numbers(tmp_path, monkeypatch):
    """A note over two lines, blank lines: rows are counted by record, lines by the file,
    on files and pipes, whatever the chunk size."""
    body = ['1,2,"a, b"', '', '3,4,"two', 'lines"', '', '', '5,6,"x ""y"""',
            '7,8,"3\r\nlines\r\nhere"', '9,10,z'] * 20
    body[-2] = "9,x,z"  # line 1 + len(body) - 1
    data = ("a,b,note\n" + "\n".join(body) + "\n").encode()
    lines = data.count(b"\n")
    for via in VIAS:
        for chunksize in (1, 4, 1000):
            with pytest.raises(DataError, match=f"line {lines - 1}, column 'b' holds 'x'"):
                _read(tmp_path, monkeypatch, data, via, chunksize=chunksize,
                      ignore_columns=["note"])
    good = data.replace(b"9,x,z", b"9,10,z")
    table, got = _read(tmp_path, monkeypatch, good, "file", chunksize=3, id_columns=["note"])
    assert got.shape == (5 * 20, 2)
    notes = pd_concat([c.carried for c in CsvTable(tmp_path / "t.csv", chunksize=3,
                                                   id_columns=["note"]).chunks()])
    assert notes["note"].tolist()[:6] == ["a, b", "two\nlines", 'x "y"',
                                          "3\r\nlines\r\nhere", "z", "a, b"]


def pd_concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("buf, end", [(b"", 0), (b"1,2", 0), (b"1,2\n3", 4),
                                      (b'1,"a\nb"\n2,c\n', 12), (b'1,"a\nb', 0),
                                      (b'1,"a""\nb"\n', 10), (b'1,"a\n', 0)])
def test_blocks_end_after_whole_records(buf, end):
    from aekit.tables.records import record_end

    assert record_end(buf) == end


def test_a_quote_never_closed_is_named_not_read_to_the_end(tmp_path, monkeypatch):
    import aekit.tables.records as records

    monkeypatch.setattr(records, "MAX_RECORD", 10_000)
    data = b"a,b\n1,2\n3,\"oops\n" + b"5,6\n" * 5000
    with pytest.raises(DataError, match="line 3 runs on .*a quote opened there is never "
                                        "closed"):
        _read(tmp_path, monkeypatch, data, "file", chunksize=10)


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
                                        r"commas\? give sep=';' decimal=','"):
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


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("first", ["1", "1.5"])
def test_a_blank_line_in_a_file_of_one_column_is_a_missing_cell(tmp_path, monkeypatch, via,
                                                                 first):
    """pandas writes a missing value of a one-column table as a blank line: dropping it
    would shift every later row against the file's."""
    import io
    import sys

    def read(data):
        path = tmp_path / "t.csv"
        path.write_bytes(data)
        if via == "stdin":
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        table = CsvTable("-" if via == "stdin" else path)
        return np.concatenate([to_matrix(c.features, np.float64, allow_missing=True)
                               for c in table.chunks()])

    got = read(f"x\n{first}\n\n2\n3\n\n".encode())
    np.testing.assert_array_equal(got.ravel(), [float(first), np.nan, 2, 3, np.nan])
    assert len(read(b"x,y\n1,2\n\n3,4\n")) == 2  # two columns: a blank line is no row
    got = read(f"\n{first}\n\n2\n".encode())  # no header: the first blank line is a row too
    np.testing.assert_array_equal(got.ravel(), [np.nan, float(first), np.nan, 2])


def test_values_beyond_float32_are_refused_naming_the_column_when_training():
    from aekit.preprocessing import InputSchema

    X = np.ones((5, 3))
    X[3, 2] = 1e39
    with pytest.raises(DataError, match=r"row 4, column 'c' holds 1e\+39, beyond float32's "
                                        "range"):
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
