"""`aekit encode`: codes as CSV, carried columns, chunks, plots, clean failures."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from aekit import AnomalyDetector, Autoencoder
from aekit.cli import cli

TINY = dict(hidden=(32,), epochs=2, batch_size=64, device="cpu", random_state=0)


def run(*args):
    return CliRunner().invoke(cli, ["encode", *map(str, args)])


@pytest.fixture(scope="module")
def digit_model(mnist_small, tmp_path_factory):
    X = mnist_small[0][:600]
    ae = Autoencoder(code_size=3, **TINY).fit(X)
    path = tmp_path_factory.mktemp("models") / "digits.safetensors"
    ae.save(path)
    return ae, path


@pytest.fixture(scope="module")
def pixel_csv(mnist_small, tmp_path_factory):
    """MNIST test rows as a CSV of 0..255 pixels with a label and an id column."""
    Xt, yt = mnist_small[2][:40], mnist_small[3][:40]
    df = pd.DataFrame(np.rint(Xt * 255).astype(int), columns=[f"px{i}" for i in range(784)])
    df.insert(0, "label", yt)
    df.insert(1, "name", [f"img{i}" for i in range(len(df))])
    path = tmp_path_factory.mktemp("data") / "digits.csv"
    df.to_csv(path, index=False)
    return df, path


def test_codes_with_label_and_id_carried(digit_model, pixel_csv, tmp_path):
    ae, model = digit_model
    df, data = pixel_csv
    out = tmp_path / "codes.csv"
    r = run(data, "--model", model, "--label-column", "label", "--id-column", "name",
            "-o", out, "-q")
    assert r.exit_code == 0, r.output
    codes = pd.read_csv(out)
    # carried columns as every command writes them: ids first, then the label
    assert list(codes.columns) == ["name", "label", "code_0", "code_1", "code_2"]
    assert codes["label"].tolist() == df["label"].tolist()
    assert codes["name"].tolist() == df["name"].tolist()
    pixels = df.filter(like="px").to_numpy(np.float32) / 255  # 0..255 scaled like MNIST
    np.testing.assert_allclose(codes.filter(like="code_").to_numpy(), ae.transform(pixels),
                               rtol=1e-5, atol=1e-5)


def test_stdout_by_default(digit_model, pixel_csv):
    _, model = digit_model
    _, data = pixel_csv
    r = run(data, "-m", model, "--label-column", "0", "--id-column", "1", "-q")
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "name,label,code_0,code_1,code_2"
    assert len(lines) == 41


def test_chunked_output_equals_one_chunk(digit_model, pixel_csv, tmp_path, monkeypatch):
    import aekit.cli.encode as encode

    _, model = digit_model
    _, data = pixel_csv
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    assert run(data, "-m", model, "--label-column", "label", "--id-column", "name",
               "-o", whole, "-q").exit_code == 0
    monkeypatch.setattr(encode, "CHUNK_ROWS", 7)
    assert run(data, "-m", model, "--label-column", "label", "--id-column", "name",
               "-o", chunked, "-q").exit_code == 0
    import pandas as pd

    a, b = pd.read_csv(whole), pd.read_csv(chunked)
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    codes = [c for c in a.columns if c.startswith("code_")]
    assert codes and a.drop(columns=codes).equals(b.drop(columns=codes))
    # float32 matrix products may round differently with the batch size
    np.testing.assert_allclose(a[codes].to_numpy(), b[codes].to_numpy(), rtol=1e-4, atol=1e-5)


def test_plot_coloured_by_label(digit_model, pixel_csv, tmp_path):
    _, model = digit_model
    _, data = pixel_csv
    png = tmp_path / "latent.png"
    r = run(data, "-m", model, "--label-column", "label", "--id-column", "name",
            "-o", tmp_path / "c.csv", "--plot", png, "-q")
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_plot_of_one_row_is_refused_and_nothing_written(digit_model, pixel_csv, tmp_path):
    _, model = digit_model
    _, data = pixel_csv
    one = tmp_path / "one.csv"
    one.write_text("".join(data.read_text().splitlines(keepends=True)[:2]))
    out, png = tmp_path / "c.csv", tmp_path / "latent.png"
    r = run(one, "-m", model, "--label-column", "label", "--id-column", "name", "-o", out,
            "--plot", png, "-q")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr.strip().splitlines() == [
        f"Error: --plot maps rows' codes: {one} has 1 row; give at least 2, or no --plot"]
    assert not out.exists() and not png.exists()


def test_wrong_width_is_one_line_error_and_no_output(digit_model, pixel_csv, tmp_path):
    _, model = digit_model
    _, data = pixel_csv
    out = tmp_path / "codes.csv"
    r = run(data, "-m", model, "--label-column", "label", "-o", out)  # 'name' left in
    assert r.exit_code == 1
    assert "feature columns" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_bad_row_late_in_the_file_leaves_nothing(digit_model, pixel_csv, tmp_path, monkeypatch):
    import aekit.cli.encode as encode

    _, model = digit_model
    df, _ = pixel_csv
    bad = df.astype(object)
    bad.loc[30, "px5"] = "oops"
    data = tmp_path / "bad.csv"
    bad.to_csv(data, index=False)
    out = tmp_path / "codes.csv"
    monkeypatch.setattr(encode, "CHUNK_ROWS", 10)  # the bad row is in the 4th chunk
    r = run(data, "-m", model, "--label-column", "label", "--id-column", "name", "-o", out, "-q")
    assert r.exit_code == 1 and "holds 'oops', not a number" in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == [data]


def test_refuses_to_overwrite_its_input(digit_model, pixel_csv):
    _, model = digit_model
    _, data = pixel_csv
    before = data.read_bytes()
    r = run(data, "-m", model, "--label-column", "label", "--id-column", "name", "-o", data)
    assert r.exit_code != 0 and "input" in r.output
    assert data.read_bytes() == before


def test_standardised_table_columns_matched_by_name(rng, tmp_path):
    cols = ["a", "b", "c", "d", "e"]
    df = pd.DataFrame(rng.normal(10, 3, size=(80, 5)), columns=cols)
    ae = Autoencoder(code_size=2, **TINY).fit(df)
    model = tmp_path / "table.safetensors"
    ae.save(model)
    data = tmp_path / "shuffled.csv"
    df[["c", "a", "e", "b", "d"]].to_csv(data, index=False)
    out = tmp_path / "codes.csv"
    assert run(data, "-m", model, "-o", out, "-q").exit_code == 0
    np.testing.assert_allclose(pd.read_csv(out).to_numpy(), ae.transform(df),
                               rtol=1e-5, atol=1e-5)
    df.rename(columns={"e": "x"}).to_csv(data, index=False)
    r = run(data, "-m", model, "-o", out, "-q")
    assert r.exit_code == 1 and "lacks 1 of the model's features (e)" in r.output


def test_pca_detector_has_no_codes(rng, tmp_path):
    X = rng.normal(size=(50, 4))
    model = tmp_path / "pca.safetensors"
    AnomalyDetector(method="pca").fit(X).save(model)
    data = tmp_path / "x.csv"
    pd.DataFrame(X).to_csv(data, index=False, header=False)
    r = run(data, "-m", model)
    assert r.exit_code == 1 and "no codes" in r.output
