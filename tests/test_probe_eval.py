"""Protocol F (linear probe) and `aekit evaluate probe`."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.decomposition import PCA

from aekit.cli import cli
from aekit.evaluation.probe import latent_2d, linear_probe, plot_latent_maps, run_probe

TINY = dict(hidden=(32,), epochs=3, batch_size=64, device="cpu")


def test_linear_probe_reads_signal_and_not_noise(rng):
    y = rng.randint(0, 3, 600)
    Z = rng.normal(size=(600, 2)) + 4 * np.eye(3)[y][:, :2]
    assert linear_probe(Z[:400], y[:400], Z[400:], y[400:]) > 0.9
    shuffled = rng.permutation(y)
    assert linear_probe(Z[:400], shuffled[:400], Z[400:], shuffled[400:]) < 0.55


def test_run_probe_autoencoder_and_pca(mnist_small):
    X, y, Xt, yt = mnist_small
    seen = []
    results = run_probe(X, y, Xt, yt, sizes=(2, 8), random_state=0, params=TINY,
                        on_result=seen.append)
    assert [(r.method, r.k) for r in results] == [
        ("autoencoder", 2), ("pca", 2), ("autoencoder", 8), ("pca", 8)]
    assert seen == results
    by = {(r.method, r.k): r for r in results}
    pca = PCA(8, random_state=0).fit(X)
    assert by[("pca", 8)].accuracy == pytest.approx(
        linear_probe(pca.transform(X), y, pca.transform(Xt), yt))
    for r in results:
        assert r.test_codes.shape == (len(Xt), r.k)
        assert 0.2 < r.accuracy <= 1.0  # well above chance (0.1) even for tiny fits
    assert by[("autoencoder", 8)].accuracy > by[("autoencoder", 2)].accuracy


def test_latent_2d_of_identical_codes_is_the_origin_without_a_warning():
    """Helper-58: `encode --plot` of two identical rows let numpy's "invalid value
    encountered in divide" through (PCA of codes without variance)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xy, _ = latent_2d(np.tile(np.arange(5.0), (3, 1)))
    assert np.array_equal(xy, np.zeros((3, 2)))


def test_latent_2d_keeps_two_dims_and_projects_more(rng):
    Z2 = rng.normal(size=(50, 2))
    assert latent_2d(Z2)[0] is not None and np.array_equal(latent_2d(Z2)[0], Z2)
    xy, names = latent_2d(rng.normal(size=(50, 6)))
    assert xy.shape == (50, 2) and names == ("PC 1", "PC 2")
    assert latent_2d(rng.normal(size=(50, 1)))[0].shape == (50, 2)


def test_plot_latent_maps_writes_png(rng, tmp_path):
    path = tmp_path / "maps.png"
    labels = np.array(list("abc") * 20)
    plot_latent_maps([("one", rng.normal(size=(60, 2))), ("two", rng.normal(size=(60, 5)))],
                     path, labels=labels, max_points=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_probe_cli(mnist_dir, tmp_path):
    png, js = tmp_path / "maps.png", tmp_path / "probe.json"
    r = CliRunner().invoke(cli, ["evaluate", "probe", "--data-dir", mnist_dir, "--limit", "1000",
                                 "--epochs", "2", "--sizes", "2,4", "--device", "cpu",
                                 "--plot", png, "--json", js, "-q"])
    assert r.exit_code == 0, r.output
    assert "autoencoder" in r.stdout and "PCA" in r.stdout
    assert "note: --limit/--epochs make this a quick check, not protocol F" in r.stderr
    doc = json.loads(js.read_text())
    assert doc["n_train"] == 1000 and doc["n_test"] == 10000
    got = {(x["method"], x["k"]) for x in doc["results"]}
    assert got == {("autoencoder", 2), ("pca", 2), ("autoencoder", 4), ("pca", 4)}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_probe_refuses_missing_output_folder(tmp_path):
    r = CliRunner().invoke(cli, ["evaluate", "probe", "--plot", tmp_path / "no" / "x.png"])
    assert r.exit_code != 0 and "does not exist" in r.output
