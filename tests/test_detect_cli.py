"""`aekit detect`: output rows, thresholds, explain, pixels, reports and malformed CSVs."""

import io

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from aekit import AnomalyDetector
from aekit.cli import cli

FEATURES = ["amount", "hour", "items", "distance", "age", "score"]


def make_table(rng, n, n_anomalies=0):
    """Rows on a 2-d subspace of 6 features; anomalies break the correlations."""
    basis = np.random.RandomState(7).normal(size=(2, 6))
    X = rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 6))
    y = np.zeros(n, dtype=int)
    if n_anomalies:
        X[:n_anomalies] = rng.normal(scale=2.0, size=(n_anomalies, 6))
        y[:n_anomalies] = 1
    return X, y


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A training table, a model trained on it by `aekit train --data`, a table to score."""
    d = tmp_path_factory.mktemp("detect")
    rng = np.random.RandomState(0)
    X, _ = make_table(rng, 500)
    pd.DataFrame(X, columns=FEATURES).to_csv(d / "train.csv", index=False)
    Xs, y = make_table(rng, 60, n_anomalies=6)
    score = pd.DataFrame(Xs, columns=FEATURES)
    score.insert(0, "txn", [f"t{i:03d}" for i in range(len(Xs))])
    score["label"] = y
    score.to_csv(d / "score.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(d / "train.csv"), "--hidden", "16",
                                 "--code-size", "2", "--epochs", "25", "--batch-size", "32",
                                 "--device", "cpu", "-q", "-o", str(d / "model.safetensors")])
    assert r.exit_code == 0, r.output
    return d


def detect(*args):
    return CliRunner().invoke(cli, ["detect", *map(str, args)])


def read_csv_output(text):
    return pd.read_csv(io.StringIO(text))


def test_scores_every_row_in_order_and_flags_the_anomalies(files):
    r = detect(files / "score.csv", "--model", files / "model.safetensors", "--label-column",
               "label", "--id-column", "txn", "--contamination", "0.05", "-o", files / "out.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(files / "out.csv")
    assert list(out.columns) == ["txn", "label", "anomaly_score", "is_anomaly"]
    assert list(out["txn"]) == [f"t{i:03d}" for i in range(60)]
    assert (out["anomaly_score"] >= 0).all()
    assert out.loc[out.label == 1, "is_anomaly"].mean() >= 0.8
    assert out.loc[out.label == 0, "is_anomaly"].mean() <= 0.15
    assert "scored 60 rows" in r.stderr and "threshold" in r.stderr
    assert f"flagged {int(out.is_anomaly.sum())} " in r.stderr


def test_stdout_by_default_and_threshold_option(files):
    r = detect(files / "score.csv", "--model", files / "model.safetensors", "--label-column",
               "label", "--id-column", "txn", "--threshold", "0.5", "-q")
    assert r.exit_code == 0, r.output
    out = read_csv_output(r.stdout)
    assert len(out) == 60
    np.testing.assert_array_equal(out["is_anomaly"], (out["anomaly_score"] > 0.5).astype(int))


def test_contamination_threshold_comes_from_training_errors(files):
    scores = {}
    for c in ("0.01", "0.2"):
        r = detect(files / "train.csv", "--model", files / "model.safetensors",
                   "--contamination", c)
        assert r.exit_code == 0, r.output
        scores[c] = read_csv_output(r.stdout)
    # on the training rows themselves, C is the share flagged
    assert scores["0.01"]["is_anomaly"].mean() <= 0.02
    assert abs(scores["0.2"]["is_anomaly"].mean() - 0.2) <= 0.02


def test_explain_names_the_worst_features(files):
    r = detect(files / "score.csv", "--model", files / "model.safetensors", "--label-column",
               "label", "--id-column", "txn", "--explain", "2", "-q")
    assert r.exit_code == 0, r.output
    out = read_csv_output(r.stdout)
    assert {"top1_feature", "top1_error", "top2_feature", "top2_error"} <= set(out.columns)
    assert set(out["top1_feature"]) <= set(FEATURES)
    assert (out["top1_error"] >= out["top2_error"]).all()
    assert (out["top1_error"] <= len(FEATURES) * out["anomaly_score"] * (1 + 1e-4)).all()


def test_columns_matched_by_name_when_the_model_knows_them(files, tmp_path):
    train = pd.read_csv(files / "train.csv")
    det = AnomalyDetector(method="pca", n_components=2).fit(train)  # a DataFrame: names kept
    det.save(tmp_path / "named.safetensors")
    df = pd.read_csv(files / "score.csv")
    df[["label", "txn"] + FEATURES[::-1]].to_csv(tmp_path / "shuffled.csv", index=False)
    args = ["--model", tmp_path / "named.safetensors", "--label-column", "label", "--id-column",
            "txn", "-q"]
    a = read_csv_output(detect(files / "score.csv", *args).stdout)
    b = read_csv_output(detect(tmp_path / "shuffled.csv", *args).stdout)
    np.testing.assert_allclose(a["anomaly_score"], b["anomaly_score"], rtol=1e-5)
    np.testing.assert_allclose(a["anomaly_score"], det.anomaly_score(df[FEATURES]), rtol=1e-5)


def test_saved_detector_brings_its_own_threshold(files, tmp_path):
    X = pd.read_csv(files / "train.csv").to_numpy()
    det = AnomalyDetector(method="pca", n_components=2, contamination=0.1).fit(X)
    det.save(tmp_path / "det.safetensors")
    rows = pd.read_csv(files / "score.csv")
    rows[FEATURES].to_csv(tmp_path / "plain.csv", index=False, header=False)
    r = detect(tmp_path / "plain.csv", "--model", tmp_path / "det.safetensors")
    assert r.exit_code == 0, r.output
    out = read_csv_output(r.stdout)
    Xs = rows[FEATURES].to_numpy()
    np.testing.assert_allclose(out["anomaly_score"], det.anomaly_score(Xs), rtol=1e-4)
    np.testing.assert_array_equal(out["is_anomaly"], (det.predict(Xs) == -1).astype(int))
    assert "the detector's own" in r.stderr
    r = detect(tmp_path / "plain.csv", "--model", tmp_path / "det.safetensors",
               "--contamination", "0.3", "-q")
    assert read_csv_output(r.stdout)["is_anomaly"].sum() > out["is_anomaly"].sum()


def test_pixel_rows_in_0_255_are_scaled_for_mnist_models(mnist_small, tmp_path):
    X, y, Xt, yt = mnist_small
    det = AnomalyDetector(hidden=(16,), code_size=4, epochs=2, device="cpu",
                          random_state=0).fit(X[y == 1][:300])
    det.save(tmp_path / "ones.safetensors")
    pix = np.round(Xt[:40] * 255).astype(int)
    pd.DataFrame(pix).to_csv(tmp_path / "pixels.csv", index=False, header=False)
    r = detect(tmp_path / "pixels.csv", "--model", tmp_path / "ones.safetensors", "--explain", 1)
    assert r.exit_code == 0, r.output
    out = read_csv_output(r.stdout)
    np.testing.assert_allclose(out["anomaly_score"], det.anomaly_score(pix / 255.0), rtol=1e-3)
    assert out["top1_feature"].str.match(r"pixel_r\d+_c\d+").all()
    assert "scaled to [0, 1]" in r.stderr


def test_unix_times_score_in_detect_as_in_the_library_in_float64(tmp_path):
    """A column of Unix times in seconds (about 1.49e9, spread over 600 s) among ordinary
    columns: `aekit detect` reads the file in float64 and scales before float32, so every
    row's score agrees with the library's on the same rows in float64 within 1% of the
    scores' standard deviation (issue 22: float32 cells, spaced 128 s apart there, once
    moved scores by up to 6.5%)."""
    rng = np.random.RandomState(3)
    n = 400
    t = 1.49e9 + rng.uniform(0, 600, size=n)
    a = rng.normal(size=n)
    X = pd.DataFrame({"time": t, "load": (t - 1.49e9) / 100 + 0.1 * a, "a": a,
                      "b": rng.normal(size=n)})
    det = AnomalyDetector(objective="reconstruction", hidden=(8,), code_size=2, epochs=3,
                          device="cpu", random_state=0).fit(X)
    det.save(tmp_path / "times.safetensors")
    # written as Python writes float64 (repr of a float, not of an np.float64): exact
    lines = [",".join(map(repr, row)) for row in X.to_numpy().tolist()]
    (tmp_path / "times.csv").write_text("\n".join([",".join(X.columns)] + lines) + "\n")
    r = detect(tmp_path / "times.csv", "--model", tmp_path / "times.safetensors", "--device",
               "cpu", "-q", "-o", tmp_path / "out.csv")
    assert r.exit_code == 0, r.output
    got = pd.read_csv(tmp_path / "out.csv")["anomaly_score"].to_numpy()
    want = det.anomaly_score(X)  # float64 rows, as the library is given them
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 0.01 * want.std(), np.abs(got - want).max() / want.std()
    # the control: the same rows in float32 do move the scores by more than that
    rounded = det.anomaly_score(X.to_numpy().astype(np.float32))
    assert np.abs(rounded - want).max() > 0.01 * want.std()


def test_report_writes_histogram_and_roc(files, tmp_path):
    r = detect(files / "score.csv", "--model", files / "model.safetensors", "--label-column",
               "label", "--id-column", "txn", "--report", tmp_path / "rep", "-o",
               tmp_path / "o.csv")
    assert r.exit_code == 0, r.output
    for name in ("score_histogram.png", "roc.png"):
        assert (tmp_path / "rep" / name).read_bytes()[:4] == b"\x89PNG"
    assert "AUROC" in r.stderr


def bad(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("name,text,message", [
    ("empty.csv", "", "empty"),
    ("header_only.csv", ",".join(FEATURES) + "\n", "no data rows"),
    ("narrow.csv", "1,2,3\n4,5,6\n", "expects 6"),
    ("words.csv", ",".join(FEATURES) + "\n1,2,3,4,5,6\n1,2,x,4,5,6\n",
     "line 3, column 'items' holds 'x', not a number"),
    ("ragged.csv", ",".join(FEATURES) + "\n1,2,3,4,5,6\n1,2,3,4,5,6,7\n",
     "line 3 has 7 fields but the header has 6"),
])
def test_malformed_csv_one_line_error_and_no_output(files, tmp_path, name, text, message):
    src = bad(tmp_path, name, text)
    out = tmp_path / "out.csv"
    r = detect(src, "--model", files / "model.safetensors", "-o", out)
    assert r.exit_code != 0
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file left


def test_usage_errors(files, tmp_path, monkeypatch):
    import aekit.pretrained

    monkeypatch.setattr(aekit.pretrained, "FOLDER", tmp_path)  # no bundled models installed
    r = detect(files / "score.csv")
    assert r.exit_code == 1 and "mnist-detector" in r.stderr and "--model" in r.stderr
    r = detect(files / "score.csv", "--model", files / "model.safetensors", "--threshold", "1",
               "--contamination", "0.1")
    assert r.exit_code == 2 and "not both" in r.stderr
    r = detect(files / "score.csv", "--model", files / "model.safetensors", "-o",
               files / "score.csv")
    assert r.exit_code != 0 and "input" in r.stderr
    r = detect(files / "score.csv", "--model", files / "train.csv")
    assert r.exit_code == 1 and "not an aekit model" in r.stderr


def test_chunked_scoring_matches_one_pass(files, tmp_path, monkeypatch):
    """Rows stream through in chunks (for files larger than memory): same output, one header."""
    import aekit.table_detection as detection

    rng = np.random.RandomState(3)
    X, _ = make_table(rng, 700, n_anomalies=10)
    pd.DataFrame(X, columns=FEATURES).to_csv(tmp_path / "big.csv", index=False)
    args = [tmp_path / "big.csv", "--model", files / "model.safetensors", "--explain", 1, "-q"]
    whole = detect(*args).stdout
    monkeypatch.setattr(detection, "CELLS_PER_CHUNK", 1)  # the smallest chunk: 256 rows
    chunked = detect(*args).stdout
    # The same rows, flags and explanations; the scores agree to float32 precision (BLAS
    # kernels may sum a batch of 256 rows in another order than one of 700).
    out, one = read_csv_output(chunked), read_csv_output(whole)
    assert len(out) == 700 and chunked.count("anomaly_score") == 1
    assert list(out.columns) == list(one.columns)
    for c in out.columns:
        if pd.api.types.is_numeric_dtype(one[c]) and c != "is_anomaly":
            np.testing.assert_allclose(out[c], one[c], rtol=1e-4, atol=1e-6)
        else:
            assert (out[c] == one[c]).mean() >= 0.99, c


def test_the_auroc_line_needs_no_report(files):
    r = detect(files / "score.csv", "--model", files / "model.safetensors", "--label-column",
               "label", "--id-column", "txn", "-o", files / "noreport.csv")
    assert r.exit_code == 0, r.output
    assert "AUROC of anomaly_score against the labels:" in r.stderr
    assert "(6 anomalies, 54 normal rows)" in r.stderr


def test_a_code_as_wide_as_the_table_is_warned_about(files, tmp_path):
    """`--code-size` no smaller than the table's width: the network can copy its input."""
    r = CliRunner().invoke(cli, ["train", "--data", str(files / "train.csv"), "--code-size", "6",
                                 "--hidden", "8", "--objective", "reconstruction", "--epochs",
                                 "1", "--device", "cpu", "-q",
                                 "-o", str(tmp_path / "wide.safetensors")])
    assert r.exit_code == 0, r.output
    assert "warning: --code-size 6 is not smaller than the 6 input features" in r.stderr
    import warnings

    import aekit

    X = np.random.RandomState(0).rand(50, 4)
    with pytest.warns(UserWarning, match="code_size 4 is not smaller than the 4 input"):
        aekit.Autoencoder(code_size=4, hidden=(8,), epochs=1, noise=None).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a denoising code may be wide: it cannot copy
        aekit.Autoencoder(code_size=4, hidden=(8,), epochs=1, noise="masking:0.3").fit(X)


@pytest.mark.parametrize("model", [None, "mnist-detector"])
def test_a_table_without_model_names_the_bundled_one_it_met(tmp_path, model):
    """A user's table and no -m: the bundled digit model cannot read it; the one line says
    which model that was and what to give, only when -m was not given."""
    path = tmp_path / "mine.csv"
    pd.DataFrame(np.random.RandomState(0).normal(size=(20, 3)), columns=list("abc")).to_csv(
        path, index=False)
    out = tmp_path / "scores.csv"
    args = ["detect", str(path), "-o", str(out)] + (["-m", model] if model else [])
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 1 and "Traceback" not in r.output and not out.exists()
    assert len(r.output.strip().splitlines()) == 1, r.output
    assert "has 3 feature columns but the model expects 784" in r.output
    assert ("with no --model, the bundled mnist-detector" in r.output) == (model is None)
    assert ("aekit train --data" in r.output) == (model is None)
