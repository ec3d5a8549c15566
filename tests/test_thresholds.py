"""One threshold rule (aekit.thresholds): a detector's predict and `aekit detect` flag the same
rows, whatever the contamination, with or without -c, and for `aekit train --data` models."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import aekit
from aekit.cli import cli
from aekit.thresholds import QUANTILE_PERCENTS, ScoreRule, quantiles_of, robust_threshold

CONTAMINATIONS = [0.001, 0.01, 0.0125, 0.1, 0.5, "auto"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """1,000 rows (an even number: no percentile of them falls on one row's score) of five
    columns driven by two factors, plus a few rows off that plane; written exactly."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 2)) @ rng.normal(size=(2, 5)) + 0.1 * rng.normal(size=(1000, 5))
    X[:15] += rng.normal(scale=3, size=(15, 5))
    path = tmp_path_factory.mktemp("thr") / "rows.csv"
    pd.DataFrame(X, columns=list("abcde")).to_csv(path, index=False)  # repr: exact floats
    return X, path


def detect_flags(path, model, *args):
    r = CliRunner().invoke(cli, ["detect", str(path), "-m", str(model), "-q", "--device", "cpu",
                                 *args])
    assert r.exit_code == 0, r.output
    from io import StringIO

    return pd.read_csv(StringIO(r.stdout))["is_anomaly"].to_numpy() == 1


@pytest.mark.parametrize("contamination", CONTAMINATIONS)
def test_predict_and_aekit_detect_flag_the_same_rows(table, tmp_path, contamination):
    X, path = table
    det = aekit.AnomalyDetector(contamination=contamination, hidden=(16,), epochs=3,
                                device="cpu", random_state=0).fit(X)
    flagged = det.predict(X) == -1
    assert 0 < flagged.sum() < len(X)
    model = det.save(tmp_path / "det.safetensors")
    c = str(contamination)
    assert np.array_equal(detect_flags(path, model, "-c", c), flagged)
    assert np.array_equal(detect_flags(path, model), flagged)  # the detector's own threshold
    # the threshold is the stored quantile grid's, as `aekit detect -c` reads it
    rule = ScoreRule(det.score_type_, quantiles_of(det.anomaly_score(X)))
    assert rule.threshold_for(contamination)[0] == pytest.approx(det.threshold_, rel=1e-6)


def test_a_train_data_model_flags_at_its_own_threshold_as_the_library_does(table, tmp_path):
    X, path = table
    model = tmp_path / "tx.safetensors"
    r = CliRunner().invoke(cli, ["train", "--data", str(path), "--epochs", "3", "-q",
                                 "--device", "cpu", "-o", str(model)])
    assert r.exit_code == 0, r.output
    det = aekit.load(model, device="cpu")
    assert isinstance(det, aekit.AnomalyDetector)
    flagged = det.predict(pd.DataFrame(X, columns=list("abcde"))) == -1
    assert 0 < flagged.sum() < len(X)
    assert np.array_equal(detect_flags(path, model), flagged)
    assert np.array_equal(detect_flags(path, model, "-c", "0.01"), flagged)


def test_the_rule_reads_the_grid_between_its_percentiles():
    scores = np.random.RandomState(1).lognormal(size=2000)
    q = quantiles_of(scores)
    value, how = ScoreRule("mse", q).threshold_for(0.0125)
    assert value == pytest.approx(float(np.interp(98.75, QUANTILE_PERCENTS, q)))
    assert q[987] <= value <= q[988] and how == "contamination 0.0125"
    auto, how = ScoreRule("mse", q).threshold_for("auto")
    assert auto == robust_threshold(q) and "auto" in how
    own = ScoreRule("mse", q, threshold=3.0)
    assert own.threshold_for() == (3.0, "the detector's own")
    assert own.threshold_for(threshold=5) == (5.0, "given")
    with pytest.raises(ValueError, match="threshold"):
        ScoreRule("mse").threshold_for(0.1)


def test_the_grid_of_a_large_training_set_comes_from_a_fixed_sample_of_its_rows(table,
                                                                               monkeypatch):
    import aekit.thresholds as thresholds

    X = table[0]
    assert thresholds.quantile_rows(len(X)) == slice(None)  # 1,000 rows: every one
    monkeypatch.setattr(thresholds, "QUANTILE_ROWS", 200)
    rows = thresholds.quantile_rows(len(X))
    assert len(rows) == 200 and (np.diff(rows) > 0).all()  # 200 distinct rows, in order
    np.testing.assert_array_equal(rows, thresholds.quantile_rows(len(X)))
    assert not np.array_equal(rows, thresholds.quantile_rows(len(X), seed=1))
    for method in ("pca", "autoencoder"):
        det = aekit.AnomalyDetector(method=method, epochs=2, random_state=0).fit(X)
        scores = det.anomaly_score(X)
        if method == "autoencoder":  # the rows its fit measured the network on, by its seed
            rows = thresholds.quantile_rows(len(X), det.training_summary_["seed"])
        np.testing.assert_allclose(det.score_quantiles_, quantiles_of(scores[rows]),
                                   rtol=1e-5, atol=1e-7)
        assert not np.allclose(det.score_quantiles_, quantiles_of(scores), rtol=1e-3)


def test_a_rule_without_quantiles_says_whether_the_contamination_was_the_default():
    """Helper-57: `aekit detect` with a plain autoencoder's file and no --contamination said
    it could not turn "a contamination" into a threshold, of one the user never gave."""
    rule = ScoreRule("relative", None, None)
    with pytest.raises(ValueError, match=r"to turn the default contamination \(0\.01\) into"):
        rule.threshold_for()
    with pytest.raises(ValueError, match="to turn a contamination into a threshold"):
        rule.threshold_for(0.05)
    assert rule.threshold_for(threshold=2.5) == (2.5, "given")
