"""The VAE's commands: aekit train --objective vae, sample, interpolate, evaluate generative:
their help, their outputs, and one-line errors."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import aekit
from aekit.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result, *words):
    assert result.exit_code != 0
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.parametrize("args", [["sample"], ["interpolate"], ["evaluate", "generative"]])
def test_help(args):
    r = run(*args, "--help")
    assert r.exit_code == 0 and "Usage:" in r.output
    assert "--model" in r.output


def test_train_help_names_the_vae():
    r = run("train", "--help")
    assert "vae: a variational autoencoder" in r.output and "--iw-samples" in r.output


@pytest.fixture(scope="module")
def table_vae(tmp_path_factory):
    """A VAE trained by `aekit train --objective vae --data` on a table with a text column."""
    folder = tmp_path_factory.mktemp("tvae")
    rng = np.random.RandomState(0)
    a = rng.normal(10, 2, 300)
    df = pd.DataFrame({"a": a, "b": 3 * a + rng.normal(0, 0.5, 300),
                       "kind": rng.choice(["x", "y"], 300), "count": np.round(a).astype(int)})
    df.to_csv(folder / "t.csv", index=False)
    model = folder / "t.safetensors"
    r = run("train", "--objective", "vae", "--data", folder / "t.csv", "--epochs", 5,
            "--hidden", "16", "--code-size", 2, "-o", model, "-q")
    assert r.exit_code == 0, r.output
    assert "mean ELBO of the training table" in r.output
    return model, folder


def test_table_vae_samples_rows_with_the_tables_columns(table_vae):
    model, folder = table_vae
    assert type(aekit.load(model)).__name__ == "VariationalAutoencoder"
    out = folder / "s.csv"
    r = run("sample", "-m", model, "-n", 40, "-o", out, "--seed", 1)
    assert r.exit_code == 0, r.output
    rows = pd.read_csv(out)
    assert list(rows.columns) == ["a", "b", "kind", "count"] and len(rows) == 40
    assert set(rows["kind"]) <= {"x", "y"}
    assert rows["count"].dtype == np.int64  # whole in training: whole samples
    assert rows["a"].dtype == np.float64 and (rows["a"] != np.round(rows["a"])).any()
    again = folder / "s2.parquet"
    assert run("sample", "-m", model, "-n", 40, "-o", again, "--seed", 1).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(again), rows, check_dtype=False, atol=1e-5)
    stdout = run("sample", "-m", model, "-n", 3)
    assert stdout.exit_code == 0 and stdout.output.splitlines()[0] == "a,b,kind,count"


def test_table_vae_errors_are_one_line(table_vae, tmp_path):
    model, folder = table_vae
    one_line_error(run("sample", "-m", model, "-o", tmp_path / "s.png"), "tables")
    png = tmp_path / "d.png"
    from aekit.images import write_png

    write_png(np.zeros((28, 28)), png)
    one_line_error(run("interpolate", png, png, "-m", model, "-o", tmp_path / "p.png"),
                   "table rows")
    one_line_error(run("evaluate", "generative", "-m", model, "-k", 2, "--limit", 5, "-q"),
                   "protocol G needs")
    one_line_error(run("sample", "-n", 0, "-m", model), "-n")
    one_line_error(run("sample", "-m", model, "--zoom", 4, "-o", tmp_path / "s.csv"),
                   f"--zoom draws digit grids; {model} is a table model")
    assert not (tmp_path / "s.csv").exists()


def test_commands_refuse_models_that_are_not_vaes(tmp_path):
    from aekit import Autoencoder

    ae = Autoencoder(code_size=2, hidden=(4,), epochs=1, random_state=0, noise=None)
    path = ae.fit(np.random.RandomState(0).rand(40, 5)).save(tmp_path / "ae.safetensors")
    one_line_error(run("sample", "-m", path), "not a variational autoencoder")
    one_line_error(run("sample", "-m", tmp_path / "missing.safetensors"), "not found")
    one_line_error(run("evaluate", "generative", "-m", path, "-q"),
                   "not a variational autoencoder")


def test_train_refuses_options_a_vae_does_not_have(tmp_path):
    one_line_error(run("train", "--objective", "vae", "--noise", "gaussian:0.3",
                       "-o", tmp_path / "m.safetensors"), "--noise", "--objective vae")
    one_line_error(run("train", "--objective", "vae", "--arch", "conv",
                       "-o", tmp_path / "m.safetensors"), "--arch")
    one_line_error(run("train", "--iw-samples", 5, "-o", tmp_path / "m.safetensors"),
                   "--iw-samples", "--objective vae")
    assert not (tmp_path / "m.safetensors").exists()


def test_mnist_vae_train_sample_interpolate_evaluate(tmp_path, mnist_dir):
    model = tmp_path / "v.safetensors"
    r = run("train", "--objective", "vae", "--data-dir", mnist_dir, "--limit", 600,
            "--epochs", 1, "--hidden", "32", "--code-size", 4, "-o", model, "-q")
    assert r.exit_code == 0, r.output
    assert "binarised with seed 0" in r.output
    vae = aekit.load(model)
    assert vae.get_params()["binarize"] is True and vae.likelihood_ == "bernoulli"
    grid = tmp_path / "g.png"
    assert run("sample", "-m", model, "-n", 10, "-o", grid, "--zoom", 1).exit_code == 0
    from aekit.images import read_image

    assert read_image(grid).shape == (3 * 28 + 2 * 2, 4 * 28 + 3 * 2)  # 3 rows of 4, 2 px gaps
    one_line_error(run("sample", "-m", model, "-o", tmp_path / "g.csv"), "PNG")
    X, _ = aekit.load_mnist("test", root=mnist_dir)
    from aekit.images import write_png

    write_png(X[0].reshape(28, 28), tmp_path / "a.png")
    write_png(X[1].reshape(28, 28), tmp_path / "b.png")
    strip = tmp_path / "p.png"
    r = run("interpolate", tmp_path / "a.png", tmp_path / "b.png", "-m", model, "-o", strip,
            "--steps", 5, "--zoom", 1)
    assert r.exit_code == 0, r.output
    assert read_image(strip).shape == (28, 7 * 28 + 6 * 2)  # a, 5 steps, b
    one_line_error(run("interpolate", tmp_path / "a.png", tmp_path / "nope.png", "-m", model),
                   "nope.png")
    one_line_error(run("interpolate", tmp_path / "a.png", grid.with_suffix(".txt"), "-m",
                       model), "does not exist")
    r = run("evaluate", "generative", "-m", model, "-k", 3, "--limit", 20, "--data-dir",
            mnist_dir, "-q")
    assert r.exit_code == 0, r.output
    assert "quick estimate, not protocol G (k=3, 20 test images)" in r.output
    assert "factorised Bernoulli" in r.output and "active latent units" in r.output


def test_a_digit_grid_too_large_to_write_is_refused_before_drawing(tmp_path):
    """-n 1000000 (allowed for table rows) drew a million digits into one grid until the
    machine ran out of memory, with nothing on screen."""
    out = tmp_path / "grid.png"
    one_line_error(run("sample", "-n", 13_807, "-o", out),
                   "-n 13,807 digits at --zoom 2 make a 7,076 x 7,076 picture, over 50 "
                   "megapixels")
    one_line_error(run("sample", "-n", 211, "--zoom", 16, "-o", out), "over 50 megapixels")
    assert not out.exists()


def test_interpolate_with_the_bundled_vae_warns_of_inputs_unlike_digits(tmp_path, mnist_dir):
    """Helper-55: `aekit interpolate black.png white.png` drew a faint ghost path with no
    word. With the bundled digit VAE, each input the bundled digit model's checks find
    unlike a digit is warned of (as `aekit denoise` warns), and what reading an input left
    out is said; a digit is not warned of."""
    from PIL import Image

    from aekit.images import write_png

    X, _ = aekit.load_mnist("test", root=mnist_dir)
    write_png(X[0].reshape(28, 28), tmp_path / "digit.png")
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "black.png")
    r = run("interpolate", tmp_path / "digit.png", tmp_path / "black.png", "-o",
            tmp_path / "p.png", "--steps", 3)
    assert r.exit_code == 0, r.output
    warned = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    assert len(warned) == 1 and "black.png does not look like a digit" in warned[0]
    assert "black.png: its RGB colour was reduced to grey" in r.stderr
