"""Numeric codes declared categorical (the estimators' ``categorical``, `--categorical`):
one-hot encoded as text columns are, kept in the model file, explained by their value."""

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import aekit
from aekit.cli import cli
from aekit.errors import ParameterError
from aekit.model_file import read_model_file
from aekit.preprocessing.columns import ColumnEncoding

pytestmark = pytest.mark.filterwarnings("ignore:trim 0.3 left")


def requests(n, seed=0):
    """A web log: the route decides the status (a numeric code), ``ms`` is noise."""
    rng = np.random.RandomState(seed)
    route = rng.choice(["home", "search", "admin"], n, p=[0.6, 0.3, 0.1])
    status = np.select([route == "home", route == "search"], [200, 404], 500)
    return pd.DataFrame({"ms": rng.normal(50, 5, n).round(1), "route": route,
                         "status": status})


def codes(n, seed=0):
    """Numbers alone: a product code (3, 7, 12) and a price that follows it."""
    rng = np.random.RandomState(seed)
    code = rng.choice([3, 7, 12], n)
    return pd.DataFrame({"price": (code * 1.0 + rng.normal(0, 0.1, n)).round(3),
                         "code": code})


@pytest.mark.parametrize("make", [
    lambda c: aekit.AnomalyDetector(method="pca", categorical=c),
    lambda c: aekit.AnomalyDetector(epochs=1, hidden=(8,), random_state=0, categorical=c),
    lambda c: aekit.Autoencoder(epochs=1, hidden=(8,), code_size=2, random_state=0,
                                categorical=c),
    lambda c: aekit.VariationalAutoencoder(epochs=1, warmup=0, hidden=(8,), code_size=2,
                                           random_state=0, categorical=c),
], ids=["pca", "detector", "autoencoder", "vae"])
def test_a_declared_numeric_column_is_one_hot_encoded(make):
    df = codes(200)
    assert make(None).fit(df).schema_.encoded_names() == ["price", "code"]
    est = make(["code"]).fit(df)
    assert est.schema_.encoded_names() == ["price", "code=3", "code=7", "code=12",
                                           "code=(unseen)"]
    assert est.schema_.n_encoded == 5 and est.schema_.encoding.declared == [1]
    assert est.get_params()["categorical"] == ["code"]  # stored as given


def test_a_code_is_one_category_however_a_cell_holds_it():
    """404, 404.0 and the text "404" (a CSV reader's, a float column with gaps, a frame
    of objects) are one category; a gap and a code never seen are none."""
    df = codes(200)
    det = aekit.AnomalyDetector(method="pca", categorical=["code"]).fit(df)
    row = pd.DataFrame({"price": [7.0] * 5, "code": [7, 7.0, "7", " 07 ", 7]})
    E = det.schema_.encode(row.astype({"code": object}))
    assert E[:, 1:].tolist() == [[0, 1, 0, 0]] * 5
    odd = pd.DataFrame({"price": [7.0, 7.0], "code": [np.nan, 5.0]})  # a gap; never seen
    assert det.schema_.encode(odd)[:, 1:].tolist() == [[0, 0, 0, 0], [0, 0, 0, 1]]
    mixed = pd.DataFrame({"ms": np.arange(60.0),
                          "status": [500, "404", "timeout", 404.0, 200, None] * 10})
    det = aekit.AnomalyDetector(method="pca", categorical=["status"]).fit(mixed)
    assert det.schema_.encoding.categories[1] == ["200", "404", "500", "timeout"]


def test_float32_codes_match_the_same_codes_read_from_text():
    """A float32 column (a Parquet file's, a frame's) spells 3.3 as a CSV reader's 3.3 does,
    not as float64's 3.299999952316284, so a model trained on either reads the other."""
    text = pd.DataFrame({"x": np.arange(40.0), "code": ["3.3", "7.1", "12"] * 13 + ["3.3"]})
    single = text.assign(code=text["code"].astype(np.float32))
    det = aekit.AnomalyDetector(method="pca", categorical=["code"]).fit(single)
    assert det.schema_.encoding.categories[1] == ["3.3", "7.1", "12"]
    trained = aekit.AnomalyDetector(method="pca", categorical=["code"]).fit(text)
    assert np.array_equal(trained.schema_.encode(single), trained.schema_.encode(text))


def test_a_code_with_a_decimal_comma_is_the_category_of_the_same_number():
    """A declared column's "7,25" and "12,0" (a decimal-comma CSV's cells) and 7.25 and 12.0
    (a Parquet file's, a frame's) are one category, whichever the model was trained on; a
    comma before three digits ("1,250": a thousands separator?) stands for no number."""
    comma = pd.DataFrame({"x": np.arange(40.0), "code": ["3,5", "7,25", "12,0", "1,25"] * 10})
    number = comma.assign(code=[3.5, 7.25, 12.0, 1.25] * 10)
    for trained_on, other in ((comma, number), (number, comma)):
        det = aekit.AnomalyDetector(method="pca", categorical=["code"]).fit(trained_on)
        assert np.array_equal(det.schema_.encode(other), det.schema_.encode(trained_on))
        assert det.schema_.encode(other)[:, -1].sum() == 0  # no code never seen
    odd = pd.DataFrame({"x": [1.0] * 4, "code": ["1,250", "1,25", "1.25", "0,125"]})
    assert det.schema_.encode(odd)[:, -1].tolist() == [1, 0, 0, 1]  # (trained on "1,25")
    # codes past float64's integers stay apart: 2**53 + 1 is not 2**53
    big = pd.DataFrame({"x": np.arange(40.0), "code": [str(2**53 + 1), "5"] * 20})
    det = aekit.AnomalyDetector(method="pca", categorical=["code"]).fit(big)
    new = pd.DataFrame({"x": [1.0, 1.0], "code": [str(2**53), str(2**53 + 1)]})
    assert det.schema_.encode(new)[:, -1].tolist() == [1, 0]


def test_a_declared_0_1_column_is_one_category_whether_numbers_or_booleans(tmp_path):
    """A CSV's 0/1 (read as text), a Parquet file's int 0/1 and its booleans are the
    categories 0 and 1, whichever the model was trained on; an encoding of trues and
    falses (a model file written before) still reads them all."""
    rng = np.random.RandomState(0)
    flag = rng.randint(0, 2, 60)
    ints = pd.DataFrame({"x": flag * 3.0 + rng.normal(0, 0.1, 60), "flag": flag})
    ints.assign(flag=ints.flag.astype(bool)).to_parquet(tmp_path / "b.parquet")
    forms = [ints.assign(flag=ints.flag.astype(str)), ints,
             pd.read_parquet(tmp_path / "b.parquet"),
             ints.assign(flag=ints.flag.astype("boolean")),
             ints.assign(flag=ints.flag.astype(bool).astype(str))]  # "True", as pandas writes
    expected = np.column_stack([flag == 0, flag == 1, np.zeros(60)])
    for trained_on in forms[:3]:
        det = aekit.AnomalyDetector(method="pca", categorical=["flag"]).fit(trained_on)
        assert det.schema_.encoding.categories[1] == ["0", "1"]
        for form in forms:
            assert np.array_equal(det.schema_.encode(form)[:, 1:], expected)
    old = ColumnEncoding(["numeric", "categorical"], [None, ["False", "True"]], [1.5, None],
                         declared=[1], unseen_slot=True)
    for form in forms:
        assert np.array_equal(old.encode(form)[:, 1:], expected)


def test_a_declared_column_without_any_value_is_refused():
    df = pd.DataFrame({"x": np.arange(30.0), "code": [np.nan] * 30})
    with pytest.raises(aekit.errors.DataError, match="declared categorical .* holds no value"):
        aekit.AnomalyDetector(method="pca", categorical=["code"]).fit(df)


def test_a_declared_column_holding_an_id_is_kept_with_a_warning():
    """The user's word stands (no id rule refuses it, as it would a text column), but a
    declared column whose values are nearly all different is named, and what to do."""
    df = pd.DataFrame({"x": np.arange(200.0), "account": np.arange(1000, 1200)})
    with pytest.warns(aekit.errors.AekitWarning, match="'account' is declared categorical "
                      r"\(categorical\) but holds 200 distinct values in 200 rows"):
        det = aekit.AnomalyDetector(method="pca", categorical=["account"]).fit(df)
    assert det.schema_.n_encoded == 1 + 200 + 1  # kept: its codes and the unseen slot
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # codes that repeat: no warning
        aekit.AnomalyDetector(method="pca", categorical=["code"]).fit(codes(200))


def test_an_array_takes_column_numbers():
    X = codes(200).to_numpy()
    det = aekit.AnomalyDetector(method="pca", categorical=[1]).fit(X)
    assert det.schema_.encoded_names() == ["0", "1=3", "1=7", "1=12", "1=(unseen)"]
    assert det.predict(X[:5]).shape == (5,)
    named = aekit.AnomalyDetector(method="pca", categorical=[1]).fit(codes(200))
    assert named.schema_.encoded_names() == ["price", "code=3", "code=7", "code=12",
                                             "code=(unseen)"]


@pytest.mark.parametrize("categorical, data, error, message", [
    (["nope"], "frame", ParameterError,
     r"^categorical names column 'nope', which the data does not hold \(its columns: "
     r"price, code\)$"),
    ([2], "frame", ParameterError,
     r"^categorical gives column number 2, but the data has 2 columns \(0\.\.1\)$"),
    (["code"], "array", ParameterError,
     r"^categorical names column 'code', but the data has no column names \(an array\): "
     r"give 0-based column numbers$"),
    (["code", 1], "frame", ParameterError, r"^categorical gives column 1 twice"),
    (["code", "code"], "frame", ValueError, r"^categorical names column 'code' more than once"),
    ("code", "frame", ValueError, r"^categorical must be a list of column names or 0-based "
                                  r"column numbers, got 'code'$"),
    ([True], "frame", ValueError, r"^each entry of categorical must be a column name"),
])
def test_bad_columns_are_refused_in_fit_with_one_clear_line(categorical, data, error, message):
    df = codes(50)
    X = df if data == "frame" else df.to_numpy()
    det = aekit.AnomalyDetector(method="pca", categorical=categorical)  # stored, unchecked
    assert det.categorical is categorical
    with pytest.raises(error, match=message):
        det.fit(X)


def test_the_encoding_round_trips_through_the_model_file(tmp_path):
    from aekit.scorer import Scorer

    df = requests(300)
    det = aekit.AnomalyDetector(epochs=2, random_state=0, categorical=["status"]).fit(df)
    det.save(tmp_path / "m.safetensors")
    encoding = read_model_file(tmp_path / "m.safetensors")[0]["schema"]["encoding"]
    assert encoding["declared"] == [2] and encoding["categories"][2] == ["200", "404", "500"]
    back = aekit.load(tmp_path / "m.safetensors")
    assert back.schema_.encoding == det.schema_.encoding
    test = requests(20, seed=1).assign(status=lambda t: t.status.astype(float))
    np.testing.assert_allclose(back.anomaly_score(test), det.anomaly_score(test), rtol=1e-5)
    fast = Scorer(tmp_path / "m.safetensors", device="cpu")  # the numpy scorer
    assert fast.uses_torch is False
    np.testing.assert_allclose(fast.anomaly_score(test), det.anomaly_score(test), rtol=1e-4)


def test_an_encoding_without_declared_columns_loads_as_before():
    old = {"kinds": ["numeric", "categorical"], "categories": [None, ["a", "b"]],
           "fills": [1.5, None], "indicators": []}
    assert ColumnEncoding.from_json(old, 2).declared == []
    assert "declared" not in ColumnEncoding.from_json(old, 2).to_json()  # written as before
    assert ColumnEncoding.from_json({**old, "declared": [1]}, 2).declared == [1]
    for bad in ([0], [1, 1], [2], ["1"], 1):  # a numeric column, twice, out of range...
        with pytest.raises(ValueError, match="column encoding is malformed"):
            ColumnEncoding.from_json({**old, "declared": bad}, 2)


# -- the command line ----------------------------------------------------------------------
def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("codes")
    requests(300).to_csv(d / "train.csv", index=False)
    r = invoke("train", "--data", d / "train.csv", "--categorical", "status", "--epochs", 3,
               "--device", "cpu", "-q", "-o", d / "m.safetensors")
    assert r.exit_code == 0, r.output
    return d


def test_train_declares_the_column_and_detect_reads_it_alike(trained):
    d = trained
    doc = read_model_file(d / "m.safetensors")[0]
    assert doc["params"]["categorical"] == ["status"]
    assert doc["schema"]["encoding"]["kinds"][2] == "categorical"
    test = requests(40, seed=1)
    test.to_csv(d / "test.csv", index=False)  # status read as text: the model's category
    test.to_parquet(d / "test.parquet")  # status typed int64
    outs = []
    for name in ("test.csv", "test.parquet"):
        r = invoke("detect", d / name, "-m", d / "m.safetensors", "--categorical", "status",
                   "--explain", 3, "-o", d / f"{name}.out.csv")
        assert r.exit_code == 0, r.output
        outs.append(pd.read_csv(d / f"{name}.out.csv"))
    np.testing.assert_allclose(outs[0].anomaly_score, outs[1].anomaly_score, rtol=1e-6)
    # every row names the status column once, by its own code
    named = pd.concat([outs[0][f"top{j}_feature"] for j in (1, 2, 3)], axis=1)
    status = named.apply(lambda row: [v for v in row if v.startswith("status=")], axis=1)
    assert status.tolist() == [[f"status={s}"] for s in test.status]


def test_a_code_never_seen_in_training_is_flagged_and_explained_by_its_column(trained):
    d = trained
    test = requests(40, seed=2)
    test.loc[7, "status"] = 503  # a home page answering 503: a code the model never saw
    test.to_csv(d / "unseen.csv", index=False)
    r = invoke("detect", d / "unseen.csv", "-m", d / "m.safetensors", "--explain", 1,
               "-o", d / "unseen_out.csv")
    assert r.exit_code == 0, r.output
    assert "1 category cell was missing or held categories never seen" in r.stderr
    out = pd.read_csv(d / "unseen_out.csv")
    assert out.is_anomaly[7] == 1 and out.anomaly_score.idxmax() == 7
    assert out.top1_feature[7] == "status=(unseen)"
    assert out.is_anomaly.sum() <= 3  # the ordinary rows mostly pass


def test_column_errors_are_one_line(trained):
    d = trained
    requests(20, seed=3).to_csv(d / "few.csv", index=False)
    cases = [
        (("detect", d / "few.csv", "-m", d / "m.safetensors", "--categorical", "nope"),
         f"Error: --categorical column 'nope' not found in {d / 'few.csv'} (columns: ms, "
         "route, status)"),
        (("detect", d / "few.csv", "-m", d / "m.safetensors", "--categorical", "ms"),
         f"Error: {d / 'm.safetensors'} reads column 'ms' as numbers; how a model reads its "
         "columns is set when it is trained: aekit train --categorical ms"),
        (("train", "--data", d / "few.csv", "--categorical", "nope", "-o", d / "x.safetensors"),
         f"Error: --categorical column 'nope' not found in {d / 'few.csv'} (columns: ms, "
         "route, status)"),
        (("train", "--data", d / "few.csv", "--label-column", "status", "--categorical",
          "status", "-o", d / "x.safetensors"),
         f"Error: --categorical column 'status' of {d / 'few.csv'} is given as an id, the "
         "label or a column to leave out, not as a feature"),
        (("train", "--categorical", "status", "-o", d / "x.safetensors"),
         "Error: --categorical applies to --data tables, not to MNIST"),
    ]
    for args, line in cases:
        r = invoke(*args)
        assert r.exit_code != 0 and r.output.startswith(line), r.output
        assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not (d / "x.safetensors").exists()


def test_stdin_goes_by_name_and_a_headerless_file_by_number(tmp_path):
    df = codes(150)
    r = CliRunner().invoke(cli, ["train", "--data", "-", "--categorical", "nope", "--epochs",
                                 "1", "-q", "-o", str(tmp_path / "s.safetensors")],
                           input=df.to_csv(index=False))
    assert r.exit_code == 2 and r.output.startswith(
        "Error: --categorical names column 'nope', which the data does not hold (its "
        "columns: price, code)"), r.output
    df.insert(0, "sku", range(150))
    df.to_csv(tmp_path / "h.csv", index=False, header=False)
    r = invoke("train", "--data", tmp_path / "h.csv", "--id-column", 0, "--categorical", 2,
               "--epochs", 1, "--device", "cpu", "-q", "-o", tmp_path / "h.safetensors")
    assert r.exit_code == 0, r.output
    doc = read_model_file(tmp_path / "h.safetensors")[0]
    assert doc["params"]["categorical"] == [1]  # file column 2: the second feature
    assert doc["schema"]["encoding"]["declared"] == [1]
    r = invoke("detect", tmp_path / "h.csv", "-m", tmp_path / "h.safetensors", "--id-column", 0,
               "--categorical", 2, "-o", tmp_path / "h_out.csv")
    assert r.exit_code == 0, r.output
    # stdin with --no-header: by number in the file too (it said "--categorical names
    # column '2', but the data has no column names (an array): give 0-based column numbers")
    stdin = ["train", "--data", "-", "--no-header", "--id-column", "0", "--epochs", "1",
             "--device", "cpu", "-q", "-o", str(tmp_path / "s.safetensors")]
    r = CliRunner().invoke(cli, stdin + ["--categorical", "2"],
                           input=(tmp_path / "h.csv").read_text())
    assert r.exit_code == 0, r.output
    assert read_model_file(tmp_path / "s.safetensors")[0]["params"]["categorical"] == [1]
    for spec, words in (("code", "stdin read with --no-header has no column names: give the "
                                 "column's 0-based number in the file"),
                        ("0", "is given as an id, the label or a column to leave out"),
                        ("00", "is given as an id, the label or a column to leave out"),
                        ("\u00b2", "has no column names")):
        r = CliRunner().invoke(cli, stdin + ["--categorical", spec],
                               input=(tmp_path / "h.csv").read_text())
        assert r.exit_code == 1 and words in r.output and len(r.output.splitlines()) == 1, \
            r.output


def test_train_reads_a_declared_csv_column_as_written(tmp_path):
    """A header's declared column is read as text in training, as detect reads it: codes
    past float64's integers (2**60, 2**60 + 1) stay apart, and a decimal-comma file's
    "3,5" is one category in both, so detect finds no code it never saw."""
    rng = np.random.RandomState(0)
    n = 120
    df = pd.DataFrame({"amount": rng.gamma(2.0, 20.0, n).round(2),
                       "big": [str(2**60 + i % 3) for i in range(n)],
                       "code": [["3,5", "7,25", "12"][i % 3] for i in range(n)]})
    df.to_csv(tmp_path / "t.csv", index=False, sep=";", decimal=",")
    r = invoke("train", "--data", tmp_path / "t.csv", "--categorical", "big", "--categorical",
               "code", "--epochs", 2, "--device", "cpu", "-q", "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    cats = aekit.load(tmp_path / "m.safetensors").schema_.encoding.categories
    assert cats[1] == [str(2**60), str(2**60 + 1), str(2**60 + 2)]
    assert cats[2] == ["12", "3,5", "7,25"]
    r = invoke("detect", tmp_path / "t.csv", "-m", tmp_path / "m.safetensors", "-o",
               tmp_path / "s.csv")
    assert r.exit_code == 0 and "never seen" not in r.output, r.output
    # the same table with its codes as numbers (a Parquet file's float64 column): the
    # same categories, the same scores
    df.assign(code=df.code.str.replace(",", ".").astype(float)).to_parquet(tmp_path / "t.pq")
    r = invoke("detect", tmp_path / "t.pq", "-m", tmp_path / "m.safetensors", "-o",
               tmp_path / "p.csv")
    assert r.exit_code == 0 and "never seen" not in r.output, r.output
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "p.csv").anomaly_score,
                                  pd.read_csv(tmp_path / "s.csv").anomaly_score)


def test_a_headerless_files_declared_columns_are_read_as_text_in_train_and_detect(tmp_path):
    """In a file without a header, --categorical gives file column numbers and the model
    keeps feature positions: with an id column first the two differ by one, and both
    commands read the declared columns (not their neighbours) as text."""
    rng = np.random.RandomState(0)
    n = 120
    df = pd.DataFrame({"sku": range(n), "amount": rng.gamma(2.0, 20.0, n).round(2),
                       "big": [str(2**60 + i % 3) for i in range(n)],
                       "code": [["3,5", "7,25", "12"][i % 3] for i in range(n)]})
    df.to_csv(tmp_path / "h.csv", index=False, header=False, sep=";", decimal=",")
    table = ("--no-header", "--sep", ";", "--decimal", ",", "--id-column", 0)
    r = invoke("train", "--data", tmp_path / "h.csv", *table, "--categorical", 2,
               "--categorical", 3, "--epochs", 2, "--device", "cpu", "-q", "-o",
               tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    cats = aekit.load(tmp_path / "m.safetensors").schema_.encoding.categories
    assert cats[1:] == [[str(2**60), str(2**60 + 1), str(2**60 + 2)], ["12", "3,5", "7,25"]]
    r = invoke("detect", tmp_path / "h.csv", "-m", tmp_path / "m.safetensors", *table,
               "--categorical", 3, "-o", tmp_path / "s.csv")
    assert r.exit_code == 0 and "never seen" not in r.output, r.output


def test_impute_fills_a_declared_code_as_the_input_holds_the_column(tmp_path):
    """A gap in a declared column takes a category written as the file holds the column:
    a float in a Parquet file's float64 column (not text, which pyarrow refused), a code
    with the file's decimal comma in a ';'-separated CSV; text that a Parquet column of
    numbers cannot hold is refused in one line."""
    rng = np.random.RandomState(0)
    code = rng.choice([3.5, 7.25], 60)
    df = pd.DataFrame({"x": code * 2 + rng.normal(0, 0.1, 60), "code": code})
    aekit.Autoencoder(epochs=1, hidden=(8,), code_size=2, random_state=0,
                      categorical=["code"]).fit(df).save(tmp_path / "m.safetensors")
    gap = df.head(6).assign(code=lambda t: t.code.where(t.index != 2))
    gap.to_parquet(tmp_path / "g.parquet")
    r = invoke("impute", tmp_path / "g.parquet", "-m", tmp_path / "m.safetensors", "-o",
               tmp_path / "o.parquet")
    assert r.exit_code == 0, r.output
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert out.code.dtype == np.float64 and out.code[2] in (3.5, 7.25)
    assert out.drop(index=2).code.tolist() == gap.drop(index=2).code.tolist()
    gap.to_csv(tmp_path / "g.csv", sep=";", decimal=",", index=False)
    r = invoke("impute", tmp_path / "g.csv", "-m", tmp_path / "m.safetensors", "-o",
               tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    filled = (tmp_path / "o.csv").read_text().splitlines()[3].split(";")[1]
    assert filled in ("3,5", "7,25"), filled
    words = df.assign(code=np.where(code == 3.5, "low", "high"))
    aekit.Autoencoder(epochs=1, hidden=(8,), code_size=2, random_state=0,
                      categorical=["code"]).fit(words).save(tmp_path / "w.safetensors")
    r = invoke("impute", tmp_path / "g.parquet", "-m", tmp_path / "w.safetensors", "-o",
               tmp_path / "w.parquet")
    assert r.exit_code == 1 and r.output.startswith(
        f"Error: {tmp_path / 'g.parquet'}: column 'code' holds double, and the model fills a "
        "gap in it with the category "), r.output
    assert len(r.output.strip().splitlines()) == 1 and not (tmp_path / "w.parquet").exists()


def test_impute_with_a_pca_detector_of_a_table_with_text(tmp_path):
    """A PCA detector of a table with a text column fills gaps in numbers and categories
    (it reconstructed the scaled rows with PCAModel.reconstruct, which takes rows in the
    input's units: "X has 6 features, but PCAModel is expecting 3")."""
    rng = np.random.RandomState(0)
    a = rng.normal(size=200)
    kind = np.where(a > 0, "up", "down")
    df = pd.DataFrame({"a": a, "b": 2 * a + rng.normal(0, 0.05, 200), "kind": kind})
    aekit.AnomalyDetector(method="pca", n_components=1).fit(df).save(tmp_path / "p.safetensors")
    gap = pd.DataFrame({"a": [1.5, -1.5, 1.0], "b": [np.nan, np.nan, 2.1],
                        "kind": ["up", "down", None]})
    gap.to_csv(tmp_path / "g.csv", index=False)
    r = invoke("impute", tmp_path / "g.csv", "-m", tmp_path / "p.safetensors", "-o",
               tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "o.csv")
    assert out.b[0] > 1.5 and out.b[1] < -1.5  # b = 2a (the columns' mean would be 0)
    assert out.kind.tolist() == ["up", "down", "up"]
    assert out.a.tolist() == gap.a.tolist()


def test_info_names_the_categorical_columns_and_their_categories(tmp_path):
    """`aekit info` said "input: 3 features named a, code, kind" and no more: which
    columns are categories, and which categories, was nowhere to be read."""
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=80), "code": rng.choice([3.5, 7.25], 80),
                       "kind": rng.choice(list("pqrstuv"), 80)})
    aekit.Autoencoder(epochs=1, hidden=(8,), code_size=2, random_state=0,
                      categorical=["code"]).fit(df).save(tmp_path / "m.safetensors")
    r = invoke("info", tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    assert ("categorical columns: code (declared, 2 categories: 3.5, 7.25); kind (7 "
            "categories: p, q, r, s, t and 2 more); each one-hot, with a slot for a "
            "category never seen") in r.output


def test_impute_fills_a_decimal_comma_models_codes_as_numbers_in_any_input(tmp_path):
    """A model trained with a decimal-comma CSV's codes ("3,5", "12,0") fills a gap as the
    input holds the column: 3.5 or 12.0 in a Parquet file's numbers, "3.5" in a CSV with
    points; and a model trained on numbers fills a decimal-comma CSV as its cells spell
    the code ("12,0", not "12")."""
    rng = np.random.RandomState(0)
    code = rng.choice([3.5, 12.0], 60)
    df = pd.DataFrame({"x": code * 2 + rng.normal(0, 0.1, 60), "code": code})
    comma = df.assign(code=np.where(code == 3.5, "3,5", "12,0"))
    for name, trained in (("c", comma), ("n", df)):
        aekit.Autoencoder(epochs=1, hidden=(8,), code_size=2, random_state=0,
                          categorical=["code"]).fit(trained).save(tmp_path / f"{name}.st")
    gaps = df.head(8).assign(code=lambda t: t.code.where(t.index % 2 == 0))
    gaps.to_parquet(tmp_path / "g.parquet")
    gaps.to_csv(tmp_path / "g.csv", index=False)
    gaps.to_csv(tmp_path / "gc.csv", index=False, sep=";", decimal=",")
    r = invoke("impute", tmp_path / "g.parquet", "-m", tmp_path / "c.st", "-o",
               tmp_path / "o.parquet")
    assert r.exit_code == 0, r.output
    assert set(pd.read_parquet(tmp_path / "o.parquet").code) <= {3.5, 12.0}
    for data, model, spelled in (("g.csv", "c.st", {"3.5", "12.0"}),
                                 ("gc.csv", "n.st", {"3,5", "12,0"})):
        r = invoke("impute", tmp_path / data, "-m", tmp_path / model, "-o", tmp_path / "o.csv")
        assert r.exit_code == 0, r.output
        sep = ";" if data == "gc.csv" else ","
        cells = [line.split(sep)[1] for line in
                 (tmp_path / "o.csv").read_text().splitlines()[1:]]
        assert set(cells) <= spelled and len(cells) == 8, cells


def test_impute_writes_a_parquet_integer_codes_known_cells_as_integers_in_a_csv(tmp_path):
    """A declared integer column of a Parquet file with a gap comes to pandas as floats: its
    known cells were written "200.0" to a CSV, where the numeric columns write 200."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.RandomState(0)
    status = rng.choice([200, 404, 500], 150)
    pq.write_table(pa.table({"status": pa.array(status, pa.int64()),
                             "y": status / 100 + rng.normal(0, 0.1, 150)}), tmp_path / "t.parquet")
    r = invoke("train", "--data", tmp_path / "t.parquet", "--categorical", "status", "--epochs",
               2, "--device", "cpu", "-q", "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    pq.write_table(pa.table({"status": pa.array([200, None, 500], pa.int64()),
                             "y": [None, 4.1, 5.0]}), tmp_path / "g.parquet")
    r = invoke("impute", tmp_path / "g.parquet", "-m", tmp_path / "m.safetensors", "-o",
               tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    rows = [line.split(",") for line in (tmp_path / "o.csv").read_text().splitlines()[1:]]
    assert [row[0] for row in rows[::2]] == ["200", "500"] and rows[1][0] in ("200", "404", "500")


def test_impute_spells_a_csv_code_columns_fills_as_its_known_cells(tmp_path):
    """A declared code column that a CSV writes "200.0" keeps its known cells as written,
    and its fills are spelled the same way, not "200" beside them."""
    rng = np.random.RandomState(0)
    status = rng.choice([200, 404, 500], 150)
    y = status / 100 + rng.normal(0, 0.1, 150)
    lines = ["status,y"] + [f"{s}.0,{v:.3f}" for s, v in zip(status, y)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    r = invoke("train", "--data", tmp_path / "t.csv", "--categorical", "status", "--epochs",
               2, "--device", "cpu", "-q", "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    (tmp_path / "g.csv").write_text("status,y\n200.0,\n,4.1\n500.0,5.0\n,2.0\n")
    r = invoke("impute", tmp_path / "g.csv", "-m", tmp_path / "m.safetensors", "-o",
               tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    codes = [line.split(",")[0] for line in (tmp_path / "o.csv").read_text().splitlines()[1:]]
    assert codes[0] == "200.0" and codes[2] == "500.0"
    assert {codes[1], codes[3]} <= {"200.0", "404.0", "500.0"}, codes  # (404: no known cell)


def test_a_code_spelling_is_learned_over_the_chunks_and_spells_numbers_alone():
    """What one chunk's known cells teach spells the fills of the next (a chunk may hold
    no known cell); only whole numbers take the trailing ".0", and spellings are
    stripped."""
    from aekit.preprocessing.columns import CodeSpelling

    spelling = CodeSpelling()
    spelling.learn(["200.0", " 404.0 ", None, 7.0])
    spelling.learn([])  # a chunk whose cells of the column are all gaps
    assert spelling.spell(["200", "404", "500", "--5", "+-1", "abc", "7.25"]) == \
        ["200.0", "404.0", "500.0", "--5", "+-1", "abc", "7.25"]
    assert CodeSpelling().spell(["500", "7.25"], decimal=",") == ["500", "7,25"]
    mixed = CodeSpelling()
    mixed.learn(["200", "404.0"])  # no one way: a whole number's fill as the model spells it
    assert mixed.spell(["200", "500"]) == ["200", "500"]


def test_impute_fills_a_parquet_files_nullable_columns_in_their_types(tmp_path):
    """A Parquet file whose columns pandas reads as nullable types (Int64, boolean: gaps
    as pd.NA) was refused with "unexpected error: TypeError: float() argument must be ...
    'NAType'", and a bool column's fill was the text "True", which Arrow refused."""
    rng = np.random.RandomState(0)
    n = 150
    v = rng.normal(size=n)
    train = pd.DataFrame({"v": v, "flag": v > 0, "w": np.round(3 * v).astype(int)})
    aekit.AnomalyDetector(epochs=2, random_state=0, device="cpu").fit(train).save(
        tmp_path / "m.safetensors")
    gaps = train.head(6).astype({"flag": "boolean", "w": "Int64"})
    gaps.loc[[0, 2], "flag"] = pd.NA
    gaps.loc[[1, 4], "w"] = pd.NA
    gaps.to_parquet(tmp_path / "g.parquet")
    r = invoke("detect", tmp_path / "g.parquet", "-m", tmp_path / "m.safetensors", "-q", "-o",
               tmp_path / "s.csv")
    assert r.exit_code == 0, r.output
    r = invoke("impute", tmp_path / "g.parquet", "-m", tmp_path / "m.safetensors", "-o",
               tmp_path / "o.parquet")
    assert r.exit_code == 0, r.output
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert out.flag.notna().all() and set(out.flag) <= {True, False}
    assert out.w.notna().all() and out.w.tolist()[2:4] == gaps.w.tolist()[2:4]


def test_info_quotes_names_and_categories_a_line_would_hide(tmp_path):
    """Helper-56: `aekit info` printed a category holding a line break as it was (breaking
    the line) and an empty column name as nothing (", , c")."""
    from click.testing import CliRunner

    from aekit import AnomalyDetector
    from aekit.cli import cli

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "": rng.normal(size=60),
                       "c": rng.choice(["x\ny", "z"], 60)})
    AnomalyDetector(epochs=1, random_state=0).fit(df).save(tmp_path / "m.safetensors")
    r = CliRunner().invoke(cli, ["info", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 0, r.output
    assert "input: 3 features named a, '', c;" in r.output
    assert "c (2 categories: 'x\\ny', z)" in r.output
