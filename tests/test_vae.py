"""VariationalAutoencoder: its bounds against hand computations, sampling, deterministic
scores, files (save, load, resume, hostile ones) and the protocol-G helpers."""

import json
import math
import struct

import numpy as np
import pytest
import torch

import aekit
from aekit import VariationalAutoencoder
from aekit.errors import ModelFileError
from aekit.nn.vae import VAEConfig, VAENet, row_generators, row_noise

TINY = dict(code_size=2, hidden=(6,), epochs=2, batch_size=16, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def binary_rows():
    rng = np.random.RandomState(0)
    return (rng.rand(120, 10) < np.linspace(0.1, 0.9, 10)).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(binary_rows):
    return VariationalAutoencoder(**TINY).fit(binary_rows)


def _softplus(a):
    return np.logaddexp(0.0, a)


def _hand_forward(net, x, eps):
    """The tiny network's ELBO pieces computed in numpy from its weights: mu, logvar,
    the decoder's logits at z = mu + sigma * eps."""
    W = {k: v.detach().double().numpy() for k, v in net.state_dict().items()}
    h = np.maximum(x @ W["encoder.0.weight"].T + W["encoder.0.bias"], 0)
    out = h @ W["encoder.2.weight"].T + W["encoder.2.bias"]
    mu, logvar = out[:, :2], out[:, 2:]
    z = mu + np.exp(0.5 * logvar) * eps
    hd = np.maximum(z @ W["decoder.0.weight"].T + W["decoder.0.bias"], 0)
    logits = hd @ W["decoder.2.weight"].T + W["decoder.2.bias"]
    return mu, logvar, z, logits


def test_elbo_matches_a_hand_computation(fitted, binary_rows):
    x = binary_rows[:5].astype(np.float64)
    eps = np.concatenate([g.standard_normal((1, 2)) for g in row_generators(x)])
    mu, logvar, _, logits = _hand_forward(fitted.net_, x, eps)
    log_px = (x * logits - _softplus(logits)).sum(1)  # Bernoulli log-pmf, by its definition
    kl = 0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar).sum(1)
    np.testing.assert_allclose(fitted.score_samples(x), log_px - kl, rtol=1e-6, atol=1e-6)


def test_log_weights_match_a_hand_computation(fitted, binary_rows):
    x = binary_rows[:4].astype(np.float64)
    gens = row_generators(x)
    eps = row_noise(gens, 3, 2).numpy()  # (k, n, latent)
    lw = fitted.log_weights(x, 3)
    for i in range(3):
        mu, logvar, z, logits = _hand_forward(fitted.net_, x, eps[i])
        log_px = (x * logits - _softplus(logits)).sum(1)
        log_pz = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(1)
        log_qz = -0.5 * (eps[i] ** 2 + math.log(2 * math.pi) + logvar).sum(1)
        np.testing.assert_allclose(lw[:, i], log_px + log_pz - log_qz, rtol=1e-6, atol=1e-6)


def test_iw_bound_is_at_least_the_mean_of_its_single_sample_elbos(fitted, binary_rows):
    x = binary_rows[:20]
    for k in (2, 10, 50):
        lw = fitted.log_weights(x, k)
        bound = fitted.score_samples(x, k=k)
        np.testing.assert_allclose(bound, np.logaddexp.reduce(lw, axis=1) - math.log(k),
                                   rtol=1e-6)
        assert np.all(bound >= lw.mean(axis=1) - 1e-9)
        assert np.all(bound > lw.mean(axis=1))  # strictly, unless the weights were equal


def test_gaussian_elbo_matches_a_hand_computation():
    torch.manual_seed(0)
    net = VAENet(VAEConfig(n_features=3, code_size=2, hidden=(4,), likelihood="gaussian"))
    x = torch.randn(5, 3, dtype=torch.float64)
    eps = torch.randn(5, 2, dtype=torch.float64)
    net = net.double()
    mu, logvar = net.encode(x)
    out = net.decode(mu + torch.exp(0.5 * logvar) * eps).detach().numpy()
    mean, raw = out[:, :3], out[:, 3:]
    var = 0.01 + np.exp(raw)
    xn = x.numpy()
    log_px = (-0.5 * (np.log(2 * np.pi * var) + (xn - mean) ** 2 / var)).sum(1)
    m, lv = mu.detach().numpy(), logvar.detach().numpy()
    kl = 0.5 * (m ** 2 + np.exp(lv) - 1 - lv).sum(1)
    np.testing.assert_allclose(net.elbo(x, eps).detach().numpy(), log_px - kl, rtol=1e-9)


def test_scores_do_not_depend_on_the_other_rows_or_the_call(fitted, binary_rows):
    x = binary_rows[:30]
    for k in (1, 7):
        whole = fitted.score_samples(x, k=k)
        np.testing.assert_array_equal(whole, fitted.score_samples(x, k=k))
        order = np.random.RandomState(1).permutation(len(x))
        np.testing.assert_allclose(fitted.score_samples(x[order], k=k), whole[order], rtol=1e-6)
        one_by_one = np.concatenate([fitted.score_samples(x[i:i + 1], k=k) for i in range(5)])
        np.testing.assert_allclose(one_by_one, whole[:5], rtol=1e-6)
    # distinct rows draw distinct noise; equal rows equal noise
    g = row_generators(np.stack([x[0], x[1], x[0]]))
    draws = [r.standard_normal(3) for r in g]
    assert not np.allclose(draws[0], draws[1]) and np.array_equal(draws[0], draws[2])


def test_a_standardised_models_scores_do_not_depend_on_the_inputs_dtype():
    # each row's draws are keyed by the row rounded to float32: a float32 copy of float64
    # rows, whose scaled values differ in their last bits, draws the same noise
    X = np.random.RandomState(0).normal(size=(300, 6))
    vae = VariationalAutoencoder(epochs=5, hidden=(16,), code_size=2, warmup=0,
                                 random_state=0).fit(X)
    for k in (1, 5):
        np.testing.assert_allclose(vae.score_samples(X.astype(np.float32), k=k),
                                   vae.score_samples(X, k=k), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(vae.log_weights(X.astype(np.float32), 3), vae.log_weights(X, 3),
                               rtol=1e-5, atol=1e-4)


def test_a_gap_in_a_table_with_text_columns_is_refused():
    import pandas as pd

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60),
                       "s": rng.choice(["x", "y"], 60)})
    gap = df.copy()
    gap.loc[0, "a"] = np.nan
    with pytest.raises(ValueError, match="needs complete rows"):
        VariationalAutoencoder(**TINY).fit(gap)
    vae = VariationalAutoencoder(**TINY).fit(df)
    text_gap = df.copy()
    text_gap.loc[1, "s"] = None
    for rows in (gap, text_gap):
        with pytest.raises(ValueError, match="needs complete rows"):
            vae.score_samples(rows)
        with pytest.raises(ValueError, match="needs complete rows"):
            vae.transform(rows)


def test_score_is_the_mean_elbo(fitted, binary_rows):
    assert fitted.score(binary_rows) == pytest.approx(np.mean(fitted.score_samples(binary_rows)))


def test_sampling_shapes_seeds_and_kinds(fitted):
    a = fitted.sample(7, random_state=3)
    assert a.shape == (7, 10) and a.dtype == np.float32
    np.testing.assert_array_equal(a, fitted.sample(7, random_state=3))
    assert not np.array_equal(a, fitted.sample(7, random_state=4))
    assert np.all((a > 0) & (a < 1))  # Bernoulli means: probabilities
    drawn = fitted.sample(50, random_state=0, mean=False)
    assert set(np.unique(drawn)) <= {0.0, 1.0}
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_samples"):
            fitted.sample(bad)
    with pytest.raises(ValueError, match="k must be"):
        fitted.score_samples(np.zeros((1, 10)), k=0)


def test_transform_is_the_posterior_mean_and_inverse_the_decoder_mean(fitted, binary_rows):
    Z = fitted.transform(binary_rows[:4])
    assert Z.shape == (4, 2)
    mu, _ = fitted.net_.encode(torch.from_numpy(binary_rows[:4]))
    np.testing.assert_allclose(Z, mu.detach().numpy(), rtol=1e-5)
    R = fitted.inverse_transform(Z)
    assert R.shape == (4, 10) and np.all((R > 0) & (R < 1))
    with pytest.raises(ValueError, match="codes have 3 columns"):
        fitted.inverse_transform(np.zeros((1, 3)))


def test_gaussian_model_on_a_table_with_categories(tmp_path):
    import pandas as pd

    rng = np.random.RandomState(0)
    n = 200
    a = rng.normal(50, 10, n)
    df = pd.DataFrame({"a": a, "b": 2 * a + rng.normal(0, 1, n),
                       "colour": rng.choice(["red", "green", "blue"], n)})
    vae = VariationalAutoencoder(code_size=2, hidden=(16,), epochs=30, random_state=0).fit(df)
    assert vae.likelihood_ == "gaussian"
    rows = vae.sample(100, random_state=0)
    assert list(rows.columns) == ["a", "b", "colour"]
    assert set(rows["colour"]) <= {"red", "green", "blue"}
    assert abs(rows["a"].mean() - 50) < 10  # samples in the table's own units
    # the bound is of the rows in their units: shifting the scale shifts it by log 10
    path = vae.save(tmp_path / "t.safetensors")
    back = aekit.load(path)
    np.testing.assert_allclose(back.score_samples(df), vae.score_samples(df), rtol=1e-6)


def test_parameters_that_cannot_apply_are_refused():
    X = np.random.RandomState(0).randn(20, 3)
    with pytest.raises(ValueError, match="likelihood='bernoulli' needs data within"):
        VariationalAutoencoder(likelihood="bernoulli", **TINY).fit(X)
    with pytest.raises(ValueError, match="binarize"):
        VariationalAutoencoder(binarize=True, **TINY).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        VariationalAutoencoder(**TINY).fit(np.where(X > 1, np.nan, X))
    with pytest.raises(ValueError, match="beta"):
        VariationalAutoencoder(beta=0, **TINY).fit(X)


def test_save_load_and_resume_give_the_uninterrupted_model(tmp_path, binary_rows):
    from aekit.checkpoint import Checkpointer, read_checkpoint

    full = VariationalAutoencoder(**{**TINY, "epochs": 3}).fit(binary_rows)
    path = full.save(tmp_path / "v.safetensors")
    back = aekit.load(path)
    assert type(back) is VariationalAutoencoder and back.get_params() == full.get_params()
    np.testing.assert_array_equal(back.score_samples(binary_rows), full.score_samples(binary_rows))
    np.testing.assert_array_equal(back.sample(3, random_state=0), full.sample(3, random_state=0))

    class Stop(Exception):
        pass

    ckpt = tmp_path / "v.ckpt"
    est = VariationalAutoencoder(**{**TINY, "epochs": 3})
    saver = Checkpointer(est, str(ckpt), {"x": 1})

    def stop_after_two(trainer, report):
        saver(trainer, report)
        if report.epoch == 2:
            raise Stop

    with pytest.raises(Stop):
        est.fit(binary_rows, callback=stop_after_two)
    c = read_checkpoint(ckpt)
    assert c.estimator == "VariationalAutoencoder" and c.epoch == 2
    resumed = VariationalAutoencoder(**c.params).fit(binary_rows, resume=c.resume)
    np.testing.assert_allclose(resumed.score_samples(binary_rows),
                               full.score_samples(binary_rows), rtol=1e-5)


def _rewrite(path, edit):
    """The model file at ``path`` with its JSON document changed by ``edit(doc)``."""
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    doc = json.loads(header["__metadata__"]["aekit"])
    edit(doc)
    header["__metadata__"]["aekit"] = json.dumps(doc)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    path.write_bytes(struct.pack("<Q", len(new)) + new + raw[8 + n:])


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["networks"][0].update(code_size=10**12), "layer sizes"),
    (lambda d: d["networks"][0].update(hidden=[6] * 1000), "hidden layer sizes"),
    (lambda d: d["networks"][0].update(likelihood="poisson"), "likelihood"),
    (lambda d: d["networks"][0].update(min_var=float("nan")), "min_var"),
    (lambda d: d["networks"][0].update(code_size=3), "does not match its weights"),
    (lambda d: d["params"].update(beta=-1), "beta"),
    (lambda d: d["schema"].update(scaling="standard"), None),
])
def test_hostile_or_damaged_vae_files_are_refused(tmp_path, fitted, edit, words):
    path = fitted.save(tmp_path / "v.safetensors")
    _rewrite(path, edit)
    with pytest.raises(ModelFileError, match=words):
        aekit.load(path)


def test_protocol_g_helpers():
    from aekit.evaluation.generative import binarised, factorised_bernoulli

    X = np.random.RandomState(0).rand(50, 4).astype(np.float32)
    B = binarised(X, seed=0)
    np.testing.assert_array_equal(B, binarised(X, seed=0))
    assert set(np.unique(B)) <= {0.0, 1.0}
    fb = factorised_bernoulli(X)
    p = (X.sum(0) + 1) / (len(X) + 2)
    expected = (B * np.log(p) + (1 - B) * np.log(1 - p)).sum(1)
    np.testing.assert_allclose(fb.log_likelihood(B), expected, rtol=1e-6)


def test_a_warm_up_longer_than_the_training_is_warned_of():
    """With fewer epochs than the KL warm-up, the KL weight never reaches beta: the model
    is not trained on the ELBO it reports, which nothing said."""
    import warnings

    from aekit import VariationalAutoencoder
    from aekit.errors import AekitWarning

    X = np.random.RandomState(0).rand(60, 4)
    with pytest.warns(AekitWarning, match=r"^warmup=10 epochs of KL warm-up outlast the 3 "
                                          r"epochs of training: the KL weight ends at 0.30"):
        VariationalAutoencoder(hidden=(8,), code_size=2, epochs=3, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AekitWarning)
        VariationalAutoencoder(hidden=(8,), code_size=2, epochs=3, warmup=2,
                               random_state=0).fit(X)


def test_a_bool_column_is_sampled_and_reconstructed_as_bool(tmp_path):
    """Helper-56: a VAE of a frame with a bool column sampled it back as the text 'False' /
    'True', so that a Parquet file written from the samples held strings. A column whose
    categories are spelled as Python spells bools comes back as bool; other text columns
    stay text."""
    import pandas as pd

    from aekit import AnomalyDetector, VariationalAutoencoder

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"a": rng.normal(size=120), "flag": rng.rand(120) > 0.5,
                       "c": rng.choice(["x", "y"], 120)})
    rows = VariationalAutoencoder(epochs=1, warmup=0, random_state=0).fit(df).sample(
        20, random_state=0)
    assert rows["flag"].dtype == bool and rows["c"].map(type).eq(str).all()
    rows.to_parquet(tmp_path / "s.parquet")
    assert pd.read_parquet(tmp_path / "s.parquet")["flag"].dtype == bool
    back = AnomalyDetector(epochs=1, random_state=0).fit(df).reconstruct(df.head(5))
    assert back["flag"].dtype == bool


def test_read_only_arrays_are_read_without_torchs_warning():
    """Helper-57: inverse_transform of read-only codes (pandas hands such arrays out) let
    torch's "The given NumPy array is not writable" warning through."""
    import warnings

    from aekit import Autoencoder, VariationalAutoencoder

    X = np.random.RandomState(0).rand(100, 6)
    for model in (Autoencoder(code_size=2, epochs=1, random_state=0),
                  VariationalAutoencoder(epochs=1, warmup=0, random_state=0)):
        model.fit(X)
        Z = model.transform(X)
        Z.flags.writeable = False
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            back = model.inverse_transform(Z)
        assert back.shape == X.shape and np.isfinite(back).all()
