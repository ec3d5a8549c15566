"""Masked networks (objective="masked"): each feature predicted from the others, a row
scored by how surprising its features are (aekit.nn.masking, aekit.design)."""

import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import aekit
from aekit import AnomalyDetector, Autoencoder
from aekit.cli import cli
from aekit.design import WIDE_ROWS, auto_objective
from aekit.scorer import Scorer
from aekit.model_file import read_model_file
from aekit.nn.config import ModelConfig
from aekit.nn.masking import (
    MASK_RATES,
    MEAN_DEVIATION_SHARE,
    mask_spreads,
    mask_weights,
    scoring_masks,
)
from aekit.nn.network import AutoencoderNet
from aekit.nn.numpy_network import NumpyNetwork


def linked(n, seed=0):
    """Six columns: f1 = 2 f0 (plus a little noise), the rest independent."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6))
    X[:, 1] = 2 * X[:, 0] + 0.05 * rng.normal(size=n)
    return X


@pytest.fixture(scope="module")
def detector():
    return AnomalyDetector(epochs=15, random_state=0, device="cpu").fit(linked(2000))


def test_the_scoring_masks_are_fixed_and_cover_every_feature():
    a, b = scoring_masks(7, 16), scoring_masks(7, 16)
    np.testing.assert_array_equal(a, b)  # the same on every call, in every process
    assert a.shape == (16, 7) and a.any(axis=0).all() and a.any(axis=1).all()
    shares = scoring_masks(400, 16).mean(axis=1)  # hidden shares spread over MASK_RATES
    assert shares[0] == pytest.approx(MASK_RATES[0], abs=0.01)
    assert shares[-1] == pytest.approx(MASK_RATES[1], abs=0.01)
    one = scoring_masks(1, 16)
    assert one.all()  # a single feature is hidden by every mask: none may hide nothing


@pytest.mark.parametrize("n_features", [2, 3, 8, 21, 100])
def test_the_scoring_masks_come_in_complementary_pairs_that_cover_every_feature(n_features):
    masks = scoring_masks(n_features, 16)
    np.testing.assert_array_equal(masks[:8], ~masks[::-1][:8])  # k-th and (-1-k)-th
    assert (masks.sum(axis=0) == 8).all()  # each feature: once in each pair
    assert masks[:8].any(axis=0).all()  # ... and by some mask that shows most others


def test_model_files_without_a_mask_design_score_with_the_random_masks_they_were_fitted_with(
        detector, tmp_path):
    from aekit.model_file import check_network_config

    config = dict(read_model_file(_saved(detector, tmp_path))[0]["networks"][0])
    assert check_network_config(config).score_design == "pairs"
    del config["score_design"]
    old = check_network_config(config)
    assert old.score_design == "random"  # tests/test_compat.py: such files score as they did
    with pytest.raises(ValueError, match="design"):
        scoring_masks(5, 16, "sideways")


def test_auto_picks_reconstruction_for_wide_rows_in_0_1_only():
    assert auto_objective("auto", "unit", WIDE_ROWS) == "reconstruction"  # images
    assert auto_objective("auto", "unit", WIDE_ROWS - 1) == "masked"
    assert auto_objective("auto", "standard", 5000) == "masked"
    assert auto_objective("masked", "unit", 784) == "masked"  # what is asked for
    X = np.random.RandomState(0).rand(300, 5)  # [0, 1], narrow: masked, standardised
    det = AnomalyDetector(epochs=1, device="cpu").fit(X)
    assert (det.objective_, det.schema_.scaling, det.score_type_) == ("masked", "standard",
                                                                      "nll")


def test_a_broken_relation_between_columns_is_what_scores(detector):
    X = linked(200, seed=1)
    broken = X.copy()
    broken[:, 1] = -broken[:, 1]  # each value ordinary on its own; together impossible
    typical = detector.anomaly_score(X)
    odd = detector.anomaly_score(broken[np.abs(X[:, 0]) > 1])
    assert np.median(odd) > np.percentile(typical, 99)
    parts = detector.explain(broken[np.abs(X[:, 0]) > 1])
    assert set(np.argsort(-parts.mean(axis=0))[:2]) == {0, 1}  # the linked columns
    np.testing.assert_allclose(parts.mean(axis=1), odd, rtol=1e-6)
    assert (typical >= 0).all()  # surprise: 0 at best


def test_the_surprise_is_zero_for_a_certain_exact_prediction():
    for output in ("laplace", "gaussian"):
        c = ModelConfig(n_features=2, code_size=4, hidden=(4,), output=output,
                        objective="masked", components=3)
        net = AutoencoderNet(c)
        target = torch.tensor([[0.5, -1.0]])
        out = torch.zeros(1, 3, 3, 2)
        out[:, 0, 0] = 200.0  # all weight on the first component
        out[:, 1] = target.unsqueeze(1)  # located at the target
        out[:, 2] = -50.0  # softplus -> 0: the scale floor
        s = net.surprise_of(out.reshape(1, -1), target)
        assert torch.allclose(s, torch.zeros_like(s), atol=1e-5)
        out[:, 1, 0] += 1.0  # 10 scales away: |z| = 10 nats, or z^2 / 2 = 50
        s = net.surprise_of(out.reshape(1, -1), target)
        expected = 10.0 if output == "laplace" else 50.0
        assert torch.allclose(s, torch.full_like(s, expected), rtol=1e-4)


def test_the_mixture_cdf_is_the_integral_of_the_density_the_surprise_gives():
    """mixture_cdf rises from 0 to 1, and its slope is the mixture's density, which is
    exp(-surprise) less the sharpest density's constant (Laplace: 1 / (2 floor); Gaussian:
    1 / (floor sqrt(2 pi)))."""
    for output, sharpest in (("laplace", 1 / (2 * 0.1)),
                             ("gaussian", 1 / (0.1 * np.sqrt(2 * np.pi)))):
        c = ModelConfig(n_features=1, code_size=4, hidden=(4,), output=output,
                        objective="masked", components=3)
        net = AutoencoderNet(c).double()
        out = torch.tensor([[0.3, -1.0, 0.5], [-1.0, 0.5, 2.0], [0.0, -0.5, 1.0]],
                           dtype=torch.float64).reshape(1, 3, 3, 1).expand(1201, 3, 3, 1)
        t = torch.linspace(-60, 60, 1201, dtype=torch.float64)[:, None]
        F = net.mixture_cdf(out, t)[:, 0]
        assert F[0] < 1e-6 and F[-1] > 1 - 1e-6 and bool((F[1:] >= F[:-1]).all())
        h = 1e-5
        slope = (net.mixture_cdf(out, t + h) - net.mixture_cdf(out, t - h))[:, 0] / (2 * h)
        density = torch.exp(-net.surprise_of(out, t))[:, 0] * sharpest
        np.testing.assert_allclose(slope.numpy(), density.numpy(), rtol=1e-4, atol=1e-8)


def test_training_is_on_the_hidden_features_only():
    c = ModelConfig(n_features=3, code_size=4, hidden=(4,), output="laplace",
                    objective="masked", components=1)
    net = AutoencoderNet(c)
    torch.set_grad_enabled(False)
    x = torch.randn(5, 3)
    hidden = torch.zeros(5, 3, dtype=torch.bool)
    assert float(net.loss(net(x, hidden), x, "sum", hidden)) == 0.0
    hidden[:, 1] = True
    per_row = net.surprise_of(net(x, hidden), x)[:, 1]
    assert torch.allclose(net.loss(net(x, hidden), x, "sum", hidden), per_row.sum())
    torch.set_grad_enabled(True)


def test_numpy_scores_as_torch_does_and_the_file_round_trips(detector, tmp_path):
    X = linked(300, seed=2)
    detector.save(tmp_path / "m.safetensors")
    doc, tensors = read_model_file(tmp_path / "m.safetensors")
    assert doc["networks"][0]["objective"] == "masked"
    fast = Scorer(tmp_path / "m.safetensors", device="cpu")
    assert not fast.uses_torch
    np.testing.assert_allclose(fast.anomaly_score(X), detector.anomaly_score(X), rtol=1e-5)
    np.testing.assert_allclose(fast.explain(X), detector.explain(X), rtol=1e-4, atol=1e-6)
    again = aekit.load(tmp_path / "m.safetensors", device="cpu")
    np.testing.assert_allclose(again.anomaly_score(X), detector.anomaly_score(X), rtol=1e-6)
    assert again.objective_ == "masked"


def test_mask_weights_average_each_feature_or_weigh_each_mask_by_its_spread():
    masks = np.array([[1, 0, 0], [0, 1, 1]], dtype=bool)  # mask 0 hides f0, mask 1 f1, f2
    np.testing.assert_allclose(mask_weights(masks), masks.astype(float))  # each hidden once
    W = mask_weights(masks, np.array([2.0, 0.5]))
    # parts' mean = mean over masks of (mask's mean surprise / its spread)
    S = np.array([[4.0, 1.0, 3.0]])  # mask 0's mean surprise 4, mask 1's 2
    assert ((S * W).sum(axis=0).mean()) == pytest.approx((4 / 2.0 + 2 / 0.5) / 2)
    Q = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])  # mask 1 never varies
    spread = mask_spreads(Q)
    assert spread[0] == pytest.approx(1.0) and spread[1] == pytest.approx(0.1 * 0.5)


def test_a_mask_whose_median_deviation_collapses_takes_a_share_of_its_mean_deviation():
    # mask 0: 9 rows in 10 share one surprise (a common category), so its MAD is 0;
    # mask 1: spread evenly, so its MAD stands
    common = np.r_[np.zeros(90), np.full(10, 4.0)]
    even = np.linspace(0.0, 2.0, 100)
    spread = mask_spreads(np.c_[common, even])
    assert spread[0] == pytest.approx(MEAN_DEVIATION_SHARE * 0.4)  # mean |dev| = 10 * 4 / 100
    assert spread[1] == pytest.approx(np.median(np.abs(even - np.median(even))), rel=1e-6)


def test_each_mask_counts_over_its_spread_on_the_training_rows(detector):
    net = detector.networks_[0]
    assert net.config.mask_spread
    with torch.no_grad():
        train = torch.from_numpy(detector.schema_.transform(linked(2000), np.float32))
        np.testing.assert_allclose(net.mask_spread.numpy(),
                                   mask_spreads(net.mask_surprise(train).numpy()), rtol=1e-5)
        X = linked(50, seed=3)
        Xs = torch.from_numpy(detector.schema_.transform(X, np.float32))
        Q = net.mask_surprise(Xs)
        own = net.own_surprise(Xs).numpy().mean(axis=1)  # (the early network's: its tests)
    expected = (Q.numpy() / net.mask_spread.numpy()).mean(axis=1)
    np.testing.assert_allclose(own, expected, rtol=1e-5)
    score = detector.anomaly_score(X)
    assert (score >= expected * (1 - 1e-5)).all()  # the early network's score may be larger
    np.testing.assert_allclose(detector.explain(X).mean(axis=1), score, rtol=1e-5)


@pytest.mark.parametrize("n_rows,trim", [(200, 0), (3, 0.3)])  # one fit; none left out
def test_the_spreads_are_measured_on_every_path_of_a_fit(n_rows, trim):
    X = linked(n_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 3 rows: too few to leave one out
        det = AnomalyDetector(epochs=2, trim=trim, random_state=0, device="cpu").fit(X)
    net = det.networks_[0]
    with torch.no_grad():
        Q = net.mask_surprise(torch.from_numpy(det.schema_.transform(X, np.float32))).numpy()
    # (the fit measures them in numpy, to float32 rounding: over 3 rows a spread is the
    # difference of near values, 1e-6 apart for a rounding of 1e-7)
    np.testing.assert_allclose(net.mask_spread.numpy(), mask_spreads(Q), rtol=1e-4)
    assert not np.allclose(net.mask_spread.numpy(), 1.0)


def test_files_without_spreads_average_each_feature_and_bad_spreads_are_refused(
        detector, tmp_path):
    from aekit.model_file import write_model_file

    doc, tensors = read_model_file(_saved(detector, tmp_path))
    X = linked(50, seed=3)
    old = tmp_path / "old.safetensors"  # as written before the spreads (and two_valued)
    doc_old = {**doc, "networks": [{k: v for k, v in doc["networks"][0].items()
                                    if k not in ("mask_spread", "two_valued", "early_masks")}]}
    write_model_file(old, doc_old, {k: v for k, v in tensors.items()
                                    if k not in ("net.0.mask_spread", "net.0.two_values")
                                    and not k.startswith("net.0.early")})
    net = detector.networks_[0]
    with torch.no_grad():
        Z = torch.from_numpy(detector.schema_.transform(X, np.float32))
        Q = net.mask_surprise(Z).numpy()
    masks = scoring_masks(6, 16)
    hidden = masks.sum(axis=1)
    unweighed = (Q * hidden).sum(axis=1) / hidden.sum()  # every hidden feature alike
    for engine in (Scorer(old, device="cpu"), aekit.load(old, device="cpu")):
        np.testing.assert_allclose(engine.anomaly_score(X), unweighed, rtol=1e-5)
    new_info, old_info = (CliRunner().invoke(cli, ["info", str(path)]).output
                          for path in (tmp_path / "m.safetensors", old))
    assert "scored under 16 masks, each over its spread on the training rows, two-valued " \
        "features by their side" in new_info
    assert "scored under 16 masks)" in old_info and "over its spread" not in old_info
    np.savetxt(tmp_path / "rows.csv", X, delimiter=",")
    for value in (0.0, -1.0, 1e-40, np.float64(1e-50), np.nan):
        bad = tmp_path / "bad.safetensors"
        write_model_file(bad, doc, {**tensors, "net.0.mask_spread": np.full(
            16, value, dtype=np.float64 if isinstance(value, np.float64) else np.float32)})
        with pytest.raises(ValueError, match="spreads must be at least|NaN"):
            aekit.load(bad, device="cpu")
        with pytest.raises(ValueError, match="spreads must be at least|NaN"):
            Scorer(bad, device="cpu")
        r = CliRunner().invoke(cli, ["detect", str(tmp_path / "rows.csv"), "--model", str(bad),
                                     "-o", str(tmp_path / "out.csv")])
        assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1, r.output
        assert "Traceback" not in r.output and not (tmp_path / "out.csv").exists()


def test_a_gaussian_mixture_scores_alike_in_numpy_and_torch():
    c = ModelConfig(n_features=5, code_size=8, hidden=(8,), output="gaussian",
                    objective="masked", components=2, batch_norm=True)
    torch.manual_seed(0)
    net = AutoencoderNet(c).eval()
    fast = NumpyNetwork(c, {k: v.numpy() for k, v in net.state_dict().items()})
    X = np.random.RandomState(0).normal(size=(5000, 5)).astype(np.float32) * 3
    with torch.no_grad():
        S = net.surprise(torch.from_numpy(X)).numpy()
        R = net.reconstruct(torch.from_numpy(X)).numpy()
        Z = net.encode(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(fast.surprise(X), S, rtol=1e-5)
    np.testing.assert_allclose(fast.reconstruct(X), R, atol=1e-5)
    np.testing.assert_allclose(fast.encode(X), Z, atol=1e-5)


@pytest.mark.parametrize("hidden,code,batch_norm,spread", [
    ((), 4, False, False), ((8,), 8, True, True), ((8,), 2, False, True),
    ((16, 8), 8, True, False), ((6,), 12, False, True)])
def test_the_numpy_scoring_layers_score_as_torch_does(hidden, code, batch_norm, spread):
    """The numpy engine scores with each mask folded into the first layer and, where it
    is less work, the code's two linear maps composed into one: the same surprise."""
    c = ModelConfig(n_features=7, code_size=code, hidden=hidden, output="laplace",
                    objective="masked", components=3, batch_norm=batch_norm,
                    mask_spread=spread)
    torch.manual_seed(1)
    net = AutoencoderNet(c)
    with torch.no_grad():
        for m in net.modules():  # biases and batch norm away from their initial values
            if isinstance(m, (torch.nn.Linear, torch.nn.BatchNorm1d)):
                m.bias.uniform_(-0.7, 0.7)
            if isinstance(m, torch.nn.BatchNorm1d):
                m.weight.uniform_(0.5, 1.5)
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    if spread:
        net.mask_spread.uniform_(0.2, 3)
    net.eval()
    fast = NumpyNetwork(c, {k: v.numpy() for k, v in net.state_dict().items()})
    # composed when the product (last hidden width squared) has fewer weights than the
    # two maps (2 x last hidden width x code); without hidden layers the decoder's first
    # map is its last, outside what is composed
    composed = bool(hidden) and hidden[-1] < 2 * code
    assert len(fast.body) == len(hidden) * 2 - composed
    assert sum(isinstance(layer, tuple) for layer in net.scoring_stack()) == composed
    X = np.random.RandomState(0).normal(size=(500, 7)).astype(np.float32)
    X[0, 0] = 1e8  # one far-out value: the other features' surprise keeps its precision
    with torch.no_grad():
        S = net.surprise(torch.from_numpy(X)).numpy()
        R = net.reconstruct(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(fast.surprise(X), S, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(fast.surprise(X).mean(axis=1), S.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(fast.reconstruct(X[1:]), R[1:], rtol=1e-4, atol=1e-4)


def test_the_autoencoder_trains_masked_and_gives_codes(tmp_path):
    X = linked(400)
    ae = Autoencoder(objective="masked", noise=None, code_size=8, hidden=(16,), epochs=2,
                     device="cpu", random_state=0).fit(X, score_quantiles=True)
    assert ae.score_type_ == "nll" and ae.transform(X).shape == (400, 8)
    assert ae.reconstruct(X).shape == X.shape
    det = AnomalyDetector.from_autoencoder(ae)
    assert det.objective_ == "masked" and np.isfinite(det.anomaly_score(X)).all()


@pytest.mark.parametrize("params,words", [
    ({"objective": "masked"}, "noise=None"),  # the Autoencoder's default noise
    ({"objective": "masked", "noise": None, "arch": "conv"}, "dense"),
    ({"objective": "sideways"}, "objective must be one of"),
])
def test_what_a_masked_network_cannot_be_is_refused(params, words):
    with pytest.raises(ValueError, match=words):
        Autoencoder(epochs=1, device="cpu", **params).fit(np.random.rand(64, 16))


def test_nll_needs_a_masked_network():
    with pytest.raises(ValueError, match="masked"):
        AnomalyDetector(objective="reconstruction", score_type="nll", epochs=1,
                        device="cpu").fit(linked(100))


@pytest.mark.parametrize("field,value", [("components", 0), ("components", "3"),
                                         ("score_masks", 10**6), ("scale_floor", -1.0),
                                         ("objective", "sideways"), ("output", "laplace"),
                                         ("score_design", "sideways"), ("score_design", 3)])
def test_a_model_file_with_bad_masked_settings_is_refused(detector, tmp_path, field, value):
    from aekit.model_file import check_network_config

    config = dict(read_model_file(_saved(detector, tmp_path))[0]["networks"][0])
    config[field] = value
    if field == "output":
        config["objective"] = "reconstruction"  # a mixture without the masks
    with pytest.raises(ValueError):
        check_network_config(config)


def _saved(det, tmp_path):
    path = tmp_path / "m.safetensors"
    det.save(path)
    return path


def test_missing_cells_are_predicted_from_the_known_ones(detector):
    """One pass, hiding exactly the missing cells: f1 = 2 f0 is filled from f0 (and f0
    from f1), far closer than iterating the predictions over the scoring masks."""
    from aekit.imputation import impute, iterative_fill

    X = linked(300, seed=1)
    holes = X.copy()
    holes[::2, 1] = np.nan  # f1 missing on even rows, f0 on odd ones
    holes[1::2, 0] = np.nan
    filled = impute(detector, holes)
    missing = np.isnan(holes)
    np.testing.assert_array_equal(filled[~missing], X[~missing])  # known cells untouched
    error = np.sqrt(np.mean((filled[missing] - X[missing]) ** 2))
    assert error < 0.3  # the columns' spread is 1 and 2: a median fill errs by about 1.6
    iterated, _ = iterative_fill(detector.reconstruct, holes.copy(), missing,
                                 detector.schema_.center.astype(np.float64))
    assert error < 0.5 * np.sqrt(np.mean((iterated[missing] - X[missing]) ** 2))


def test_a_hidden_cell_is_never_read():
    torch.manual_seed(0)
    net = AutoencoderNet(ModelConfig(n_features=4, hidden=(16,), code_size=16,
                                     objective="masked", output="laplace", components=3))
    x = torch.randn(5, 4)
    hidden = torch.zeros(5, 4, dtype=torch.bool)
    hidden[:, 2] = True
    y = x.clone()
    y[:, 2] = float("nan")
    with torch.no_grad():
        torch.testing.assert_close(net.predict(x, hidden), net.predict(y, hidden))
        assert torch.isfinite(net.predict(y, hidden)).all()


@pytest.mark.parametrize("repeats, steps", [(1, 2), (11, 22)])
def test_an_epoch_draws_each_row_as_many_times_as_it_is_told(repeats, steps):
    """100 rows in batches of 50: one pass is 2 steps; 11 draws of each row (1,100 rows,
    as for an epoch of at least 1,024 rows) are 22 steps, and every row is drawn exactly
    11 times."""
    from aekit.nn.config import TrainConfig
    from aekit.nn.training import Trainer

    torch.manual_seed(0)
    net = AutoencoderNet(ModelConfig(n_features=6, code_size=8, hidden=(8,),
                                     output="gaussian", objective="masked", components=2))
    cfg = TrainConfig("adam", 1e-3, 0.9, 0.0, 50, 1, 5, 2, "onecycle", 0,
                      epoch_repeats=repeats)
    trainer = Trainer(net, cfg, "cpu")
    step, calls = trainer.optimizer.step, []
    trainer.optimizer.step = lambda *a, **k: (calls.append(1), step(*a, **k))[1]
    loss, drawn = trainer.net.loss, []
    trainer.net.loss = lambda out, target, *a: (drawn.append(target[:, 0]),
                                                 loss(out, target, *a))[1]
    X = torch.from_numpy(linked(100)).float()
    trainer.fit(X)
    assert len(calls) == steps and trainer.epoch == 1
    _, counts = torch.unique(torch.cat(drawn), return_counts=True)
    assert len(counts) == 100 and (counts == repeats).all()


@pytest.mark.parametrize("hidden,code,batch_norm", [
    ((), 4, False), ((8,), 8, True), ((8,), 2, False), ((16, 8), 8, True)])
def test_a_masks_mixture_output_is_the_networks_output_under_that_mask(hidden, code,
                                                                      batch_norm):
    """Scoring reads only the shown features in the first layer (the mask's own input in
    its bias) and runs the code's two maps as one where they are composed: the network's
    output with the mask in every row, its hidden values never read."""
    c = ModelConfig(n_features=7, code_size=code, hidden=hidden, output="laplace",
                    objective="masked", components=3, batch_norm=batch_norm, dropout=0.2)
    torch.manual_seed(2)
    net = AutoencoderNet(c)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.BatchNorm1d)):
                m.bias.uniform_(-0.7, 0.7)
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    net.eval()
    x = torch.from_numpy(np.random.RandomState(0).normal(size=(300, 7)).astype(np.float32))
    for hidden_mask in net.score_masks:
        cols = hidden_mask.nonzero().squeeze(1)
        with torch.no_grad():
            want = net(x, hidden_mask.expand_as(x)).reshape(300, 3, 3, 7)[..., cols]
            got = net.mixture_output_at(torch.where(hidden_mask, torch.nan, x), hidden_mask,
                                        cols)
        assert got.shape == (300, 3, 3, len(cols))
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("output", ["laplace", "gaussian"])
def test_a_value_nearest_a_component_of_negligible_weight_scores_as_torch_does(output):
    """The numpy engine's surprise skips each scale's log; where the mixture's density at
    a value falls below float32's reach that way (the nearest component's weight e^-120,
    the others 100 scales away), it computes the element the exact way: the surprise
    stays finite and equal to torch's, not a rounded denormal's."""
    c = ModelConfig(n_features=4, code_size=4, hidden=(8,), output=output,
                    objective="masked", components=3)
    net = AutoencoderNet(c).eval()
    last = net.decoder[-1]
    with torch.no_grad():
        last.weight.zero_()  # every row's mixture is the bias
        bias = torch.zeros(3, 3, 4)  # (logit, location, raw scale) x component x feature
        bias[0] = torch.tensor([0.0, -120.0, 0.0])[:, None]
        bias[1] = torch.tensor([100.0, 0.0, -100.0])[:, None] * (1 if output == "laplace"
                                                                 else 0.2)
        last.bias.copy_(bias.reshape(-1))
    fast = NumpyNetwork(c, {k: v.numpy() for k, v in net.state_dict().items()})
    X = np.zeros((6, 4), np.float32)
    X[3:] = 100 if output == "laplace" else 20  # at the first component: weight 1/2
    with torch.no_grad():
        S = net.surprise(torch.from_numpy(X)).numpy()
    assert np.isfinite(S).all() and S[0, 0] > 90 and S[3, 0] < 5
    np.testing.assert_allclose(fast.surprise(X), S, rtol=1e-5)


def test_a_value_far_beyond_the_training_rows_scores_inf_and_spares_the_other_rows(
        detector, tmp_path):
    """A cell 3e38 spreads out overflows the network's arithmetic: the row scores inf and
    is flagged, with no numpy warnings, and the other rows of its block (among them
    outliers 1e3 spreads out, which the numpy engine computes the exact way) score as
    they do without it."""
    model = _saved(detector, tmp_path)
    X = linked(300, seed=2)
    X[10:20, 3] = 1e3
    far = X.copy()
    far[5, 2] = 3e38
    runs = []
    for name, rows in (("plain", X), ("far", far)):
        path = tmp_path / f"{name}.csv"
        np.savetxt(path, rows, delimiter=",", header="a,b,c,d,e,f", comments="", fmt="%.9g")
        out = tmp_path / f"{name}.scores.csv"
        r = CliRunner().invoke(cli, ["detect", str(path), "-m", str(model), "-o", str(out)])
        assert r.exit_code == 0, r.output
        assert "warning" not in r.output.lower(), r.output
        runs.append(out.read_text().splitlines())
    plain, with_far = runs
    assert with_far[6] == "inf,1"  # (the header first)
    assert with_far[:6] + with_far[7:] == plain[:6] + plain[7:]
    assert all(float(line.split(",")[0]) > 100 for line in plain[11:21])


def test_rows_that_could_not_be_scored_are_counted_in_a_note(detector, tmp_path, monkeypatch):
    """Where even inf is out of reach (a NaN score: the arithmetic of a far value gave
    inf - inf), `aekit detect` leaves the score empty, does not flag the row, and says
    how many rows it could not score."""
    model = _saved(detector, tmp_path)
    path = tmp_path / "rows.csv"
    np.savetxt(path, linked(50, seed=2), delimiter=",", header="a,b,c,d,e,f", comments="")
    scored = Scorer.anomaly_score

    def with_nan(self, X):
        scores = scored(self, X)
        scores[[3, 7]] = np.nan
        return scores

    monkeypatch.setattr(Scorer, "anomaly_score", with_nan)
    out = tmp_path / "scores.csv"
    r = CliRunner().invoke(cli, ["detect", str(path), "-m", str(model), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "2 rows could not be scored" in r.output
    lines = out.read_text().splitlines()
    assert lines[4] == lines[8] == ",0" and len(lines) == 51
