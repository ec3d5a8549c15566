"""Edge cases of tables as other tools write them, each once found wrong by a review: the
reader, the training options and the outputs either do the right thing or say why not."""

import gzip
import io

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from aekit.cli import cli
from aekit.cli.options import in_flags
from aekit.errors import CellError, DataError
from aekit.preprocessing import to_matrix
from aekit.tables.csv_table import CsvTable


def invoke(args, stdin=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)


def one_line_error(r, words):
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert r.exit_code in (1, 2), r.output
    assert "Traceback" not in r.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    assert words in lines[0], lines[0]


def read_all(path, **kwargs):
    """The table and its rows as numbers; a bad cell as the table's located error."""
    table = CsvTable(path, **kwargs)
    out = []
    for chunk in table.chunks():
        try:
            out.append(to_matrix(chunk.features, np.float64))
        except CellError as e:
            raise table.locate(e, chunk) from None
    return table, np.concatenate(out)


def frame(n=120, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({"a": rng.normal(10, 2, n).round(3), "b": rng.normal(0, 1, n).round(3),
                         "c": rng.randint(0, 50, n)})


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("edges")
    frame().to_csv(d / "t.csv", index=False)
    r = invoke(["train", "--data", d / "t.csv", "--epochs", "2", "--device", "cpu", "-q",
                "-o", d / "m.safetensors"])
    assert r.exit_code == 0, r.output
    return d


# -- the header --------------------------------------------------------------------------

def test_a_header_counting_the_columns_is_a_header_when_wide_and_data_when_narrow(tmp_path):
    X = np.arange(40).reshape(4, 10) + 100
    pd.DataFrame(X).to_csv(tmp_path / "wide.csv", index=False)  # pandas writes 0,1,...,9
    table, got = read_all(tmp_path / "wide.csv")
    assert table.has_header and table.feature_names == [str(i) for i in range(10)]
    np.testing.assert_array_equal(got, X)
    assert any("header=False" in str(n) for n in table.notes)  # the library's words
    assert any("--no-header" in in_flags(n) for n in table.notes)  # the command line's
    table, got = read_all(tmp_path / "wide.csv", header=False)  # the user has the last word
    assert not table.has_header and len(got) == 5
    (tmp_path / "narrow.csv").write_text("0,1,2\n3,4,5\n")  # three cells 0,1,2: data
    table, got = read_all(tmp_path / "narrow.csv")
    assert not table.has_header and len(got) == 2 and not table.notes


def test_a_numeric_header_can_be_named_with_header(tmp_path):
    """Taken for data by default, and said where distinct whole numbers sit above a row
    with a fraction (helper-56: years over measurements were trained on and scored as a
    row, with no word); whole numbers above whole numbers, or a repeated number, are
    data without a note."""
    (tmp_path / "years.csv").write_text("2019,2020,2021\n1.5,2,3\n4,5,6\n")
    table, got = read_all(tmp_path / "years.csv")
    assert got.shape == (3, 3)
    assert any("read the first line of" in str(n) and "(2019, 2020, 2021) as data" in str(n)
               and "header=True" in str(n) for n in table.notes)
    assert any("--header if it names the columns" in in_flags(n) for n in table.notes)
    table, got = read_all(tmp_path / "years.csv", header=True)
    assert table.feature_names == ["2019", "2020", "2021"] and got.shape == (2, 3)
    assert not table.notes
    for data in ("2019,2020,2021\n1,2,3\n", "5,5,7\n1.5,2,3\n"):
        (tmp_path / "d.csv").write_text(data)
        table, _ = read_all(tmp_path / "d.csv")
        assert not table.has_header and not table.notes


def test_leading_blank_lines_and_a_trailing_separator(tmp_path):
    (tmp_path / "t.csv").write_text("\n\na,b,\n1,2,\n3,4,\n")
    table, got = read_all(tmp_path / "t.csv")
    assert table.feature_names == ["a", "b"]
    np.testing.assert_array_equal(got, [[1, 2], [3, 4]])
    assert any("unnamed last column" in n for n in table.notes)
    (tmp_path / "bad.csv").write_text("\n\na,b,\n1,2,\n3,x,\n")
    with pytest.raises(DataError, match="line 5"):  # lines counted from the file's top
        table, _ = read_all(tmp_path / "bad.csv")


def test_duplicate_column_names_are_refused_unless_left_out(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,a\n1,2,3\n4,5,6\n")
    table = CsvTable(tmp_path / "t.csv")  # opened for its names: refused when read
    assert table.columns == ["a", "b", "a"]
    with pytest.raises(DataError, match="'a' appears 2 times"):
        next(table.chunks())
    _, got = read_all(tmp_path / "t.csv", ignore_columns=["2"])
    np.testing.assert_array_equal(got, [[1, 2], [4, 5]])


def test_the_reader_names_parameters_that_the_command_line_words_as_flags(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4,5\n")  # decimal commas read as fields
    with pytest.raises(DataError) as e:
        read_all(tmp_path / "t.csv")
    assert "line 3 has 3 fields" in str(e.value) and "sep=';' decimal=','" in str(e.value)
    assert "--sep ';' --decimal ," in in_flags(e.value)
    with pytest.raises(DataError) as e:
        CsvTable(tmp_path / "t.csv", sep=",", decimal=",")
    assert str(e.value).endswith("(sep)") and in_flags(e.value).endswith("(--sep)")


# -- what the cells hold ------------------------------------------------------------------

def test_a_separator_inside_quotes_is_not_a_column(tmp_path):
    (tmp_path / "t.csv").write_text('a,b,note\n1,2,"x, y"\n3,4,"z"\n')
    table, got = read_all(tmp_path / "t.csv", ignore_columns=["note"])
    np.testing.assert_array_equal(got, [[1, 2], [3, 4]])
    (tmp_path / "short.csv").write_text('a,b,note\n1,2,"x, y"\n3,"4, 5"\n')
    with pytest.raises(DataError, match="line 3"):
        read_all(tmp_path / "short.csv", ignore_columns=["note"])


def test_a_bad_cell_among_decimal_commas_is_named(tmp_path):
    (tmp_path / "t.csv").write_text("a;b\n1,5;2\n3,25;x\n")
    with pytest.raises(DataError, match=r"line 3, column 'b' holds 'x'"):
        read_all(tmp_path / "t.csv")


def test_codes_with_leading_zeros_stay_the_categories_they_were_trained_as(tmp_path):
    rng = np.random.RandomState(0)
    df = frame()
    df["site"] = rng.choice(["01", "02", "HQ", "NW", "SE"], len(df))  # mostly text: categories
    df.to_csv(tmp_path / "t.csv", index=False)
    r = invoke(["train", "--data", tmp_path / "t.csv", "--epochs", "2", "--device", "cpu",
                "-q", "-o", tmp_path / "m.safetensors"])
    assert r.exit_code == 0, r.output
    full = invoke(["detect", tmp_path / "t.csv", "-m", tmp_path / "m.safetensors", "-q"])
    coded = df.site.isin(["01", "02"]).to_numpy()
    df[coded].to_csv(tmp_path / "d.csv", index=False)  # every site there reads as a number
    part = invoke(["detect", tmp_path / "d.csv", "-m", tmp_path / "m.safetensors", "-q"])
    assert full.exit_code == 0 and part.exit_code == 0, part.output
    every = pd.read_csv(io.StringIO(full.stdout))["anomaly_score"].to_numpy()
    some = pd.read_csv(io.StringIO(part.stdout))["anomaly_score"].to_numpy()
    np.testing.assert_allclose(some, every[coded], rtol=1e-5)


def test_pixel_values_beyond_255_are_refused_naming_the_cell(tmp_path):
    X = np.zeros((3, 784), dtype=int)
    X[1, 5] = 300
    np.savetxt(tmp_path / "p.csv", X, fmt="%d", delimiter=",")
    r = invoke(["detect", tmp_path / "p.csv", "-o", tmp_path / "out.csv"])
    one_line_error(r, "line 2")
    assert "300" in r.stderr and not (tmp_path / "out.csv").exists()


def test_a_value_beyond_float32_is_named_by_its_header_and_line_on_every_path(model, tmp_path):
    """Not 'column 2 ... in row 1' (issue 23, item 7): the column's name, the file's line."""
    big = tmp_path / "big.csv"
    big.write_text("a,b,c\n1,2,3\n1,2,1e39\n2,3,4\n3,4,5\n")
    one_line_error(invoke(["train", "--data", big, "--epochs", "1", "--device", "cpu",
                           "-o", tmp_path / "m.safetensors"]),
                   f"{big}: line 3, column 'c' holds 1e+39, beyond float32's range")
    for command in ("detect", "encode"):  # read in float64, refused in the same words
        one_line_error(invoke([command, big, "-m", model / "m.safetensors", "-o",
                               tmp_path / "out.csv"]),
                       f"{big}: line 3, column 'c' holds 1e+39, beyond float32's range")
    pixels = tmp_path / "p.csv"
    X = np.zeros((3, 784), dtype=int)
    X[1, 5] = 300
    np.savetxt(pixels, X, fmt="%d", delimiter=",", comments="",
               header=",".join(f"px{i}" for i in range(784)))
    one_line_error(invoke(["detect", pixels, "-o", tmp_path / "out.csv"]),
                   f"{pixels}: line 3, column 'px5' holds 300")
    # a Parquet file has no lines: its place is the data row (1-based), on every path
    parquet = tmp_path / "big.parquet"
    pd.read_csv(big).to_parquet(parquet)
    one_line_error(invoke(["train", "--data", parquet, "--epochs", "1", "--device", "cpu",
                           "-o", tmp_path / "m2.safetensors"]),
                   f"{parquet}: row 2, column 'c' holds 1e+39, beyond float32's range")
    one_line_error(invoke(["detect", parquet, "-m", model / "m.safetensors", "-o",
                           tmp_path / "out.csv"]),
                   f"{parquet}: row 2, column 'c' holds 1e+39, beyond float32's range")


# -- files that are not CSV text -----------------------------------------------------------

@pytest.mark.parametrize("kind,content,words", [
    ("cr", b"a,b\r1,2\r3,4\r", "carriage return"),
    ("utf16", "a,b\n1,2\n".encode("utf-16"), "UTF-16"),
    ("utf32", "a,b\n1,2\n".encode("utf-32"), "is UTF-32 text"),  # its mark begins as UTF-16's
    ("utf16-without-mark", "a,b\n1,2\n".encode("utf-16-le"), "holds NUL bytes, which no CSV text holds: UTF-16"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is an image (PNG, JPEG, GIF, TIFF, BMP or WebP), not a table"),
    ("jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "is an image (PNG, JPEG, GIF, TIFF, BMP or WebP), not a table"),
    ("bmp", b"BM\x36\x04\x00\x00\x00\x00\x00\x00\x36\x04", "is an image (PNG, JPEG, GIF, TIFF, BMP"),
])
def test_other_formats_are_named_not_misread(model, tmp_path, kind, content, words):
    (tmp_path / "x.csv").write_bytes(content)
    r = invoke(["detect", tmp_path / "x.csv", "-m", model / "m.safetensors"])
    one_line_error(r, words)


# -- gzip-compressed files ----------------------------------------------------------------

def test_a_gzip_compressed_csv_is_read_as_the_text_it_holds(model, tmp_path):
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress((model / "t.csv").read_bytes()))
    for name in ("t.csv.gz", "plain.csv"):
        source = tmp_path / name if name.endswith(".gz") else model / "t.csv"
        r = invoke(["detect", source, "-m", model / "m.safetensors", "-o", tmp_path / f"{name}.out.csv"])
        assert r.exit_code == 0, r.output
    assert (tmp_path / "t.csv.gz.out.csv").read_bytes() == (tmp_path / "plain.csv.out.csv").read_bytes()
    table, got = read_all(tmp_path / "t.csv.gz")
    np.testing.assert_array_equal(got, frame().to_numpy(np.float64))
    r = invoke(["train", "--data", tmp_path / "t.csv.gz", "--epochs", "1", "--device", "cpu", "-q",
                "-o", tmp_path / "gz.safetensors"])
    assert r.exit_code == 0 and (tmp_path / "gz.safetensors").exists(), r.output
    # a bad cell is named by its line in the text, as in a plain file
    lines = (model / "t.csv").read_text().splitlines()
    lines[100] = "1.0,abc,3"
    (tmp_path / "bad.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    r = invoke(["detect", tmp_path / "bad.csv.gz", "-m", model / "m.safetensors", "-o", tmp_path / "b.csv"])
    one_line_error(r, "line 101, column 'b' holds 'abc'")
    assert not (tmp_path / "b.csv").exists()


@pytest.mark.parametrize("damage,words", [("truncated", "Compressed file ended"),
                                          ("corrupt", "damaged gzip file")])
def test_a_damaged_gzip_file_is_refused_in_one_line(model, tmp_path, damage, words):
    data = bytearray(gzip.compress((model / "t.csv").read_bytes() * 20))
    if damage == "truncated":
        data = data[:len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    (tmp_path / "d.csv.gz").write_bytes(bytes(data))
    r = invoke(["detect", tmp_path / "d.csv.gz", "-m", model / "m.safetensors", "-o", tmp_path / "o.csv"])
    one_line_error(r, words)
    assert "is a damaged gzip file" in r.stderr
    assert not (tmp_path / "o.csv").exists()


def test_gzip_on_stdin_is_refused_in_one_line(model):
    r = invoke(["detect", "-", "-m", model / "m.safetensors"], stdin=gzip.compress(b"a,b,c\n1,2,3\n"))
    one_line_error(r, "stdin is gzip-compressed: decompress it first (gunzip), or give the file by name")


# -- options --------------------------------------------------------------------------------

def test_a_threshold_that_is_not_a_number_is_refused(model):
    one_line_error(invoke(["detect", model / "t.csv", "-m", model / "m.safetensors", "-t",
                           "nan"]), "'nan' is not a valid number")


@pytest.mark.parametrize("out", ["scores.csv.gz", "scores.xlsx"])
def test_an_output_named_for_a_format_aekit_does_not_write_is_refused(model, tmp_path, out):
    r = invoke(["detect", model / "t.csv", "-m", model / "m.safetensors", "-o", tmp_path / out])
    one_line_error(r, "aekit writes tables")
    assert not (tmp_path / out).exists()


def test_resume_takes_no_other_training_options(model, tmp_path):
    r = invoke(["train", "--resume", model / "m.safetensors", "--epochs", "5",
                "-o", tmp_path / "m2.safetensors"])
    one_line_error(r, "--epochs")


def test_table_options_need_a_table(tmp_path):
    r = invoke(["train", "--id-column", "x", "-o", tmp_path / "m.safetensors"])
    one_line_error(r, "--data")


def test_a_table_on_stdin_is_sized_as_a_file_would_be(model, tmp_path):
    text = (model / "t.csv").read_text()
    r = invoke(["train", "--data", "-", "--epochs", "1", "--device", "cpu",
                "-o", tmp_path / "m.safetensors"], stdin=text)
    assert r.exit_code == 0, r.output
    assert "chosen from the table's 3 feature columns" in r.stderr


def test_hidden_sizes_alone_leave_the_code_size_to_the_table(model, tmp_path):
    r = invoke(["train", "--data", model / "t.csv", "--hidden", "8", "--epochs", "1",
                "--device", "cpu", "-o", tmp_path / "m.safetensors"])
    assert r.exit_code == 0, r.output
    assert "--code-size" in r.stderr and "--hidden 8" not in r.stderr


def test_blank_labels_are_left_out_of_the_auroc(model, tmp_path):
    df = frame()
    df["label"] = ["normal"] * 100 + ["fraud"] * 10 + [""] * 10
    df.to_csv(tmp_path / "l.csv", index=False)
    r = invoke(["detect", tmp_path / "l.csv", "-m", model / "m.safetensors", "--label-column",
                "label", "--normal-label", "normal", "-o", tmp_path / "s.csv"])
    assert r.exit_code == 0, r.output
    assert "(10 anomalies, 100 normal rows; 10 rows without a label left out)" in r.stderr


# -- names the output writes itself ------------------------------------------------------

@pytest.mark.parametrize("command, carried, options", [
    ("detect", "anomaly_score", []), ("detect", "is_anomaly", []),
    ("detect", "top1_feature", ["--explain", "1"]), ("encode", "code_0", [])])
def test_a_carried_column_named_like_an_output_column_is_refused(model, tmp_path, command,
                                                                 carried, options):
    """An id column named ``anomaly_score`` was overwritten by the scores (or written
    twice), silently."""
    data = frame(20).assign(**{carried: [f"id{i}" for i in range(20)]})
    data.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "out.csv"
    r = invoke([command, tmp_path / "t.csv", "-m", model / "m.safetensors", "--id-column",
                carried, *options, "-o", out])
    one_line_error(r, f"the input's column '{carried}' has the name of a column aekit "
                      "writes to the output")
    assert not out.exists()
    # another name is carried through as it is
    data.rename(columns={carried: "id"}).to_csv(tmp_path / "t.csv", index=False)
    r = invoke([command, tmp_path / "t.csv", "-m", model / "m.safetensors", "--id-column",
                "id", *options, "-o", out])
    assert r.exit_code == 0, r.output
    assert pd.read_csv(out)["id"].tolist() == data[carried].tolist()


@pytest.mark.parametrize("cell", ["inf", "-inf", "1e400", "Infinity"])
def test_an_infinite_cell_is_refused_by_line_in_training_and_evaluation(tmp_path, cell):
    """Training said scikit-learn's 'Input contains infinity ...' with no line or
    column; `aekit evaluate tables` too."""
    data = frame(60).astype({"a": object})
    data.loc[40, "a"] = cell
    data["y"] = (np.arange(60) % 6 == 0).astype(int)
    data.to_csv(tmp_path / "t.csv", index=False)
    r = invoke(["train", "--data", tmp_path / "t.csv", "--label-column", "y", "--epochs", "1",
                "-o", tmp_path / "m.safetensors"])
    one_line_error(r, "line 42, column 'a' holds ")
    assert "not a finite number" in r.stderr and not (tmp_path / "m.safetensors").exists()
    r = invoke(["evaluate", "tables", tmp_path / "t.csv", "--label-column", "y",
                "--methods", "pca"])
    one_line_error(r, "line 42, column 'a' holds ")


@pytest.mark.parametrize("command", ["detect", "encode", "impute"])
def test_a_tsv_output_is_separated_by_tabs(model, tmp_path, command):
    """`-o scores.tsv` wrote commas."""
    frame(20).to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "out.tsv"
    r = invoke([command, tmp_path / "t.csv", "-m", model / "m.safetensors", "-o", out])
    assert r.exit_code == 0, r.output
    header = out.read_text().splitlines()[0]
    assert "," not in header and len(header.split("\t")) >= 2, header
    assert len(pd.read_csv(out, sep="\t")) == 20


@pytest.mark.parametrize("names, words", [("nope", "no table 'nope' in"),
                                          ("21_lymphography", "no table '21_lymphography'"),
                                          ("21_Lymphography,nope", "no table 'nope' in"),
                                          (" , ", "no table named among the tables of")])
def test_evaluate_tables_refuses_a_table_name_not_in_the_folder(tmp_path, names, words):
    """A wrong name gave numpy's 'need at least one array to concatenate'; one wrong name
    beside a right one was left out silently."""
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "21_Lymphography.npz", X=rng.normal(size=(40, 3)),
             y=(np.arange(40) % 8 == 0).astype(int))
    r = invoke(["evaluate", "tables", tmp_path, "--tables", names, "--methods", "pca"])
    one_line_error(r, words)


def test_the_pca_baseline_leaves_a_component_out_when_the_share_needs_them_all():
    """On 3 independent columns 90% of the variance needs all 3 components, which rebuild
    every row exactly: the baseline's AUROC was measured on rounding (16_http's 99.93)."""
    from sklearn.metrics import roc_auc_score

    from aekit import AnomalyDetector

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    det = AnomalyDetector(method="pca").fit(X)
    assert det.model_.pca_.n_components_ == 2
    test = np.vstack([rng.normal(size=(50, 3)), rng.normal(size=(10, 3)) * 6])
    scores = det.anomaly_score(test)
    assert scores.max() > 1e-3 and roc_auc_score(np.r_[np.zeros(50), np.ones(10)], scores) > 0.8
    # a count of components is kept as given, up to all but the last (all: refused)
    assert AnomalyDetector(method="pca", n_components=2).fit(X).model_.pca_.n_components_ == 2
    with pytest.raises(ValueError, match="n_components=3 keeps every component"):
        AnomalyDetector(method="pca", n_components=3).fit(X)


def test_the_pca_baseline_counts_the_dimensions_the_rows_span_not_the_features():
    """A categorical column's one-hot features sum to 1, so 3 numbers and 3 categories
    span 5 dimensions of 7 features: 90% of the variance needed all 5, which rebuilt
    every row exactly, and the baseline scored rounding (an AUROC of 4% on a table whose
    anomalies are far out in one column)."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from aekit import AnomalyDetector

    rng = np.random.RandomState(0)
    n = 1000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.normal(size=n), "cat": rng.choice(["web", "store", "phone"], n)})
    y = rng.uniform(size=n) < 0.05
    X.loc[y, "a"] += 5
    det = AnomalyDetector(method="pca").fit(X[:700])
    assert det.model_.pca_.n_components_ == 4
    assert roc_auc_score(y[700:], det.anomaly_score(X[700:])) > 0.85
    with pytest.raises(ValueError, match=r"n_components=5 keeps every dimension the training "
                                         r"rows span .* give fewer"):
        AnomalyDetector(method="pca", n_components=5).fit(X)


@pytest.mark.parametrize("cells", ["5", ""])
def test_a_table_whose_columns_never_vary_is_refused_for_training(tmp_path, cells):
    """Every cell 5 (or empty) trained a detector that flagged a row equal to every
    training row."""
    (tmp_path / "t.csv").write_text("a,b,c\n" + f"{cells},{cells},{cells}\n" * 40)
    r = invoke(["train", "--data", tmp_path / "t.csv", "--epochs", "1", "-o",
                tmp_path / "m.safetensors"])
    one_line_error(r, "every feature column holds one value (or none) in all 40 rows")
    assert not (tmp_path / "m.safetensors").exists()
    # one column that varies is enough
    (tmp_path / "t.csv").write_text("a,b,c\n" + "".join(f"5,5,{i}\n" for i in range(40)))
    r = invoke(["train", "--data", tmp_path / "t.csv", "--epochs", "1", "-q", "-o",
                tmp_path / "m.safetensors"])
    assert r.exit_code == 0, r.output


def test_an_output_folder_that_takes_no_file_is_refused_before_any_work(model, tmp_path,
                                                                          monkeypatch):
    """A read-only (immutable) folder was found only when the result was written, after
    training, and the error named a hidden temporary file."""
    import tempfile
    from pathlib import Path

    from aekit.atomic import atomic_open
    from aekit.errors import AekitError

    locked, real = tmp_path / "locked", tempfile.mkstemp
    locked.mkdir()

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    frame(30).to_csv(tmp_path / "t.csv", index=False)
    for args, name in ((["train", "--data", tmp_path / "t.csv", "--epochs", "1"], "m.safetensors"),
                       (["detect", tmp_path / "t.csv", "-m", model / "m.safetensors"], "s.csv")):
        r = invoke([*args, "-o", locked / name])
        one_line_error(r, f"cannot write {locked / name}: Permission denied")
    with pytest.raises(AekitError, match="cannot write .*out.csv: Permission denied"):
        with atomic_open(locked / "out.csv") as f:
            f.write("x")


def test_a_point_in_a_number_of_a_file_with_decimal_commas_is_refused_by_line(tmp_path):
    """In that locale "1.000" is a thousand; polars read it as 1, silently."""
    rows = "".join(f"{i},5;{i}\n" for i in range(3, 60))
    (tmp_path / "t.csv").write_text("a;b\n999,5;7\n1,5;1.000\n" + rows)
    r = invoke(["train", "--data", tmp_path / "t.csv", "--epochs", "1", "-o",
                tmp_path / "m.safetensors"])
    one_line_error(r, "line 3 holds '1.000': in a file with decimal commas a point")
    assert not (tmp_path / "m.safetensors").exists()
    # a text column of dates with points is no number: read as it is
    (tmp_path / "d.csv").write_text("d;a;b\n" + "".join(
        f"0{i % 9 + 1}.02.2024;{i},5;{i % 7}\n" for i in range(60)))
    table, _ = read_all(tmp_path / "d.csv", ignore_columns=["d"])
    assert table.n_features == 2


def test_a_model_without_column_names_says_it_takes_a_named_table_by_position(tmp_path):
    """A model trained on a headerless file scored a file with a header by position,
    whatever its names said, without a word."""
    frame(60).to_csv(tmp_path / "nohdr.csv", index=False, header=False)
    r = invoke(["train", "--data", tmp_path / "nohdr.csv", "--no-header", "--epochs", "1",
                "-q", "-o", tmp_path / "m.safetensors"])
    assert r.exit_code == 0, r.output
    frame(20)[["c", "a", "b"]].to_csv(tmp_path / "named.csv", index=False)
    r = invoke(["detect", tmp_path / "named.csv", "-m", tmp_path / "m.safetensors", "-o",
                tmp_path / "s.csv"])
    assert r.exit_code == 0, r.output
    assert "note: the model knows no column names" in r.stderr
    frame(20).to_csv(tmp_path / "plain.csv", index=False, header=False)
    r = invoke(["detect", tmp_path / "plain.csv", "-m", tmp_path / "m.safetensors",
                "--no-header", "-o", tmp_path / "s.csv"])
    assert r.exit_code == 0 and "column names" not in r.stderr, r.output


def test_a_header_that_counts_the_columns_is_a_header_above_numbers_with_fractions(tmp_path):
    """pd.DataFrame(X).to_csv() writes the header 0,1,2,3,4: above rows of fractions it
    names the columns (it was read as a data row: one row too many, every output row off
    by one), and is said; above whole numbers, and with --no-header, it stays data."""
    rng = np.random.RandomState(0)
    pd.DataFrame(rng.normal(size=(30, 5))).to_csv(tmp_path / "x.csv", index=False)
    table = CsvTable(tmp_path / "x.csv")
    assert table.has_header and table.columns == ["0", "1", "2", "3", "4"]
    assert any("took the first line" in str(n) for n in table.notes)
    assert len(table.read_all()[0]) == 30
    pd.DataFrame(rng.randint(0, 9, size=(30, 5))).to_csv(tmp_path / "i.csv", index=False)
    assert not CsvTable(tmp_path / "i.csv").has_header  # 0,1,2,3,4 may be a row of counts
    assert not CsvTable(tmp_path / "x.csv", header=False).has_header
    wide = pd.DataFrame(rng.randint(0, 9, size=(30, 9)))
    wide.to_csv(tmp_path / "w.csv", index=False)
    assert CsvTable(tmp_path / "w.csv").has_header  # 8+ columns counted: a header, as before
