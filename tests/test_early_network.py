"""A masked network's early network: the same network after its first fit's first epoch,
held beside it, and a row's score the larger of the two robust z-scores, the early one
halved (aekit.nn.masking.early_map and with_early, aekit.nn.fitting)."""

import numpy as np
import pytest
import torch

from click.testing import CliRunner

import aekit
from aekit import AnomalyDetector
from aekit.cli import cli
from aekit.design import EARLY_EPOCHS, EARLY_MASKS, EARLY_WEIGHT
from aekit.model_file import read_model_file, write_model_file
from aekit.nn.masking import early_map, early_map_is_valid, with_early
from aekit.scorer import Scorer

FAST = dict(epochs=4, random_state=0, device="cpu")


def table(n, seed=0):
    """Five columns: c2 = c0 + c1 (plus noise), the rest independent."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5))
    X[:, 2] = X[:, 0] + X[:, 1] + 0.1 * rng.normal(size=n)
    return X


@pytest.fixture(scope="module")
def detector():
    return AnomalyDetector(**FAST).fit(table(400))


def own_and_early(det, X):
    """The late network's own scores and its early network's, of rows X."""
    net = det.networks_[0]
    with torch.no_grad():
        Z = torch.from_numpy(det.schema_.transform(X, np.float32))
        return (net.own_surprise(Z).numpy().mean(axis=1).astype(np.float64),
                net.early.surprise(Z).numpy().mean(axis=1).astype(np.float64))


def test_the_early_network_is_the_first_fit_after_its_first_epoch(detector):
    net = detector.networks_[0]
    assert net.config.early_masks == EARLY_MASKS > 0
    assert net.early.config.score_masks == EARLY_MASKS and net.early.config.early_masks == 0
    one_epoch = AnomalyDetector(**{**FAST, "epochs": EARLY_EPOCHS, "trim": 0}).fit(table(400))
    alone = one_epoch.networks_[0].state_dict()
    held = net.early.state_dict()
    assert set(held) == set(alone)
    for k, v in alone.items():
        if k != "mask_spread":  # (measured under its own masks: 16 there, 8 here)
            assert torch.equal(held[k], v), k
    late = net.state_dict()
    assert not torch.equal(late["encoder.0.weight"], held["encoder.0.weight"])


def test_a_row_scores_the_larger_of_the_late_score_and_the_mapped_early_one(detector):
    X = np.vstack([table(60, seed=1), table(20, seed=2) * [1, 1, -1, 1, 1]])
    own, early = own_and_early(detector, X)
    a, b = detector.networks_[0].early_map.numpy().astype(np.float64)
    expected = np.maximum(own, a * early + b)
    score = detector.anomaly_score(X)
    np.testing.assert_allclose(score, expected, rtol=1e-5)
    assert (a * early + b > own * (1 + 1e-4)).any() and (own > a * early + b).any()
    np.testing.assert_allclose(detector.explain(X).mean(axis=1), score, rtol=1e-5)


def test_the_map_puts_the_early_z_scores_halved_on_the_late_scale(detector):
    X = table(400)  # the training rows (all of them: fewer than the spreads' sample)
    own, early = own_and_early(detector, X)
    a, b = detector.networks_[0].early_map.numpy().astype(np.float64)
    mapped = a * early + b
    assert np.median(mapped) == pytest.approx(np.median(own), rel=1e-4)
    mad = (lambda s: np.median(np.abs(s - np.median(s))))
    assert mad(mapped) / mad(own) == pytest.approx(EARLY_WEIGHT, rel=1e-3)


def test_early_map_from_robust_z_scores_and_none_when_a_score_never_varies():
    late, early = np.array([1.0, 2.0, 3.0, 4.0, 10.0]), np.array([5.0, 7.0, 9.0, 11.0, 0.0])
    a, b = early_map(late, early, 0.5)
    # late: median 3, MAD 1; early: median 7, MAD 2 -> a = 0.5 * 1 / 2, b = 3 - a * 7
    assert a == pytest.approx(0.25) and b == pytest.approx(3 - 0.25 * 7)
    assert early_map(late, np.full(5, 2.0), 0.5) is None
    assert early_map(np.full(5, 2.0), early, 0.5) is None
    assert early_map_is_valid([0.25, -1.0]) and not early_map_is_valid([0.0, 1.0])
    assert not early_map_is_valid([np.nan, 1.0]) and not early_map_is_valid([1.0])


def test_with_early_takes_the_early_parts_where_their_mapped_mean_is_larger():
    late = np.array([[1.0, 1.0], [4.0, 4.0]], dtype=np.float32)
    early = np.array([[3.0, 1.0], [3.0, 1.0]], dtype=np.float32)
    out = with_early(late.copy(), early, np.array([2.0, 0.0], np.float32))  # mapped: 6, 2
    np.testing.assert_array_equal(out, [[6.0, 2.0], [4.0, 4.0]])
    t = with_early(torch.from_numpy(late.copy()), torch.from_numpy(early),
                   torch.tensor([2.0, 0.0]))
    np.testing.assert_array_equal(t.numpy(), out)


def test_the_numpy_engine_and_a_saved_file_score_as_the_estimator(detector, tmp_path):
    path = detector.save(tmp_path / "m.safetensors")
    doc, tensors = read_model_file(path)
    assert doc["networks"][0]["early_masks"] == EARLY_MASKS and "net.0.early_map" in tensors
    X = np.vstack([table(50, seed=3), table(10, seed=4) * [1, 1, -1, 1, 1]])
    expected = detector.anomaly_score(X)
    scorer = Scorer(path, device="cpu")
    assert not scorer.uses_torch  # the numpy engine, as `aekit detect` runs it
    np.testing.assert_allclose(scorer.anomaly_score(X), expected, rtol=1e-4)
    np.testing.assert_allclose(scorer.explain(X).mean(axis=1), expected, rtol=1e-4)
    np.testing.assert_allclose(aekit.load(path, device="cpu").anomaly_score(X), expected,
                               rtol=1e-6)
    info = CliRunner().invoke(cli, ["info", str(path)]).output
    assert f"beside its early network, scored under {EARLY_MASKS} masks" in info


@pytest.mark.parametrize("value", [[-0.5, 1.0], [np.nan, 0.0], [0.0, 0.0]])
def test_a_file_with_a_bad_early_map_is_refused(detector, tmp_path, value):
    doc, tensors = read_model_file(detector.save(tmp_path / "m.safetensors"))
    bad = tmp_path / "bad.safetensors"
    write_model_file(bad, doc, {**tensors, "net.0.early_map": np.array(value, np.float32)})
    with pytest.raises(ValueError, match="early map|NaN"):
        aekit.load(bad, device="cpu")
    with pytest.raises(ValueError, match="early map|NaN"):
        Scorer(bad, device="cpu")  # the numpy engine refuses it too, and torch words it


def test_a_file_without_an_early_network_scores_by_its_own_network(detector, tmp_path):
    doc, tensors = read_model_file(detector.save(tmp_path / "m.safetensors"))
    old = tmp_path / "old.safetensors"  # as written before the early network
    entry = {k: v for k, v in doc["networks"][0].items() if k != "early_masks"}
    write_model_file(old, {**doc, "networks": [entry]},
                     {k: v for k, v in tensors.items() if not k.startswith("net.0.early")})
    X = table(30, seed=5)
    own, _ = own_and_early(detector, X)
    for engine in (Scorer(old, device="cpu"), aekit.load(old, device="cpu")):
        np.testing.assert_allclose(engine.anomaly_score(X), own, rtol=1e-4)


@pytest.mark.parametrize("params", [{"epochs": EARLY_EPOCHS},
                                    {"objective": "reconstruction"},
                                    {"score_type": "mse"}])  # (a masked network's errors)
def test_no_early_network_without_epochs_after_it_or_without_a_masked_network(params):
    det = AnomalyDetector(**{**FAST, **params}).fit(table(200))
    net = det.networks_[0]
    assert net.config.early_masks == 0 and not hasattr(net, "early")


def test_the_early_parts_are_scaled_not_shifted_so_a_part_at_zero_stays_at_zero():
    """An additive offset per part gave an unseen slot (held at 0) the offset, and a
    categorical column's k one-hot slots k offsets when explain sums them."""
    late = np.array([[1.0, 1.0, 1.0, 1.0]], dtype=np.float32)
    early = np.array([[4.0, 0.0, 0.0, 0.0]], dtype=np.float32)  # mean 1 -> mapped 1 * 2 + 2
    out = with_early(late.copy(), early, np.array([2.0, 2.0], np.float32))
    np.testing.assert_allclose(out, [[16.0, 0.0, 0.0, 0.0]])
    assert out.mean() == pytest.approx(4.0)
    none = with_early(late.copy(), np.zeros((1, 4), np.float32), np.array([1.0, 3.0], np.float32))
    np.testing.assert_allclose(none, [[3.0, 3.0, 3.0, 3.0]])  # nothing to scale: the offset
    t = with_early(torch.from_numpy(late.copy()), torch.from_numpy(early), torch.tensor([2.0, 2.0]))
    np.testing.assert_allclose(t.numpy(), out)


def test_early_map_is_none_for_scores_that_are_not_finite_and_a_map_is_checked_in_float32():
    late = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    assert early_map(late, np.array([1.0, np.nan, 3.0, 2.0, 5.0]), 0.5) is None
    assert early_map(np.r_[late[:4], np.nan], late, 0.5) is None
    assert not early_map_is_valid(np.array([1e300, 0.0]))  # inf in float32, as it is used
    assert not early_map_is_valid(np.array([0.5, -1e300]))


@pytest.mark.parametrize("bad", ["nan", "int"])
def test_a_checkpoint_with_a_damaged_early_snapshot_is_refused(tmp_path, interrupt_training,
                                                              bad):
    import pandas as pd

    data = tmp_path / "t.csv"
    pd.DataFrame(table(200), columns=list("abcde")).to_csv(data, index=False)
    restore = interrupt_training(2)
    args = ["--hidden", "16", "--code-size", "16", "--epochs", "3", "--trim", "0", "-q"]
    r = CliRunner().invoke(cli, ["train", "--data", str(data), *args,
                                 "-o", str(tmp_path / "m.safetensors")])
    restore()
    ckpt = tmp_path / "m.ckpt.safetensors"
    assert r.exit_code == 130 and ckpt.exists()
    doc, tensors = read_model_file(ckpt)
    name = "train.stage.early.encoder.0.weight"
    tensors[name] = (np.full_like(tensors[name], np.nan) if bad == "nan"
                     else tensors[name].astype(np.int64))
    write_model_file(ckpt, doc, tensors)
    r = CliRunner().invoke(cli, ["train", "--resume", str(ckpt), "-q",
                                 "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert "damaged training checkpoint" in r.output and name in r.output
    assert len(r.output.strip().splitlines()) == 1
