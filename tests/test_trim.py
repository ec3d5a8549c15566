"""Trimming (``trim``): fit, leave out the training rows the first fit scores highest, fit
again; in the estimators, in `aekit train --data`, and across an interrupted run."""

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from aekit import AnomalyDetector, Autoencoder
from aekit.cli import cli
from aekit.design import auto_trim
from aekit.errors import AekitWarning
from aekit.model_file import read_model_file, write_model_file
from aekit.nn.config import ModelConfig, TrainConfig
from aekit.nn.fitting import fit_network

FAST = dict(epochs=3, random_state=0)


def _table(n=300, seed=0):
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n, 2))
    return np.hstack([z, z @ [[1.0, -2.0], [0.5, 1.0]] + 0.1 * rng.normal(size=(n, 2))])


def test_the_second_fit_leaves_out_the_highest_scores(monkeypatch):
    """Scores given as minus the row index: the rows left out are the first ones."""
    import aekit.scores

    monkeypatch.setattr(aekit.scores, "score_rows",
                        lambda engine, A, score: -np.arange(len(A), dtype=float))
    Xs = _table(100).astype(np.float32)
    config = ModelConfig(n_features=4, code_size=2, hidden=(8,), output="linear")
    seen = {}

    def watch(trainer, report):
        seen.setdefault(trainer.stage.get("fit"), trainer.stage_tensors.get("kept"))

    train = TrainConfig(optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0,
                        batch_size=16, epochs=2, patience=5, lr_patience=3,
                        lr_schedule="plateau", seed=1)
    result = fit_network(Xs, config, train,
                         validation_fraction=0.2, trim=0.25, callback=watch,
                         score_type="mse")
    assert sorted(seen) == [1, 2] and seen[1] is None
    assert np.array_equal(seen[2].numpy(), np.r_[np.zeros(25), np.ones(75)])
    assert result.summary["trim"] == {"share": 0.25, "left_out": 25, "first_fit_epochs": 2}
    assert result.summary["n_train"] + result.summary["n_validation"] == 75
    assert len(result.history["train_loss"]) == result.summary["epochs"]


def test_the_first_fit_ranks_float64_rows_in_float32_as_it_trained(monkeypatch):
    """The ranking runs the network in float32 whatever the rows' dtype (a float64 copy
    of the network took twice as long): what it scores float64 rows from is what it gives
    the same rows in float32, exactly."""
    import aekit.scores

    ranked = {}
    score_rows = aekit.scores.score_rows

    def spy(engine, A, score):
        ranked.update(dtype=A.dtype, output=engine.output(A),
                      float32=engine.output(A.astype(np.float32)))
        return score_rows(engine, A, score)

    monkeypatch.setattr(aekit.scores, "score_rows", spy)
    config = ModelConfig(n_features=4, code_size=2, hidden=(8,), output="linear")
    train = TrainConfig(optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0,
                        batch_size=16, epochs=2, patience=5, lr_patience=3,
                        lr_schedule="plateau", seed=1)
    fit_network(_table(100), config, train, validation_fraction=0.2, trim=0.25,
                score_type="mse")
    assert ranked["dtype"] == np.float64 and ranked["output"].dtype == np.float32
    np.testing.assert_array_equal(ranked["output"], ranked["float32"])


def test_a_detector_on_a_table_trims_by_default_and_not_on_images():
    X = _table()
    det = AnomalyDetector(**FAST).fit(X)
    assert det.objective_ == "masked" and det.trim == "auto"
    s = det.training_summary_
    assert s["trim"]["left_out"] == 90 and s["n_train"] + s["n_validation"] == 210
    # the threshold still flags the contamination share of all training rows
    assert np.mean(det.predict(X) == -1) == pytest.approx(0.01, abs=0.004)
    once = AnomalyDetector(**FAST, trim=0).fit(X).training_summary_
    assert "trim" not in once and once["n_train"] + once["n_validation"] == 300
    pixels = np.random.RandomState(0).rand(60, 256)
    assert "trim" not in AnomalyDetector(**FAST).fit(pixels).training_summary_
    assert (auto_trim("auto", "masked"), auto_trim("auto", "reconstruction")) == (0.3, 0.0)
    assert "trim" not in Autoencoder(hidden=(8,), code_size=2, **FAST).fit(X).training_summary_


def test_trimming_learns_normal_rows_not_the_anomalies_among_them():
    """A training table with 10% of rows off its relation: after trimming they score
    higher against the normal rows than a single fit scores them (the point of it)."""
    rng = np.random.RandomState(1)
    X = _table(600, seed=1)
    bad = rng.rand(600) < 0.1
    X[bad, 2:] = rng.normal(scale=3, size=(bad.sum(), 2))
    gap = {}
    for trim in (0, 0.1):
        s = AnomalyDetector(epochs=20, random_state=0, trim=trim).fit(X).anomaly_score(X)
        gap[trim] = np.median(s[bad]) - np.median(s[~bad])
    assert gap[0.1] > gap[0]


def test_too_few_rows_to_leave_one_out_fit_once_and_say_so(tmp_path):
    X = _table(3)  # 0.3 x 3 rows: none left out
    with pytest.warns(AekitWarning, match="3 rows are too few to leave any out"):
        s = AnomalyDetector(**FAST).fit(X).training_summary_
    assert s["trim"] == {"share": 0.3, "left_out": 0}
    assert s["n_train"] + s["n_validation"] == 3
    path = tmp_path / "small.csv"
    pd.DataFrame(X, columns=list("abcd")).to_csv(path, index=False)
    r = _train("--data", path, *ARGS, "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    assert "warning: trim 0.3: 3 rows are too few" in r.output and "then" not in r.output


def test_a_trim_the_values_stop_says_why_it_fitted_once():
    """Every row holds a category of its own (a declared id-like column): a trim within
    values can leave out none of them, and the warning says so, not that the rows are
    too few."""
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"x": rng.normal(size=120), "y": rng.normal(size=120),
                       "ticket": np.arange(120)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = AnomalyDetector(**FAST, categorical=["ticket"]).fit(df).training_summary_
    said = [str(w.message) for w in caught if str(w.message).startswith("trim")]
    assert said == ["trim 0.3: every row holds a value few rows share (a category, a flag), "
                    "and no value loses more than 30% of its rows to the trim: none was left "
                    "out"]
    assert s["trim"] == {"share": 0.3, "left_out": 0}
    assert s["epochs"] == 3  # the model is a full fit, not the first one (2 epochs)


@pytest.mark.parametrize("bad", [0.5, -0.1, "most", float("nan")])
def test_trim_outside_its_range_is_refused(bad):
    with pytest.raises(ValueError, match=r'trim must be "auto" or be in \[0, 0.5\)'):
        AnomalyDetector(trim=bad).fit(_table(20))


# -- aekit train --data -----------------------------------------------------------------
ARGS = ["--hidden", "16", "--code-size", "16", "--batch-size", "32", "--epochs", "4",
        "--seed", "2", "-q"]


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("trim") / "t.csv"
    pd.DataFrame(_table(200), columns=list("abcd")).to_csv(path, index=False)
    return path


def _train(*args):
    return CliRunner().invoke(cli, ["train", *map(str, args)])


def test_train_on_a_table_trims_as_the_detector_does(csv, tmp_path):
    r = _train("--data", csv, *ARGS, "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    assert "--hidden 16 --code-size 16" not in r.output and "--trim 0.3" in r.output
    assert "then 4 epochs without the 60 rows the first fit scored highest" in r.output
    # 180 training rows: an epoch of 1,024+ rows draws each 6 times, the refit's too
    assert "highest, each row drawn 6 times an epoch" in r.output
    info = CliRunner().invoke(cli, ["info", str(tmp_path / "m.safetensors")]).output
    # in the order the fits ran, as the saved line says
    # (the first fit, which only ranks the rows, trains half the epochs)
    assert "trim=auto (0.3)" in info and ("training: 2 epochs, then 4 epochs without the 60 "
                                          "rows the first fit scored highest, each row drawn "
                                          "6 times an epoch, best validation loss") in info
    doc = read_model_file(tmp_path / "m.safetensors")[0]
    assert doc["params"]["trim"] == "auto" and doc["summary"]["trim"] == {
        "share": 0.3, "left_out": 60, "first_fit_epochs": 2}
    r = _train("--data", csv, *ARGS, "--trim", "0", "-o", tmp_path / "once.safetensors")
    assert r.exit_code == 0, r.output
    assert "trim" not in read_model_file(tmp_path / "once.safetensors")[0]["summary"]
    r = _train("--data", csv, *ARGS, "--trim", "0.5", "-o", tmp_path / "x.safetensors")
    assert r.exit_code == 2 and "--trim" in r.output


def _interrupt_in_second_fit(monkeypatch, fit=2, at=2):
    from aekit.nn import training

    original = training.Trainer._train_one_epoch

    def stop(self, X, epoch):
        if self.stage.get("fit") == fit and epoch == at:
            raise KeyboardInterrupt
        return original(self, X, epoch)

    monkeypatch.setattr(training.Trainer, "_train_one_epoch", stop)
    return lambda: monkeypatch.setattr(training.Trainer, "_train_one_epoch", original)


@pytest.mark.parametrize("fit", [1, 2])
def test_an_interrupted_fit_resumes_to_the_uninterrupted_model(csv, tmp_path, monkeypatch,
                                                               fit):
    full = tmp_path / "full.safetensors"
    assert _train("--data", csv, *ARGS, "-o", full).exit_code == 0
    at = {1: 1, 2: 2}[fit]  # (the first fit trains 2 of the 4 epochs)
    restore = _interrupt_in_second_fit(monkeypatch, fit, at)
    part = tmp_path / "part.safetensors"
    r = _train("--data", csv, *ARGS, "-o", part)
    restore()
    ckpt = tmp_path / "part.ckpt.safetensors"
    assert r.exit_code == 130 and ckpt.exists() and not part.exists()
    which = {1: "first", 2: "second"}[fit]
    assert read_model_file(ckpt)[0]["training_state"]["stage"]["fit"] == fit
    info = CliRunner().invoke(cli, ["info", str(ckpt)]).output
    assert f"resumable after epoch {at} of the {which} fit" in info
    assert "trim=auto," in info  # (not "auto (0.0)": its partial summary has no trim yet)
    # the epochs so far, in the order they ran
    assert ("training: 1 epoch, each row drawn 6 times an epoch" if fit == 1 else
            "training: 2 epochs, then 2 epochs without the 60 rows the first fit scored "
            "highest, each row drawn 6 times an epoch") in info
    # the time before the interruption counts: a checkpoint written 1,000 s into its job
    doc, tensors = read_model_file(ckpt)
    assert 0 < doc["training_state"]["seconds"] < 1000
    doc["training_state"]["seconds"] = 1000.0
    write_model_file(ckpt, doc, tensors)
    r = CliRunner().invoke(cli, ["train", "--resume", str(ckpt), "-q", "-o", str(part)])
    assert r.exit_code == 0, r.output
    assert f"after epoch {at} of the {which} fit." in r.output
    a, b = (read_model_file(p) for p in (full, part))
    assert 1000 <= b[0]["summary"]["seconds"] < 1000 + 60
    assert a[0]["summary"]["trim"] == b[0]["summary"]["trim"]
    for k, v in a[1].items():
        if k.startswith("net."):
            assert np.array_equal(v, b[1][k]), k


def test_resuming_a_second_fit_on_other_rows_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "t.csv"
    pd.DataFrame(_table(200), columns=list("abcd")).to_csv(data, index=False)
    restore = _interrupt_in_second_fit(monkeypatch)
    r = _train("--data", data, *ARGS, "-o", tmp_path / "m.safetensors")
    restore()
    assert r.exit_code == 130
    pd.DataFrame(_table(150), columns=list("abcd")).to_csv(data, index=False)
    r = CliRunner().invoke(cli, ["train", "--resume", str(tmp_path / "m.ckpt.safetensors"),
                                 "-q", "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "150 rows" in r.output and "200" in r.output
    assert not (tmp_path / "m.safetensors").exists()


def test_the_share_left_out_is_floored_exactly():
    """0.29 * 100 is 28.999999999999996 in floating point: still 29 rows."""
    s = AnomalyDetector(**FAST, trim=0.29).fit(_table(100)).training_summary_
    assert s["trim"]["left_out"] == 29


def test_a_second_fit_with_fewer_than_two_rows_to_train_on_is_not_run():
    X = _table(3)
    with pytest.warns(UserWarning, match="too few"):
        det = AnomalyDetector(**FAST, trim=0.4, validation_fraction=0.4,
                              batch_norm=True).fit(X)
    assert det.training_summary_["trim"]["left_out"] == 0


def _second_fit_checkpoint(tmp_path, monkeypatch, data):
    restore = _interrupt_in_second_fit(monkeypatch)
    r = _train("--data", data, *ARGS, "-o", tmp_path / "m.safetensors")
    restore()
    assert r.exit_code == 130
    return tmp_path / "m.ckpt.safetensors"


def test_the_library_refuses_to_resume_on_other_rows_or_another_trim(csv, tmp_path,
                                                                     monkeypatch):
    from aekit.checkpoint import read_checkpoint

    ckpt = read_checkpoint(_second_fit_checkpoint(tmp_path, monkeypatch, csv))
    assert ckpt.estimator == "AnomalyDetector"  # `aekit train --data` fits a detector
    X = pd.read_csv(csv)
    with pytest.raises(ValueError, match="keeps rows of 200, the data has 150"):
        AnomalyDetector(**ckpt.params).fit(X[:150], resume=ckpt.resume)
    with pytest.raises(ValueError, match="resume it with its own trim"):
        AnomalyDetector(**{**ckpt.params, "trim": 0}).fit(X, resume=ckpt.resume)
    assert AnomalyDetector(**ckpt.params).fit(X, resume=ckpt.resume).training_summary_[
        "trim"]["left_out"] == 60


@pytest.mark.parametrize("damage", ["all kept", "none kept", "not 0/1", "left_out",
                                    "no mask", "fit 3"])
def test_a_damaged_second_fit_checkpoint_is_refused_in_one_line(csv, tmp_path, monkeypatch,
                                                                damage):
    path = _second_fit_checkpoint(tmp_path, monkeypatch, csv)
    doc, tensors = read_model_file(path)
    mask, stage = tensors["train.stage.kept"], doc["training_state"]["stage"]
    if damage == "all kept":
        mask[:] = 1
    elif damage == "none kept":
        mask[:] = 0
    elif damage == "not 0/1":
        mask[0] = 2
    elif damage == "left_out":
        stage["left_out"] = 3
    elif damage == "no mask":
        del tensors["train.stage.kept"]
    else:
        stage["fit"] = 3
    write_model_file(path, doc, tensors)
    r = CliRunner().invoke(cli, ["train", "--resume", str(path), "-q", "-o",
                                 str(tmp_path / "m.safetensors")])
    assert r.exit_code == 1 and "damaged training checkpoint" in r.output, r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "m.safetensors").exists()


def _resume_edited(tmp_path, monkeypatch, csv, edit):
    """`aekit train --resume`'s result on a second fit's checkpoint whose training_state
    ``edit`` changed (it returns nothing)."""
    path = _second_fit_checkpoint(tmp_path, monkeypatch, csv)
    doc, tensors = read_model_file(path)
    edit(doc["training_state"])
    write_model_file(path, doc, tensors)
    return CliRunner().invoke(cli, ["train", "--resume", str(path), "-q", "-o",
                                    str(tmp_path / "m.safetensors")])


def _refused_in_one_line(r, words, tmp_path):
    lines = r.output.strip().splitlines()  # a damaged file is refused before "Resuming"
    assert r.exit_code == 1 and words in lines[-1] and len(lines) <= 2, r.output
    assert "Traceback" not in r.output and "last good checkpoint" not in r.output
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("repeats, words", [(None, "cannot be resumed; train afresh"),
                                            (1, "cannot be resumed; train afresh"),
                                            ("x", "damaged training checkpoint")])
def test_a_checkpoint_whose_epochs_drew_the_rows_otherwise_is_refused_in_one_line(
        csv, tmp_path, monkeypatch, repeats, words):
    """200 rows: this version's epochs draw each of the 180 training rows 6 times. A
    checkpoint without the count (written before aekit counted it: once) or with another
    count planned other epochs; resuming it would end a run early, silently."""
    def edit(state):
        assert state["epoch_repeats"] == 6
        if repeats is None:
            del state["epoch_repeats"]
        else:
            state["epoch_repeats"] = repeats

    _refused_in_one_line(_resume_edited(tmp_path, monkeypatch, csv, edit), words, tmp_path)


@pytest.mark.parametrize("seconds", [-1.0, "x", True, None, float("nan"), 1e300, 10**400])
def test_a_checkpoint_with_odd_seconds_is_refused_as_damaged(csv, tmp_path, monkeypatch,
                                                            seconds):
    """The seconds its job ran before it was written (added to the resumed job's time);
    every model file's reader checks them (image denoisers' checkpoints too)."""
    r = _resume_edited(tmp_path, monkeypatch, csv,
                       lambda state: state.update(seconds=seconds))
    _refused_in_one_line(r, "field 'training_state.seconds': not a number of seconds",
                         tmp_path)


@pytest.mark.parametrize("value", [[1], 3, "x", None, {"left_out": "a"}, {"left_out": [1]}])
def test_info_survives_a_model_file_with_an_odd_trim_summary(tmp_path, value):
    """Found by the fuzz test: `aekit info` read summary.trim as a dict."""

    path = tmp_path / "d.safetensors"
    AnomalyDetector(**FAST).fit(_table(60)).save(path)
    doc, tensors = read_model_file(path)
    doc["summary"]["trim"] = value
    write_model_file(path, doc, tensors)
    r = CliRunner().invoke(cli, ["info", str(path)])
    assert r.exit_code == 0 and "training: 3 epochs" in r.output, r.output
    assert "second fit" not in r.output


def test_the_epochs_are_said_in_the_order_the_fits_ran():
    from aekit.loading import epochs_in_words

    assert epochs_in_words({"epochs": 1, "epoch_repeats": 1}) == "1 epoch"
    assert epochs_in_words({"epochs": 4, "epoch_repeats": 6, "stopped_early": True,
                            "trim": {"left_out": 1, "first_fit_epochs": 5}}) == (
        "5 epochs, then 4 epochs without the 1 row the first fit scored highest, each row "
        "drawn 6 times an epoch, stopped early")
    # a damaged summary: the first fit's epochs unknown, the repeats not a count
    assert epochs_in_words({"epochs": 2, "epoch_repeats": True, "trim": {"left_out": 3}}) == (
        "a first fit, then 2 epochs without the 3 rows the first fit scored highest")


def test_a_category_left_out_whole_by_trim_is_named():
    """A real segment (10% of customers on one plan, spending ten times more) looks as odd
    to the first fit as anomalies do; a reconstruction model's trim leaves it out whole,
    and the model then takes every such customer for an anomaly: said, with the way
    out. A masked model's trim leaves out at most 30% of each category's rows."""
    rng = np.random.RandomState(0)
    n = 400
    plan = np.where(np.arange(n) % 10 == 0, "enterprise", "basic")
    df = pd.DataFrame({"plan": plan, "seats": np.where(plan == "basic", 1, 50) +
                       rng.randint(0, 3, n), "spend": np.where(plan == "basic", 30, 500) *
                       rng.uniform(0.9, 1.1, n)})
    # a reconstruction model's trim ranks rows alone (a masked model's keeps 70% of
    # each category's rows: tests/test_two_valued.py)
    with pytest.warns(AekitWarning, match=r"^trim 0\.3 left \d+ of the 40 rows with "
                                          r"plan=enterprise out of the second fit .* if they "
                                          r"are normal, give trim=0$"):
        AnomalyDetector(epochs=3, trim=0.3, objective="reconstruction",
                        random_state=0).fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AekitWarning)
        AnomalyDetector(epochs=3, trim=0.0, objective="reconstruction",
                        random_state=0).fit(df)  # no trim: nothing to say
        AnomalyDetector(epochs=3, trim=0.3, random_state=0).fit(df)  # within each value
