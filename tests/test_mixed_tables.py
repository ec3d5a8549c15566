"""Tables as users export them: text and boolean columns (one-hot, the categories stored
in the model file), missing cells (training medians), columns to leave out."""

import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import aekit
from aekit.cli import cli
from aekit.errors import AekitWarning, DataError
from aekit.model_file import read_model_file


def transactions(n, seed=0):
    rng = np.random.RandomState(seed)
    df = pd.DataFrame({
        "amount": rng.lognormal(3, 0.5, n).round(2),
        "hour": rng.randint(0, 24, n),
        "channel": rng.choice(["web", "app", "store"], n, p=[0.5, 0.4, 0.1]),
        "card_present": rng.choice([True, False], n),
        "note": [f"free text {i}" for i in range(n)],  # left out with --ignore-column
    })
    df.loc[rng.choice(n, n // 20, replace=False), "amount"] = np.nan
    df.insert(0, "txn", [f"t{i}" for i in range(n)])
    return df


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("mixed")
    transactions(400).to_csv(d / "train.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(d / "train.csv"), "--id-column", "txn",
                                 "--ignore-column", "note", "--epochs", "5", "--device", "cpu",
                                 "-q", "-o", str(d / "m.safetensors")])
    assert r.exit_code == 0, r.output
    return d


def detected(d, test, name, explain):
    """``(result, output table)`` of `aekit detect --explain` on ``test`` with the model
    in ``d`` (written as ``name``.csv, scored into ``name``_out.csv)."""
    test.to_csv(d / f"{name}.csv", index=False)
    r = CliRunner().invoke(cli, ["detect", str(d / f"{name}.csv"), "-m", str(d / "m.safetensors"),
                                 "--id-column", "txn", "--ignore-column", "note",
                                 "--explain", str(explain), "-o", str(d / f"{name}_out.csv")])
    assert r.exit_code == 0, r.output
    return r, pd.read_csv(d / f"{name}_out.csv")


def test_text_booleans_and_gaps_train_and_detect_end_to_end(trained):
    d = trained
    doc = read_model_file(d / "m.safetensors")[0]
    encoding = doc["schema"]["encoding"]
    assert encoding["kinds"] == ["numeric", "numeric", "categorical", "categorical"]
    assert encoding["categories"][2] == ["app", "store", "web"]
    assert encoding["categories"][3] == ["False", "True"]
    assert encoding["fills"][0] == pytest.approx(
        transactions(400)["amount"].median(), rel=1e-9)  # the training median
    test = transactions(20, seed=1)
    r, out = detected(d, test, "test", 2)
    assert out["txn"].tolist() == test["txn"].tolist() and np.isfinite(out.anomaly_score).all()
    names = {"amount", "hour", "channel=app", "channel=store", "channel=web",
             "card_present=False", "card_present=True"}
    assert set(out["top1_feature"]) <= names
    gaps = int(test["amount"].isna().sum())
    assert gaps == 1 and "note: 1 missing number took its training median" in r.stderr


def test_explanations_name_text_columns_by_the_rows_own_value(trained):
    """--explain sums a text column's one-hot parts and names the row's category: a
    named value is always the row's own (not "card_present=False" on a row holding
    True), and a category the model never saw, or an empty cell, is named as such."""
    d = trained
    test = transactions(60, seed=3)
    test.loc[0, "channel"] = "phone"  # never seen in training
    test.loc[1, "channel"] = None  # empty
    _, out = detected(d, test, "own", 4)
    held = {"channel": test["channel"].fillna("(empty)").where(test.index > 0, "(unseen)"),
            "card_present": test["card_present"].astype(str)}
    named = 0
    for j in range(1, 5):  # the four columns, each named once per row
        for column, values in held.items():
            mine = out[f"top{j}_feature"].str.startswith(column + "=")
            assert (out.loc[mine, f"top{j}_feature"]
                    == column + "=" + values[mine]).all(), column
            named += int(mine.sum())
    assert named == 2 * len(test)
    assert (out[[f"top{j}_feature" for j in range(1, 5)]].nunique(axis=1) == 4).all()
    # the four columns' parts sum to the score times the encoded features (the score is
    # their mean; here 2 numeric + 3 + 2 one-hot + 2 unseen slots = 9 features)
    total = out[[f"top{j}_error" for j in range(1, 5)]].sum(axis=1)
    np.testing.assert_allclose(total / 9, out["anomaly_score"], rtol=1e-4)


def test_a_category_never_seen_in_training_is_scored_by_its_columns_unseen_slot(trained):
    """Documented: every 0/1 feature of its categories is 0 and its unseen slot 1; the row
    is scored as such, the other rows as before, and the command says how many such cells
    it met."""
    d = trained
    test = transactions(6, seed=2)
    test["channel"] = "web"
    odd = test.copy()
    odd.loc[0, "channel"] = "phone"  # never seen
    for name, frame in (("known", test), ("odd", odd)):
        frame.to_csv(d / f"{name}.csv", index=False)
    scores = {}
    for name in ("known", "odd"):
        r = CliRunner().invoke(cli, ["detect", str(d / f"{name}.csv"), "-m",
                                     str(d / "m.safetensors"), "--id-column", "txn",
                                     "--ignore-column", "note"])
        assert r.exit_code == 0, r.output
        scores[name] = pd.read_csv(io.StringIO(r.stdout))["anomaly_score"].to_numpy()
    assert np.isfinite(scores["odd"][0]) and scores["odd"][0] != scores["known"][0]
    np.testing.assert_allclose(scores["odd"][1:], scores["known"][1:], rtol=1e-6)
    assert "1 category cell was missing or held categories never seen in training" in r.stderr
    model = aekit.load(d / "m.safetensors")
    features = odd.drop(columns=["txn", "note"])
    E = model.schema_.encode(features)
    assert model.schema_.encoded_names()[2:6] == ["channel=app", "channel=store",
                                                  "channel=web", "channel=(unseen)"]
    assert E[0, 2:6].tolist() == [0, 0, 0, 1] and E[1, 2:6].tolist() == [0, 0, 1, 0]


def test_the_numpy_scorer_encodes_as_the_estimators_do(trained):
    from aekit.scorer import Scorer

    d = trained
    fast = Scorer(d / "m.safetensors", device="cpu")
    assert fast.uses_torch is False
    torch_side = aekit.load(d / "m.safetensors")  # `aekit train --data` made a detector
    assert isinstance(torch_side, aekit.AnomalyDetector)
    frame = transactions(30, seed=3).drop(columns=["txn", "note"])
    np.testing.assert_allclose(fast.anomaly_score(frame), torch_side.anomaly_score(frame),
                               rtol=1e-4)


@pytest.mark.filterwarnings("ignore:trim 0.3 left")  # its 10% 'store' rows: said elsewhere
def test_estimators_take_dataframes_with_text_and_gaps():
    df = transactions(300).drop(columns=["txn", "note"])
    det = aekit.AnomalyDetector(epochs=3, random_state=0).fit(df)
    assert det.n_features_in_ == 4 and det.networks_[0].config.n_features == 9  # (+2 slots)
    scores = det.anomaly_score(df)
    assert scores.shape == (300,) and np.isfinite(scores).all()
    ae = aekit.Autoencoder(code_size=3, hidden=(8,), epochs=3, random_state=0).fit(df)
    back = ae.reconstruct(df.head(5))
    assert list(back.columns) == list(df.columns)
    assert set(back["channel"]) <= {"app", "store", "web"}
    assert ae.transform(df[df.columns[::-1]]).shape == (300, 3)  # by name, as everywhere


def test_numbers_in_a_numeric_column_are_checked_by_line(tmp_path):
    df = transactions(100)
    df["hour"] = df["hour"].astype(object)
    df.loc[57, "hour"] = "noon"  # one text cell in a column of numbers: an error, not text
    df.to_csv(tmp_path / "t.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--id-column",
                                 "txn", "--ignore-column", "note", "--epochs", "1", "-q",
                                 "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 1 and "line 59, column 'hour' holds 'noon', not a number" in r.output


def test_an_id_column_of_text_is_not_a_feature(tmp_path):
    df = transactions(200)
    df.to_csv(tmp_path / "t.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 1
    assert "columns 'txn' (200 distinct text values), 'note' (200 distinct text values) in " \
        "200 rows hold too many distinct values to be features: carry them through " \
        "(--id-column) or leave them out (--ignore-column)" in r.output  # all, in one run
    df.drop(columns=["note"]).to_csv(tmp_path / "t.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "-o", str(tmp_path / "m.safetensors")])
    assert "column 'txn' holds 200 distinct text values in 200 rows: most likely an id" in r.output
    with pytest.raises(DataError, match="distinct text values"):
        aekit.Autoencoder(epochs=1).fit(df)


def test_a_column_of_tiny_values_is_not_taken_for_a_constant():
    """Its spread is scaled relative to its own size (capacitances in farads, ~1e-12)."""
    from aekit.preprocessing import InputSchema

    rng = np.random.RandomState(0)
    X = np.c_[rng.normal(size=200) * 1e13, rng.normal(size=200) * 1e-12, np.full(200, 5.0)]
    schema = InputSchema.fit(X)
    assert schema.scale[0] == pytest.approx(X[:, 0].std(), rel=1e-6)
    assert schema.scale[1] == pytest.approx(X[:, 1].std(), rel=1e-6)
    assert schema.scale[2] == 1.0  # a true constant
    Xs = schema.transform(X)
    assert Xs[:, 1].std() == pytest.approx(1.0, rel=1e-3)


def test_a_large_offset_with_a_small_spread_is_scaled_by_its_spread():
    """Unix times in milliseconds over five minutes (1.7e12 +- 9e4, a spread float32 cannot
    tell from the offset) are centred and scaled exactly, as is a constant column of such
    values (helper-56: the first was taken for a constant and fed to the network as values
    of about 1e5, and an anomaly detector on it scored an AUROC of 0.43)."""
    from aekit.preprocessing import InputSchema

    rng = np.random.RandomState(0)
    ms = 1_733_600_000_000 + rng.randint(0, 300_000, size=500).astype(np.float64)
    X = np.c_[ms, rng.normal(size=500), np.full(500, 1_733_600_000_073.0)]
    schema = InputSchema.fit(X)
    assert schema.scale[0] == pytest.approx(ms.std(), rel=1e-9)
    assert schema.scale[2] == 1.0  # a true constant
    Xs = schema.transform(X)
    assert Xs[:, 0].mean() == pytest.approx(0.0, abs=1e-6)
    assert Xs[:, 0].std() == pytest.approx(1.0, rel=1e-6)
    assert np.all(Xs[:, 2] == 0.0)
    again = InputSchema.from_json(schema.to_json())  # the model file keeps it exact
    np.testing.assert_array_equal(again.transform(X), Xs)


def test_a_column_without_values_is_named_in_a_warning(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,\n2,\n3,\n4,\n5,\n")
    r = CliRunner().invoke(cli, ["train", "--data", str(path), "--epochs", "1", "-q",
                                 "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 0, r.output
    assert "'b' holds no values in the training rows" in r.output
    with pytest.warns(UserWarning, match="'b' holds no values"):
        aekit.AnomalyDetector(epochs=1, device="cpu").fit(pd.read_csv(path))


def test_impute_fills_numbers_and_categories_and_passes_text_through(trained, tmp_path):
    """A table with text columns: its numeric gaps and missing categories are filled, its
    other cells (text included, ids, a column left out, a category never seen in
    training) written back as they were."""
    df = transactions(40, seed=5)
    df.loc[3, "channel"] = None
    df.loc[4, "channel"] = "kiosk"  # never seen in training: kept
    df.loc[5, "hour"] = np.nan
    gaps = int(df["amount"].isna().sum()) + 2
    df.to_csv(tmp_path / "gaps.csv", index=False)
    r = CliRunner().invoke(cli, ["impute", str(tmp_path / "gaps.csv"), "-m",
                                 str(trained / "m.safetensors"), "--id-column", "txn",
                                 "--ignore-column", "note", "-o", str(tmp_path / "f.csv"),
                                 "--device", "cpu"])
    assert r.exit_code == 0, r.output
    assert f"filled {gaps} cells" in r.stderr
    out = pd.read_csv(tmp_path / "f.csv")
    assert list(out.columns) == ["txn", "amount", "hour", "channel", "card_present", "note"]
    assert out["note"].tolist() == df["note"].tolist()  # left out of the model, written back
    assert out[["amount", "hour", "channel"]].notna().all().all()
    assert out.loc[3, "channel"] in ("web", "app", "store") and out.loc[4, "channel"] == "kiosk"
    assert float(out.loc[5, "hour"]).is_integer() and 0 <= out.loc[5, "hour"] <= 23
    known = df["amount"].notna()
    np.testing.assert_array_equal(out["amount"][known], df["amount"][known])
    assert out["txn"].tolist() == df["txn"].tolist()
    assert out["card_present"].tolist() == df["card_present"].tolist()


def test_numbers_written_with_symbols_are_named_not_read_silently(tmp_path):
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    df["price"] = [f"${v:.2f}" for v in rng.uniform(1, 50, 300)]  # many values: refused
    df.to_csv(tmp_path / "price.csv", index=False)
    out = tmp_path / "m.safetensors"
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "price.csv"), "--epochs",
                                 "1", "-q", "-o", str(out)])
    assert r.exit_code == 1 and not out.exists()
    assert "column 'price'" in r.output and "numbers written with symbols, such as '$" \
        in r.output and "write them as plain numbers" in r.output and "most likely an id" not in r.output
    df["price"] = [f"{v}%" for v in rng.randint(1, 6, 300)]  # few values: categories, said
    with pytest.warns(AekitWarning, match=r"column 'price' is read as 5 categories, "
                      r"though its cells are numbers written with symbols \(such as '\d%'\)"
                      ) as caught:
        aekit.AnomalyDetector(epochs=1, random_state=0).fit(df)
    assert [w.filename for w in caught] == [__file__]  # the user's line, not aekit's
    for words in (["low", "mid", "high"], ["555 123 4567", "555 987 6543"],  # no numbers
                  ["4111 1111 1111 1111", "5500 0000 0000 0004"], ["1,2", "2,3,4"],
                  ["05 01 2024", "06 01 2024"], ["12,5", "1.234,5"],
                  ["+34 671 871 097", "768 967 376"], ["(1)", "(2)", "(5)"]):
        df["price"] = rng.choice(words, 300)  # categories, no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error", AekitWarning)
            aekit.AnomalyDetector(epochs=1, random_state=0).fit(df)


@pytest.mark.parametrize("cell", ["$3.99", "5%", "1,234", "12'000", "(3.99)", "−5", "50 %",
                                  "3,99 €"])
def test_a_written_number_among_plain_ones_is_named_with_a_hint(cell):
    df = pd.DataFrame({"a": np.arange(10.0), "b": [str(v) for v in range(9)] + [cell]})
    with pytest.raises(DataError, match=rf"row 10, column 'b' holds {re.escape(repr(cell))}, "
                                        r"not a number \(write numbers without thousands "):
        aekit.AnomalyDetector(epochs=1).fit(df)


def test_parquet_ids_are_carried_exactly_in_their_types(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rng = np.random.RandomState(0)
    big = [None if i == 3 else 2**60 + i for i in range(200)]  # beyond float64's integers
    pq.write_table(pa.table({"id": pa.array(big, pa.int64()), "a": rng.normal(size=200),
                             "b": rng.normal(size=200)}), tmp_path / "t.parquet")
    model = tmp_path / "m.safetensors"
    for argv in (["train", "--data", tmp_path / "t.parquet", "--epochs", "1", "-o", model],
                 ["detect", tmp_path / "t.parquet", "-m", model, "-o", tmp_path / "s.parquet"],
                 ["detect", tmp_path / "t.parquet", "-m", model, "-o", tmp_path / "s.csv"]):
        r = CliRunner().invoke(cli, [str(a) for a in argv] + ["--id-column", "id", "-q"])
        assert r.exit_code == 0, r.output
    back = pq.read_table(tmp_path / "s.parquet")
    assert back.schema.field("id").type == pa.int64()
    assert back.column("id").to_pylist() == big
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:5]] == [str(v or "") for v in big[:4]]


def test_parquet_ids_of_floats_and_categories_come_back_as_they_were(tmp_path):
    pytest.importorskip("pyarrow")
    rng = np.random.RandomState(0)
    ids = [1234567.891, 0.1 + 0.2, 123456789012.5, np.nan]  # the scores' %.6g would round
    df = pd.DataFrame({"fid": ids, "site": pd.Categorical(["a", "b", "a", "b"]),
                       "a": rng.normal(size=4), "b": rng.normal(size=4)})
    df.to_parquet(tmp_path / "t.parquet")
    model = tmp_path / "m.safetensors"
    aekit.AnomalyDetector(epochs=1, random_state=0).fit(df[["a", "b"]]).save(model)
    for out in ("s.csv", "s.parquet"):
        r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.parquet"), "-m", str(model),
                                     "--id-column", "fid", "--id-column", "site", "-q", "-o",
                                     str(tmp_path / out)])
        assert r.exit_code == 0, r.output
    back = pd.read_parquet(tmp_path / "s.parquet")  # pandas reads it back (no Arrow dtypes)
    assert back["fid"].tolist()[:3] == ids[:3] and back["site"].tolist() == ["a", "b", "a", "b"]
    text = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)
    assert [float(v) for v in text["fid"][:3]] == ids[:3] and text["fid"][3] == ""  # exact


def test_a_parquet_output_refuses_a_column_whose_type_changes_in_one_line(tmp_path):
    from aekit.tables.writers import TableWriter

    with pytest.raises(DataError, match=r"^column 'id' holds text and int64 in the "
                                        r"rows written before"):
        with TableWriter(tmp_path / "out.parquet") as writer:
            writer.write(pd.DataFrame({"id": [1, 2], "anomaly_score": [0.5, 0.7]}))
            writer.write(pd.DataFrame({"id": ["x3", "x4"], "anomaly_score": [0.1, 0.2]}))
    with pytest.raises(DataError, match=r"^column 'id' holds int64 in b\.parquet and text in"):
        with TableWriter(tmp_path / "out.parquet") as writer:  # '007' must not become 7
            writer.write(pd.DataFrame({"file": ["a.parquet"], "id": ["007"]}))
            writer.write(pd.DataFrame({"file": ["b.parquet"], "id": [7]}))
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.parametrize("kind", ["list", "date", "binary"])
def test_a_parquet_feature_of_another_kind_is_refused_naming_it(tmp_path, kind):
    pa = pytest.importorskip("pyarrow")
    import datetime

    import pyarrow.parquet as pq

    n = 50
    odd = {"list": pa.array([[i, i + 1] for i in range(n)]),
           "date": pa.array([datetime.date(2024, 1, 1 + i % 28) for i in range(n)]),
           "binary": pa.array([bytes([i]) for i in range(n)])}[kind]
    rng = np.random.RandomState(0)
    pq.write_table(pa.table({"a": rng.normal(size=n), "b": rng.normal(size=n), "odd": odd}),
                   tmp_path / "t.parquet")
    out = tmp_path / "m.safetensors"
    args = ["train", "--data", str(tmp_path / "t.parquet"), "--epochs", "1", "-q", "-o", str(out)]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 1 and not out.exists()
    assert re.search(r"^Error: .*t\.parquet: column 'odd' holds \S.*, which aekit does not read "
                     r"as a feature .* \(--id-column\) or leave it out \(--ignore-column\)\n$",
                     r.output)
    assert CliRunner().invoke(cli, args + ["--ignore-column", "odd"]).exit_code == 0
    # scoring takes the roles of training (opening the file for its names reads no types),
    # and impute writes the column left out back as it was
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.parquet"), "-m", str(out),
                                 "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 0 and "--ignore-column odd" in r.stderr, r.output
    r = CliRunner().invoke(cli, ["impute", str(tmp_path / "t.parquet"), "-m", str(out),
                                 "-o", str(tmp_path / "f.parquet")])
    assert r.exit_code == 0, r.output
    assert pq.read_table(tmp_path / "f.parquet").column("odd").equals(
        pq.read_table(tmp_path / "t.parquet").column("odd"))


def test_labels_of_a_float_column_with_nan_and_normal_labels_written_otherwise():
    """A float label's NaN is no label (as an empty cell is), not an anomaly; a normal
    label given as 0 matches 0.0 (a Parquet label column of floats, or integers with gaps)."""
    from aekit.labels import AnomalyLabels

    for values, normal in (([0.0, 1.0, np.nan, 0.0], ("0",)), ([0, 1, None, 0], ("0.0",)),
                           ([0.0, 1.0, np.nan, 0.0], ())):
        labels = AnomalyLabels(normal)
        labels.add(pd.Series(values, dtype="float64" if None not in values else "Int64"))
        y, labelled = labels.result()
        assert labelled.tolist() == [True, True, False, True] and y.tolist() == [0, 1, 0]
    labels = AnomalyLabels(())
    labels.add(pd.Series([None, np.nan], dtype=object))
    assert labels.result() is None and labels.why.startswith("the label column holds no labels")
    # a missing-value word is no label either (it was an anomaly beside a normal label
    # given, and "not 0/1" without one)
    for normal in (("0",), ()):
        labels = AnomalyLabels(normal)
        labels.add(pd.Series(["0", "NA", "1", "nan", "null", "0", "N/A"], dtype=object))
        y, labelled = labels.result()
        assert labelled.tolist() == [True, False, True, False, False, True, False]
        assert y.tolist() == [0, 1, 0]


def test_labels_read_against_a_digit_models_digits_say_so_when_one_class_is_left():
    """Helper-57: a model trained on 3s, scoring 0/1 labels, said "the labels hold one
    class only" of a column holding 0 and 1: by default the normal labels are the model's
    digits, which no label was. The note names the digits and the labels seen."""
    from aekit.labels import AnomalyLabels

    labels = AnomalyLabels((), digits=[3])
    labels.add(pd.Series(["0", "1", "0", "1"], dtype=object))
    assert labels.result() is None
    assert labels.why.startswith("the labels hold one class only when read against the "
                                 "digits the model was trained on (3)")
    assert "(labels seen: 0, 1)" in labels.why and "normal_labels" in labels.why
    labels = AnomalyLabels((), digits=[3])
    labels.add(pd.Series(["3", "7", "3"], dtype=object))
    assert labels.result()[0].tolist() == [0, 1, 0]


def test_a_folder_of_parquet_files_whose_column_types_differ_is_refused(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    folder = tmp_path / "parts"
    folder.mkdir()
    rng = np.random.RandomState(0)
    for name, ids in (("a", pa.array([1, 2, 3], pa.int64())), ("b", pa.array(["007", "8", "9"]))):
        pq.write_table(pa.table({"id": ids, "x": rng.normal(size=3), "y": rng.normal(size=3)}),
                       folder / f"{name}.parquet")
    model = tmp_path / "m.safetensors"
    aekit.AnomalyDetector(epochs=1).fit(rng.normal(size=(50, 2))).save(model)
    r = CliRunner().invoke(cli, ["detect", str(folder), "-m", str(model), "--id-column", "id",
                                 "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 1 and not (tmp_path / "s.csv").exists()
    assert "column 'id' holds string in " in r.output and "b.parquet and int64 in " in r.output


def test_a_numeric_id_is_named_at_training_and_its_role_checked_when_scoring(tmp_path):
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"tx_id": np.arange(200), "a": rng.normal(size=200),
                       "b": rng.normal(size=200)})
    df.to_csv(tmp_path / "t.csv", index=False)
    model = tmp_path / "m.safetensors"
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "-o", str(model)])
    assert r.exit_code == 0 and "warning: column 'tx_id' looks like an id (whole numbers, " \
        "one per row, counting the rows) and is trained on as a feature" in r.output
    assert "give --id-column tx_id" in r.output
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", str(model),
                                 "--id-column", "tx_id", "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 1 and not (tmp_path / "s.csv").exists()
    assert "'tx_id' is a feature of the model (trained on as such), but is given here as " \
        "an id" in r.output
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "--id-column", "tx_id", "-o", str(model)])
    assert r.exit_code == 0 and "looks like an id" not in r.output


def test_an_unnamed_id_column_is_named_by_its_number_in_the_warning(tmp_path):
    """pandas' ``to_csv`` writes its index as a column of no name: the warning gives the
    column's number, which the flag takes (by name, it said ``--id-column`` and nothing)."""
    rng = np.random.RandomState(0)
    pd.DataFrame(rng.normal(size=(200, 3)), columns=list("abc")).to_csv(tmp_path / "t.csv")
    model = str(tmp_path / "m.safetensors")
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "-o", model])
    assert r.exit_code == 0 and "column '' looks like an id" in r.output, r.output
    assert "if it is an id, give --id-column 0\n" in r.output
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "--id-column", "0", "-o", model])
    assert r.exit_code == 0 and "looks like an id" not in r.output


def test_scoring_takes_the_columns_roles_of_training_unless_given(tmp_path):
    df = transactions(300)
    df["is_fraud"] = (np.arange(300) % 30 == 0).astype(int)
    df.to_csv(tmp_path / "t.csv", index=False)
    model = tmp_path / "m.safetensors"
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--id-column", "txn",
                                 "--ignore-column", "note", "--label-column", "is_fraud",
                                 "--epochs", "1", "-q", "-o", str(model)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", str(model),
                                 "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 0, r.output
    assert "note: columns as in training: --id-column txn --label-column is_fraud " \
        "--ignore-column note" in r.stderr and "AUROC" in r.stderr
    out = pd.read_csv(tmp_path / "s.csv")
    assert list(out.columns) == ["txn", "is_fraud", "anomaly_score", "is_anomaly"]
    df.drop(columns=["is_fraud"]).to_csv(tmp_path / "new.csv", index=False)  # unlabelled
    r = CliRunner().invoke(cli, ["impute", str(tmp_path / "new.csv"), "-m", str(model),
                                 "-o", str(tmp_path / "f.csv")])
    assert r.exit_code == 0 and "--id-column txn --ignore-column note" in r.stderr
    filled = pd.read_csv(tmp_path / "f.csv", keep_default_na=False)  # the whole table back
    assert list(filled.columns) == list(df.drop(columns=["is_fraud"]).columns)
    assert filled["note"].tolist() == df["note"].tolist()
    assert filled["amount"].notna().all() and df["amount"].isna().any()
    # a role given decides its own column; training's roles still apply to the others
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", str(model),
                                 "--label-column", "is_fraud", "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 0, r.output
    assert "note: columns as in training: --id-column txn --ignore-column note\n" in r.stderr
    assert list(pd.read_csv(tmp_path / "s.csv").columns)[:2] == ["txn", "is_fraud"]
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", str(model),
                                 "--ignore-column", "txn", "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 0 and "as in training: --label-column is_fraud --ignore-column " \
        "note\n" in r.stderr, r.output
    assert list(pd.read_csv(tmp_path / "s.csv").columns)[0] == "is_fraud"  # txn: left out
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", str(model),
                                 "--id-column", "amount", "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 1 and "'amount' is a feature of the model" in r.output


def test_stdin_takes_the_columns_roles_of_training_as_a_file_does(tmp_path):
    """Stdin is read once: its head is read to learn its columns, then given back (the
    roles of training were not applied to stdin, and its id and label columns were
    refused as columns the model was not trained on)."""
    df = transactions(300)
    df["is_fraud"] = (np.arange(300) % 30 == 0).astype(int)
    df.to_csv(tmp_path / "t.csv", index=False)
    text = (tmp_path / "t.csv").read_text()
    model = str(tmp_path / "m.safetensors")
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--id-column", "txn",
                                 "--ignore-column", "note", "--label-column", "is_fraud",
                                 "--epochs", "1", "-q", "-o", model])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", model, "-q"])
    from_file = r.stdout
    r = CliRunner().invoke(cli, ["detect", "-", "-m", model], input=text)
    assert r.exit_code == 0 and "note: columns as in training: --id-column txn --label-column " \
        "is_fraud --ignore-column note" in r.stderr, r.output
    assert r.stdout == from_file and r.stdout.startswith("txn,is_fraud,anomaly_score")
    assert len(r.stdout.splitlines()) == 301
    for command in (["encode", "-"], ["impute", "-", "-o", "-"]):
        r = CliRunner().invoke(cli, [*command, "-m", model], input=text)
        assert r.exit_code == 0 and "columns as in training" in r.stderr, (command, r.output)
        assert len(r.stdout.splitlines()) == 301 and r.stdout.startswith("txn,"), command


def test_roles_given_by_number_at_training_are_kept_by_name_and_a_bad_cell_is_named(tmp_path):
    """A column given by number to a file with a header is recorded by its name: a file
    whose columns come in another order finds it (recorded by number, the number picked
    a feature there and detect refused the file)."""
    df = transactions(200).drop(columns=["note"])
    df.to_csv(tmp_path / "t.csv", index=False)
    model = tmp_path / "m.safetensors"
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--id-column", "0",
                                 "--epochs", "1", "-q", "-o", str(model)])  # txn, by number
    assert r.exit_code == 0, r.output
    assert read_model_file(model)[0]["data"]["id_columns"] == ["txn"]
    df[df.columns[::-1]].to_csv(tmp_path / "reversed.csv", index=False)
    for name in ("t.csv", "reversed.csv"):
        r = CliRunner().invoke(cli, ["detect", str(tmp_path / name), "-m", str(model),
                                     "-o", str(tmp_path / "s.csv")])
        assert r.exit_code == 0 and "columns as in training: --id-column txn" in r.stderr, \
            r.output
        assert list(pd.read_csv(tmp_path / "s.csv").columns)[0] == "txn"
    df["amount"] = df["amount"].fillna(1.0).astype(object)
    df.loc[10, "amount"] = "abc"  # no gap to fill: the cell is checked all the same
    df.to_csv(tmp_path / "bad.csv", index=False)
    r = CliRunner().invoke(cli, ["impute", str(tmp_path / "bad.csv"), "-m", str(model),
                                 "-o", str(tmp_path / "f.csv")])
    assert r.exit_code == 1 and "line 12, column 'amount' holds 'abc', not a number" in r.output
    assert not (tmp_path / "f.csv").exists()


def test_a_headerless_file_whose_given_roles_move_its_features_is_refused(tmp_path):
    rng = np.random.RandomState(0)
    rows = [f"{i},{rng.normal():.4f},{rng.normal():.4f},{rng.normal():.4f}" for i in range(120)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")  # no header: column 0 is an id
    model = tmp_path / "m.safetensors"
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--id-column", "0",
                                 "--epochs", "1", "-q", "-o", str(model)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", str(model),
                                 "--id-column", "1", "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 1 and not (tmp_path / "s.csv").exists()
    assert "the model was trained on columns 1, 2, 3 (0-based), and these options make 0, 2, " \
        "3 its features" in r.output
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", str(model),
                                 "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 0 and "columns as in training: --id-column 0" in r.stderr


def test_a_parquet_output_takes_integers_of_another_width_that_fit():
    import tempfile

    from aekit.tables.writers import TableWriter

    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/out.parquet"
        with TableWriter(path) as writer:  # int64 ids, then int32 ones: nothing lost
            writer.write(pd.DataFrame({"id": np.array([1, 2**40]), "s": [0.5, 0.7]}))
            writer.write(pd.DataFrame({"id": np.array([3, 4], np.int32), "s": [0.1, 0.2]}))
        assert pd.read_parquet(path)["id"].tolist() == [1, 2**40, 3, 4]
        with pytest.raises(DataError, match=r"^column 'id' holds int64 and int32 in the rows"):
            with TableWriter(path) as writer:  # int32 first: 2**40 cannot follow
                writer.write(pd.DataFrame({"id": np.array([1, 2], np.int32), "s": [0.5, 0.7]}))
                writer.write(pd.DataFrame({"id": np.array([2**40, 4]), "s": [0.1, 0.2]}))


def test_a_file_given_twice_is_scored_once_and_said(tmp_path):
    rng = np.random.RandomState(0)
    pd.DataFrame(rng.normal(size=(60, 3)), columns=list("abc")).to_csv(tmp_path / "t.csv",
                                                                      index=False)
    model = tmp_path / "m.safetensors"
    aekit.AnomalyDetector(epochs=1).fit(pd.read_csv(tmp_path / "t.csv")).save(model)
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), str(tmp_path / "t.csv"),
                                 "-m", str(model), "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 0, r.output
    assert "is given more than once; each file is scored once" in r.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) == 60


def test_impute_keeps_a_parquet_inputs_integer_columns_integers(tmp_path):
    """A Parquet output of impute keeps the integer types of the input's feature columns
    (it wrote them as doubles): known cells as they were, fills whole numbers."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rng = np.random.RandomState(0)
    n = 200
    a = rng.normal(size=n)
    qty = [None if i % 17 == 3 else int(v) for i, v in enumerate(np.round(5 + 2 * a))]
    pq.write_table(pa.table({"a": a, "qty": pa.array(qty, pa.int32()),
                             "n": pa.array(rng.randint(0, 9, n), pa.uint8())}),
                   tmp_path / "t.parquet")
    model = tmp_path / "m.safetensors"
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.parquet"), "--epochs", "1",
                                 "-q", "-o", str(model)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["impute", str(tmp_path / "t.parquet"), "-m", str(model),
                                 "-o", str(tmp_path / "f.parquet")])
    assert r.exit_code == 0, r.output
    out, given = pq.read_table(tmp_path / "f.parquet"), pq.read_table(tmp_path / "t.parquet")
    assert out.schema.field("qty").type == pa.int32() and out.schema.field("n").type == pa.uint8()
    assert out.column("qty").null_count == 0 and given.column("qty").null_count == 12
    known = given.column("qty").is_valid()
    assert out.column("qty").filter(known).equals(given.column("qty").filter(known))
    assert out.column("n").equals(given.column("n")) and out.column("a").equals(given.column("a"))


def test_columns_of_one_name_stay_two_in_outputs_and_a_parquet_output_refuses_them(tmp_path):
    """A feature and a column left out, or two ids, of one name: impute and detect write
    both in their places to CSV (a name-keyed frame had written one over the other); a
    Parquet output, which names each column once, refuses them in one line."""
    rng = np.random.RandomState(0)
    n = 150
    rows = ["id,a,b,c,a"] + [f"r{i},{'' if i % 7 == 0 else round(rng.normal(), 4)},"
                             f"{rng.normal():.4f},{rng.normal():.4f},{'xyz'[i % 3]}"
                             for i in range(n)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.safetensors"
    roles = ["--id-column", "0", "--ignore-column", "4"]
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "-o", str(model), *roles])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["impute", str(tmp_path / "t.csv"), "-m", str(model),
                                 "-o", str(tmp_path / "f.csv"), *roles])
    assert r.exit_code == 0, r.output
    lines = (tmp_path / "f.csv").read_text().splitlines()
    assert lines[0] == "id,a,b,c,a" and len(lines) == n + 1
    assert [line.split(",")[4] for line in lines[1:]] == ["xyz"[i % 3] for i in range(n)]
    assert all(line.split(",")[1] not in ("", "x", "y", "z") for line in lines[1:])
    r = CliRunner().invoke(cli, ["impute", str(tmp_path / "t.csv"), "-m", str(model),
                                 "-o", str(tmp_path / "f.parquet"), *roles])
    assert r.exit_code == 1 and not (tmp_path / "f.parquet").exists()
    assert r.output.count("\n") == 1 and "two columns named 'a'" in r.output
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m", str(model),
                                 "-o", str(tmp_path / "s.csv"), "--id-column", "0",
                                 "--id-column", "4"])
    assert r.exit_code == 0, r.output
    scored = (tmp_path / "s.csv").read_text().splitlines()
    assert scored[0] == "id,a,anomaly_score,is_anomaly" and scored[1].startswith("r0,x,")


def test_a_csv_output_refuses_carried_lists_and_bytes_and_parquet_keeps_them(tmp_path):
    """Lists and bytes carried from a Parquet input would reach a CSV as Python's printed
    form (long lists shortened with '...', floats rounded): refused in one line."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rng = np.random.RandomState(0)
    n = 120
    given = pa.table({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "emb": [list(range(i, i + 1500)) for i in range(n)],
                      "raw": [bytes([i % 256, 0]) for i in range(n)]})
    pq.write_table(given, tmp_path / "t.parquet")
    model = tmp_path / "m.safetensors"
    roles = ["--ignore-column", "emb", "--ignore-column", "raw"]
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.parquet"), "--epochs", "1",
                                 "-q", "-o", str(model), *roles])
    assert r.exit_code == 0, r.output
    for command, extra in (("impute", []),  # the columns left out come back
                           ("detect", ["--id-column", "raw", "--ignore-column", "emb"])):
        args = [command, str(tmp_path / "t.parquet"), "-m", str(model)] + extra
        r = CliRunner().invoke(cli, args + ["-o", str(tmp_path / f"{command}.csv")])
        assert r.exit_code == 1 and not (tmp_path / f"{command}.csv").exists(), r.output
        assert "which a CSV cannot hold as it is: write a Parquet file" in r.output
    r = CliRunner().invoke(cli, ["impute", str(tmp_path / "t.parquet"), "-m", str(model),
                                 "-o", str(tmp_path / "o.parquet")])
    assert r.exit_code == 0, r.output
    assert pq.read_table(tmp_path / "o.parquet").equals(given)


def test_impute_from_stdin_refuses_a_column_given_two_roles(tmp_path):
    from aekit import AnomalyDetector

    rng = np.random.RandomState(0)
    AnomalyDetector(epochs=1, random_state=0, device="cpu").fit(rng.normal(size=(100, 2))) \
        .save(tmp_path / "m.safetensors")
    text = "a,b,note\n" + "".join(f"{rng.normal():.3f},,n{i}\n" for i in range(20))
    for role in ("--id-column", "--label-column"):
        r = CliRunner().invoke(cli, ["impute", "-", "-m", str(tmp_path / "m.safetensors"),
                                     role, "note", "--ignore-column", "note", "-o", "-"],
                               input=text)
        assert r.exit_code == 1 and r.output.startswith("Error: column 'note' of stdin is "
                                                        "named as both "), r.output


def test_two_features_of_one_name_are_refused_until_a_role_leaves_one_out(tmp_path):
    """Training refuses two feature columns of one name; once training leaves one out,
    scoring with the roles of training opens the file (it was refused at opening, the
    error asking for the role training had given)."""
    rng = np.random.RandomState(0)
    rows = ["a,b,c,a"] + [f"{rng.normal():.4f},{rng.normal():.4f},{rng.normal():.4f},n{i % 4}"
                          for i in range(120)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.safetensors"
    args = ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1", "-q", "-o", str(model)]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 1 and not model.exists()
    assert r.output == ("Error: column 'a' appears 2 times in " + str(tmp_path / "t.csv") +
                        " (columns 0, 3): rename one, or leave one out with --ignore-column 3\n")
    assert CliRunner().invoke(cli, args + ["--ignore-column", "3"]).exit_code == 0
    for command in ("detect", "encode", "impute"):
        r = CliRunner().invoke(cli, [command, str(tmp_path / "t.csv"), "-m", str(model),
                                     "-o", str(tmp_path / f"{command}.csv")])
        assert r.exit_code == 0 and "--ignore-column 3" in r.stderr, r.output


def test_the_api_refuses_date_and_time_columns_naming_them():
    """A DataFrame's datetime64 or timedelta64 column was read as nanosecond counts, a
    trend the detector then scored (the command line refuses them already)."""
    from aekit import AnomalyDetector

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    for name, col in (("t", pd.date_range("2024-01-01", periods=120, freq="h")),
                      ("lag", pd.to_timedelta(np.arange(120), unit="s"))):
        with pytest.raises(ValueError, match=f"column '{name}' holds dates or times"):
            AnomalyDetector(epochs=1, random_state=0).fit(df.assign(**{name: col}))
    det = AnomalyDetector(epochs=1, random_state=0).fit(df)
    with pytest.raises(ValueError, match="column 'b' holds dates or times"):
        det.anomaly_score(df.assign(b=pd.Timestamp("2024-01-01")))


def test_the_api_refuses_list_struct_and_bytes_columns_naming_them():
    """Helper-56: a polars frame's list and struct columns were fitted as categories
    spelled by their text ('l=[0 1]'), and scoring the same rows given as Python lists
    found every cell unseen; `aekit train` refuses such columns in a Parquet file. The
    estimators refuse them too, in polars, pyarrow-backed and plain pandas frames."""
    import polars as pl
    import pyarrow as pa

    from aekit import AnomalyDetector

    rng = np.random.RandomState(0)
    base = {"a": rng.normal(size=60), "b": rng.normal(size=60)}
    cases = [
        ("l", "lists", pl.DataFrame({**base, "l": [[i % 3, 1] for i in range(60)]})),
        ("l", "lists", pd.DataFrame({**base, "l": [[i % 3, 1] for i in range(60)]})),
        ("s", "structs or maps", pl.DataFrame({**base, "s": [{"k": i % 4} for i in range(60)]})),
        ("y", "bytes", pd.DataFrame({**base, "y": [b"x"] * 60})),
        ("l", "list<item: int64>", pd.DataFrame({**base, "l": pd.array(
            [[1, 2]] * 60, dtype=pd.ArrowDtype(pa.list_(pa.int64())))})),
    ]
    for name, held, frame in cases:
        with pytest.raises(DataError, match=f"column '{name}' holds {held}, which aekit"):
            AnomalyDetector(epochs=1, random_state=0).fit(frame)
    det = AnomalyDetector(epochs=1, random_state=0).fit(pd.DataFrame(base).assign(c="x"))
    with pytest.raises(DataError, match="column 'c' holds lists"):
        det.anomaly_score(pd.DataFrame(base).assign(c=[[1]] * 60))


@pytest.mark.filterwarnings("ignore:trim 0.3 left")
@pytest.mark.parametrize("backend", ["nullable", "pyarrow", "polars"])
def test_nullable_pyarrow_and_polars_frames_score_as_pandas_numpy_types_do(backend):
    """A frame of nullable or pyarrow-backed columns with a gap (pd.NA) crashed in numpy,
    a pyarrow text column was read as an empty numeric one, and a polars frame's text or
    reordered columns crashed: each now scores as the same rows in numpy types."""
    import polars as pl

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"amount": rng.normal(size=80), "qty": rng.randint(0, 5, 80),
                       "shop": rng.choice(["a", "b"], 80), "flag": rng.rand(80) > 0.5})
    df.loc[3, "amount"] = np.nan
    other = {"nullable": lambda d: d.convert_dtypes(),
             "pyarrow": lambda d: d.convert_dtypes(dtype_backend="pyarrow"),
             "polars": pl.from_pandas}[backend]
    if backend != "polars":
        df.loc[5, "qty"] = np.nan  # an integer column with a gap (pd.NA in the nullable types)
    plain = aekit.AnomalyDetector(epochs=2, random_state=0).fit(df)
    det = aekit.AnomalyDetector(epochs=2, random_state=0).fit(other(df))
    assert det.networks_[0].config.n_features == plain.networks_[0].config.n_features == 8
    reordered = other(df[["flag", "shop", "qty", "amount"]])
    np.testing.assert_allclose(det.anomaly_score(reordered), plain.anomaly_score(df), rtol=1e-5)


def test_a_series_and_an_array_of_dates_are_refused_in_one_line():
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    det = aekit.AnomalyDetector(method="pca", n_components=1).fit(df)
    with pytest.raises(ValueError, match=r"X is a Series; give a DataFrame"):
        det.predict(df.iloc[0])
    hours = np.datetime64("2024-01-01") + np.arange(120).reshape(60, 2) * np.timedelta64(1, "h")
    with pytest.raises(DataError, match=r"X holds dates or times \(datetime64\[h\]\)"):
        aekit.AnomalyDetector(method="pca").fit(hours)


def test_true_and_false_are_matched_however_the_file_spells_them(trained):
    """A model trained on a CSV (pandas writes True/False) read a Parquet file's or a
    polars CSV's true/false as categories never seen: every row lost the column."""
    import polars as pl

    d = trained
    test = transactions(30, seed=2)
    test.to_csv(d / "bools.csv", index=False)
    spelled = pl.read_csv(d / "bools.csv").with_columns(
        pl.col("card_present").cast(pl.String).str.to_lowercase())
    spelled.write_csv(d / "lower.csv")
    pl.read_csv(d / "bools.csv").write_parquet(d / "bools.parquet")  # a Boolean column
    scores = {}
    for name in ("bools.csv", "lower.csv", "bools.parquet"):
        r = CliRunner().invoke(cli, ["detect", str(d / name), "-m", str(d / "m.safetensors"),
                                     "--id-column", "txn", "--ignore-column", "note",
                                     "-o", str(d / f"{name}.out.csv")])
        assert r.exit_code == 0, r.output
        assert "category cell" not in r.stderr, r.stderr  # none left unplaced
        scores[name] = pd.read_csv(d / f"{name}.out.csv")["anomaly_score"].to_numpy()
    np.testing.assert_allclose(scores["lower.csv"], scores["bools.csv"], rtol=1e-6)
    np.testing.assert_allclose(scores["bools.parquet"], scores["bools.csv"], rtol=1e-6)


def test_a_text_column_of_dates_is_refused_as_a_date_typed_one_is(tmp_path):
    """ISO dates in a CSV were read as categories (next month's all unseen), where the
    same column typed as dates in Parquet is refused."""
    rng = np.random.RandomState(0)
    days = pd.date_range("2024-01-01", periods=28).strftime("%Y-%m-%d")
    df = pd.DataFrame({"day": np.repeat(days, 10), "x": rng.normal(size=280)})
    df.to_csv(tmp_path / "d.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "d.csv"), "-q",
                                 "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 1 and r.output.startswith(
        "Error: column 'day' holds dates, such as '2024-01-01', which aekit does not read as a "
        "feature"), r.output
    assert "(--id-column) or leave it out (--ignore-column)" in r.output
    assert not (tmp_path / "m.safetensors").exists()
    two = df.assign(day=np.where(df.index < 140, "2024-01-01", "2024-01-02"))  # two: kept
    assert aekit.AnomalyDetector(method="pca").fit(two).n_features_in_ == 2
    for kept in (["3.10.12", "3.11.4", "3.12.1"], ["10/20/30", "11/21/31", "12/22/32"],
                 ["red", "green", "2024-01-01", "2024-01-02", "2024-01-03"],
                 ["2024-13-45", "2024-14-01", "2024-15-02"]):  # versions, not all dates...
        other = df.assign(day=np.resize(kept, len(df)))
        assert aekit.AnomalyDetector(method="pca").fit(other).n_features_in_ == 2, kept


@pytest.mark.filterwarnings("ignore:trim 0.3 left")
def test_the_api_warns_of_rows_without_values_and_of_unseen_categories():
    """A row whose every cell was missing scored as a typical row, and a category never
    seen was encoded as none, both silently in the Python API (the CLI notes them)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    det = aekit.AnomalyDetector(epochs=2, random_state=0).fit(X)
    with pytest.warns(AekitWarning, match=r"^2 rows of X hold no value at all: read as a "
                                          r"row of the training medians"):
        det.predict(np.vstack([X[:3], np.full((2, 4), np.nan)]))
    df = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    det = aekit.AnomalyDetector(epochs=2, random_state=0).fit(df)
    with pytest.warns(AekitWarning, match=r"^1 category cell of X holds a category never seen"):
        det.anomaly_score(pd.DataFrame({"x": [0.1, 0.2, np.nan], "c": ["a", "zz", "b"]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ordinary rows, and gaps in some cells: no warning
        det.anomaly_score(df.assign(x=df["x"].where(df.index > 5)))


def test_a_true_false_column_with_gaps_trains_and_scores(tmp_path):
    """Matching true/false however spelled crashed on a gap (pandas' map gives NaN back)."""
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100),
                       "flag": pd.array(rng.rand(100) > 0.5, dtype="boolean")})
    df.loc[3, "flag"] = pd.NA
    det = aekit.AnomalyDetector(method="pca", n_components=1).fit(df)
    assert det.schema_.encoding.categories[2] == ["False", "True"]
    spelled = df.head(4).astype({"flag": object})
    spelled.loc[1, "flag"], spelled.loc[2, "flag"] = None, "true"
    expected = det.score_samples(df.head(4).assign(flag=[df.flag[0], None, True, None]))
    np.testing.assert_allclose(det.score_samples(spelled), expected)
    df.assign(flag=df.flag.map({True: "true", False: "false"}, na_action="ignore")).to_csv(
        tmp_path / "t.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "-m",
                                 str(tmp_path / "m.safetensors"), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 0 and "1 category cell was missing" in r.stderr, r.output


def test_a_value_beyond_float32_is_refused_when_scoring_a_table_with_text(tmp_path):
    """A frame or file with a text column skipped the float32 check at scoring: 1e39
    scored NaN (an inlier to predict) with numpy's overflow warnings."""
    from aekit.errors import CellError

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"x": rng.normal(size=100), "y": rng.normal(size=100),
                       "c": rng.choice(["a", "b"], 100)})
    det = aekit.AnomalyDetector(epochs=1, random_state=0).fit(df)
    big = df.head(3).copy()
    big.iloc[1, 0] = 1e39
    with pytest.raises(CellError, match=r"row 2, column 'x' holds 1e\+39, beyond float32"):
        det.score_samples(big)
    det.save(tmp_path / "m.safetensors")
    big.to_csv(tmp_path / "big.csv", index=False)
    r = CliRunner().invoke(cli, ["detect", str(tmp_path / "big.csv"), "-m",
                                 str(tmp_path / "m.safetensors"), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 1 and r.output.startswith(
        f"Error: {tmp_path / 'big.csv'}: line 3, column 'x' holds 1e+39"), r.output
    assert not (tmp_path / "o.csv").exists()
