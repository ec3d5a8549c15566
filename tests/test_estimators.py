import numpy as np
import pytest

import aekit
from aekit import Autoencoder, DenoisingAutoencoder

TINY = dict(hidden=(32,), code_size=8, epochs=4, batch_size=64, device="cpu", random_state=0)


def sse(X, R):
    return float(np.mean(np.sum((X - R) ** 2, axis=1)))


def test_learns_mnist_better_than_the_mean_image(mnist_small):
    X, _, Xt, _ = mnist_small
    ae = Autoencoder(**{**TINY, "epochs": 10}, noise=None, lr=3e-3).fit(X)
    assert ae.transform(Xt).shape == (500, 8)
    baseline = sse(Xt, np.broadcast_to(X.mean(0), Xt.shape))
    assert sse(Xt, ae.reconstruct(Xt)) < 0.7 * baseline
    assert ae.schema_.scaling == "unit" and ae.net_.config.output == "sigmoid"


def test_default_dropout_noise_teaches_it_to_fill_in_hidden_pixels(mnist_small):
    # by default 80% of the inputs are hidden while training: the code must then carry what
    # the visible pixels imply about the rest, which a plain autoencoder never learns; the
    # kept inputs are scaled up as in dropout, so clean inputs are still reconstructed well
    import torch

    from aekit.nn.noise import parse_noise

    X, _, Xt, _ = mnist_small
    assert Autoencoder().noise == "dropout:0.8"
    params = dict(hidden=(128,), code_size=8, epochs=30, batch_size=64, lr=3e-3, device="cpu",
                  random_state=0)
    default = Autoencoder(**params).fit(X)
    plain = Autoencoder(**params, noise=None).fit(X)
    assert default.training_summary_["noise"] == "dropout:0.8"
    gen = torch.Generator().manual_seed(1)
    Xt_dropped = parse_noise("dropout:0.8").apply(torch.from_numpy(Xt), gen).numpy()
    assert sse(Xt, default.reconstruct(Xt_dropped)) < 0.85 * sse(Xt, plain.reconstruct(Xt_dropped))
    assert sse(Xt, default.reconstruct(Xt)) < 1.3 * sse(Xt, plain.reconstruct(Xt))


def test_reconstruct_is_inverse_transform_of_transform(rng):
    X = rng.rand(100, 12).astype(np.float32)
    ae = Autoencoder(**TINY).fit(X)
    np.testing.assert_allclose(ae.reconstruct(X), ae.inverse_transform(ae.transform(X)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_each_optimizer_reduces_the_loss(rng, optimizer):
    X = rng.rand(300, 10)
    lr = {"adam": 1e-2, "sgd": 1e-2, "rmsprop": 1e-3}[optimizer]
    ae = Autoencoder(**{**TINY, "epochs": 10, "validation_fraction": 0.0}, optimizer=optimizer,
                     lr=lr).fit(X)
    losses = ae.history_["train_loss"]
    assert losses[-1] < losses[0]


def test_any_numeric_range_is_scaled_and_restored(rng):
    latent = rng.normal(size=(400, 2))  # 6 columns that really have 2 dimensions
    base = np.tanh(latent @ rng.normal(size=(2, 6)))
    X = base * np.array([1, 10, 100, 1e3, 1e4, 1e5]) - 50
    ae = Autoencoder(**{**TINY, "epochs": 40, "code_size": 2}, noise=None, lr=3e-3).fit(X)
    assert ae.schema_.scaling == "standard" and ae.net_.config.output == "linear"
    R = ae.reconstruct(X)
    rel = np.abs(R - X).mean(0) / X.std(0)
    assert np.all(rel < 0.25), rel  # each column reconstructed in its own units


def test_denoising_noise_only_during_training(rng):
    X = rng.rand(200, 10).astype(np.float32)
    dae = DenoisingAutoencoder(**TINY).fit(X)
    assert dae.noise == "gaussian:0.3" and dae.training_summary_["noise"] == "gaussian:0.3"
    np.testing.assert_array_equal(dae.reconstruct(X), dae.reconstruct(X))
    with pytest.raises(ValueError, match="noise"):
        DenoisingAutoencoder(**TINY, noise=None).fit(X)


def test_same_seed_same_model(rng):
    X = rng.rand(150, 10)
    a = Autoencoder(**{**TINY, "dropout": 0.2}, noise="masking:0.1").fit(X).transform(X)
    b = Autoencoder(**{**TINY, "dropout": 0.2}, noise="masking:0.1").fit(X).transform(X)
    c = Autoencoder(**{**TINY, "dropout": 0.2, "random_state": 1}, noise="masking:0.1").fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_early_stopping_and_lr_reduction(rng):
    X = rng.rand(200, 10)
    ae = Autoencoder(**{**TINY, "epochs": 200, "patience": 2, "lr_patience": 0}, lr=0.05).fit(X)
    assert ae.training_summary_["stopped_early"] and ae.n_epochs_ < 200
    assert min(ae.history_["lr"]) < 0.05


def test_weight_decay_shrinks_weights(rng):
    X = rng.rand(200, 10)
    plain = Autoencoder(**{**TINY, "epochs": 10}).fit(X)
    decayed = Autoencoder(**{**TINY, "epochs": 10}, weight_decay=0.5).fit(X)
    norm = lambda ae: sum(float((p.detach() ** 2).sum()) for p in ae.net_.parameters())
    assert norm(decayed) < norm(plain)


@pytest.mark.parametrize("params,match", [
    ({"code_size": 0}, "code_size"), ({"hidden": (10, -1)}, "hidden"),
    ({"optimizer": "lbfgs"}, "optimizer"), ({"dropout": 1.5}, "dropout"),
    ({"noise": "bogus:1"}, "noise"), ({"lr": -1}, "lr"), ({"device": "tpu9"}, "device"),
    ({"arch": "rnn"}, "arch"), ({"arch": "conv"}, "square image"),
    ({"arch": "conv", "channels": (8, 0)}, "channels"), ({"channels": ()}, "channels"),
])
def test_bad_parameters_raise_clear_errors(rng, params, match):
    with pytest.raises(ValueError, match=match):
        Autoencoder(**{**TINY, **params}).fit(rng.rand(20, 4))


def test_save_and_load_round_trip(tmp_path, rng):
    X = rng.rand(120, 10).astype(np.float32) * 7
    for est in (Autoencoder(**TINY, batch_norm=True, dropout=0.1),
                DenoisingAutoencoder(**TINY, noise="saltpepper:0.1")):
        est.fit(X)
        path = est.save(tmp_path / "m.safetensors")
        loaded = aekit.load(path, device="cpu")
        assert type(loaded) is type(est)
        assert loaded.get_params() == est.get_params()
        np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
        np.testing.assert_array_equal(loaded.reconstruct(X), est.reconstruct(X))
        assert loaded.training_summary_["epochs"] == est.n_epochs_


def test_a_model_fitted_with_a_numpy_generator_can_be_saved(tmp_path, rng):
    # a RandomState is not a parameter a file can hold: it is stored as None, and the
    # seed the fit drew from it stays in the training summary
    X = rng.rand(120, 10).astype(np.float32)
    est = Autoencoder(**{**TINY, "random_state": np.random.RandomState(3)}).fit(X)
    loaded = aekit.load(est.save(tmp_path / "m.safetensors"), device="cpu")
    assert loaded.random_state is None
    assert loaded.training_summary_["seed"] == est.training_summary_["seed"]
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_save_is_atomic_and_never_half_written(tmp_path, rng, monkeypatch):
    import aekit.atomic

    est = Autoencoder(**TINY).fit(rng.rand(50, 5))
    target = tmp_path / "m.safetensors"
    target.write_bytes(b"previous")
    real_open = open

    def half_then_full(path, mode="r", **kw):
        f = real_open(path, mode, **kw)
        real_write = f.write

        def write(data):
            real_write(data[: len(data) // 2])
            raise OSError("disk full")
        f.write = write
        return f

    monkeypatch.setattr(aekit.atomic, "open", half_then_full, raising=False)
    with pytest.raises(OSError, match="disk full"):
        est.save(target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_onecycle_schedule_warms_up_then_anneals_to_nearly_zero():
    X = np.random.RandomState(0).rand(256, 10)
    ae = Autoencoder(hidden=(8,), code_size=3, epochs=6, lr=1e-2, lr_schedule="onecycle",
                     random_state=0, device="cpu").fit(X)
    lr = ae.history_["lr"]
    assert len(lr) == 6 and max(lr) > 0.5e-2 and lr[-1] < 0.05 * max(lr)
    assert lr.index(max(lr)) < 3  # the peak comes early, then it only falls
    assert all(a >= b for a, b in zip(lr[lr.index(max(lr)):], lr[lr.index(max(lr)) + 1:]))
    with pytest.raises(ValueError, match="lr_schedule"):
        Autoencoder(lr_schedule="cosine").fit(X)


def test_onecycle_runs_all_its_epochs_whatever_the_patience():
    X = np.random.RandomState(0).rand(128, 6)
    ae = Autoencoder(hidden=(4,), code_size=2, epochs=7, patience=0, lr=1e-6,
                     lr_schedule="onecycle", random_state=0, device="cpu").fit(X)
    assert ae.n_epochs_ == 7 and not ae.training_summary_["stopped_early"]


def test_conv_denoiser_learns_mnist_and_round_trips(tmp_path, mnist_small):
    X, _, Xt, _ = mnist_small
    dae = DenoisingAutoencoder(arch="conv", channels=(8, 16), code_size=32, epochs=10,
                               batch_size=64, noise="gaussian:0.5", lr=3e-3, device="cpu", random_state=0).fit(X)
    assert dae.transform(Xt).shape == (500, 32)
    noisy = np.clip(Xt + 0.5 * np.random.RandomState(1).randn(*Xt.shape), 0, 1).astype(np.float32)
    baseline = sse(Xt, np.broadcast_to(X.mean(0), Xt.shape))
    assert sse(Xt, dae.reconstruct(noisy)) < 0.8 * baseline  # from noisy inputs
    loaded = aekit.load(dae.save(tmp_path / "conv.safetensors"), device="cpu")
    assert loaded.get_params() == dae.get_params()
    np.testing.assert_array_equal(loaded.reconstruct(Xt[:50]), dae.reconstruct(Xt[:50]))
    # float64 in -> float64 out, the same numbers as float32 up to rounding
    np.testing.assert_allclose(dae.reconstruct(Xt[:50].astype(np.float64)),
                               dae.reconstruct(Xt[:50]), atol=1e-4)


def test_a_dataframe_with_two_columns_of_one_name_is_a_value_error(rng):
    import pandas as pd

    X = pd.DataFrame(rng.rand(40, 3), columns=["a", "a", "c"])
    with pytest.raises(ValueError, match="X has two columns named 'a'"):
        Autoencoder(**TINY).fit(X)
    est = Autoencoder(**TINY).fit(X.set_axis(["a", "b", "c"], axis=1))
    with pytest.raises(ValueError, match="X has two columns named 'a'"):
        est.transform(X)


@pytest.mark.parametrize("device,words", [
    ("tpu", "unknown device 'tpu'"), ("meta", "unknown device 'meta'"),
    ("mps", "device 'mps' was asked for but this machine has no Apple GPU"),
    ("cuda:7", "device 'cuda:7' was asked for but")])
def test_a_device_this_machine_does_not_have_is_a_value_error(rng, device, words):
    import torch

    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has an Apple GPU")
    if device == "cuda:7" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has 8 GPUs")
    with pytest.raises(ValueError, match=words):
        Autoencoder(**{**TINY, "device": device}).fit(rng.rand(40, 3))


def test_a_dataframe_with_a_column_the_model_lacks_is_told_how_to_select_its_columns(rng):
    import pandas as pd

    X = pd.DataFrame(rng.rand(40, 3), columns=["a", "b", "c"])
    est = Autoencoder(**TINY).fit(X)
    with pytest.raises(ValueError) as e:
        est.transform(X.assign(d=1.0))
    assert str(e.value) == ("X has 1 column(s) the model was not trained on (d); give the "
                            "model's columns alone: X[model.feature_names_in_]")
    np.testing.assert_array_equal(est.transform(X.assign(d=1.0)[est.feature_names_in_]),
                                  est.transform(X))
