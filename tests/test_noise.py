"""`aekit noise` and the noise of protocol D: the same models training uses."""

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from aekit.cli import cli
from aekit.evaluation.denoise import corrupt
from aekit.nn.noise import Noise


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def gray(path):
    return np.asarray(Image.open(path), dtype=np.float32) / 255.0


@pytest.fixture
def digit_png(tmp_path):
    d = np.zeros((28, 28), np.uint8)
    d[6:22, 12:16] = 255
    p = tmp_path / "d.png"
    Image.fromarray(d).save(p)
    return p


def test_protocol_noise_is_the_training_noise():
    X = np.random.RandomState(0).rand(50, 784).astype(np.float32)
    for spec, noise in [("gaussian:0.5", Noise("gaussian", 0.5)),
                        ("masking:0.25", Noise("masking", 0.25))]:
        expected = noise.apply(torch.from_numpy(X), torch.Generator().manual_seed(3)).numpy()
        np.testing.assert_array_equal(corrupt(X, spec, seed=3), expected)
    assert not np.array_equal(corrupt(X, "gaussian:0.5", 3), corrupt(X, "gaussian:0.5", 4))


def test_gaussian_noise_is_seeded_and_keeps_size(tmp_path, digit_png):
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    for out, seed in ((a, 1), (b, 1), (c, 2)):
        r = run("noise", digit_png, "--kind", "gaussian", "--level", 0.5, "-o", out, "--seed", seed)
        assert r.exit_code == 0, r.output
    assert Image.open(a).size == (28, 28)
    np.testing.assert_array_equal(gray(a), gray(b))
    assert not np.array_equal(gray(a), gray(c))
    clean = gray(digit_png)
    assert 0.15 < np.sqrt(np.mean((gray(a) - clean) ** 2)) < 0.45  # sigma 0.5, clipped


def test_masking_drops_ink_on_any_paper(tmp_path):
    ink = np.zeros((40, 40), np.float32)
    ink[5:35, 5:35] = 1.0  # lots of ink, so the share is measurable
    Image.fromarray(((1 - ink) * 255).astype(np.uint8)).save(tmp_path / "dark.png")  # dark ink
    r = run("noise", tmp_path / "dark.png", "--kind", "masking", "--level", 0.25,
            "-o", tmp_path / "m.png", "--seed", 0)
    assert r.exit_code == 0, r.output
    out = gray(tmp_path / "m.png")
    dropped = (out[ink == 1] == 1.0).mean()  # ink turned into (white) paper
    assert 0.18 < dropped < 0.32
    assert (out[ink == 0] == 1.0).all()  # the paper stays paper


def test_salt_and_pepper_share(tmp_path):
    Image.fromarray(np.full((50, 50), 128, np.uint8)).save(tmp_path / "g.png")
    r = run("noise", tmp_path / "g.png", "--kind", "saltpepper", "--level", 0.2,
            "-o", tmp_path / "s.png", "--seed", 0)
    assert r.exit_code == 0, r.output
    out = gray(tmp_path / "s.png")
    assert 0.14 < np.isin(out, (0.0, 1.0)).mean() < 0.26


def test_noise_refuses_bad_levels_and_overwriting(tmp_path, digit_png):
    r = run("noise", digit_png, "--kind", "masking", "--level", 1.5, "-o", tmp_path / "x.png")
    assert r.exit_code != 0 and "probability" in r.output and not (tmp_path / "x.png").exists()
    before = digit_png.read_bytes()
    r = run("noise", digit_png, "--kind", "gaussian", "--level", 0.5, "-o", digit_png)
    assert r.exit_code != 0 and "input" in r.output
    assert digit_png.read_bytes() == before


def test_noise_reports_an_unreadable_image(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"")
    r = run("noise", tmp_path / "bad.png", "--kind", "gaussian", "--level", 0.5,
            "-o", tmp_path / "o.png")
    assert r.exit_code == 1 and "empty" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o.png").exists()


def test_block_noise_cuts_one_square_hole_per_image():
    import torch

    from aekit.nn.noise import parse_noise

    gen = torch.Generator().manual_seed(0)
    x = torch.ones(50, 784)
    y = parse_noise("block:10").apply(x, gen)
    holes = (y == 0).reshape(50, 28, 28)
    assert (holes.sum(dim=(1, 2)) == 100).all()
    for img in holes:
        r, c = torch.nonzero(img, as_tuple=True)
        assert r.max() - r.min() == 9 and c.max() - c.min() == 9  # one 10x10 square
    tops = {int(torch.nonzero(h)[0, 0]) for h in holes}
    assert len(tops) > 5  # positions vary
    with pytest.raises(ValueError, match="square images"):
        parse_noise("block:10").apply(torch.ones(4, 50), gen)
    for bad in ("block:1.5", "block:0", "block:1e300"):
        with pytest.raises(ValueError, match="block side"):
            parse_noise(bad)


def test_noise_says_what_reading_a_grey_picture_left_out(tmp_path):
    """The result is an 8-bit grey PNG: colour, transparency and a 16-bit depth are said
    in notes (they were dropped silently)."""
    rgba = np.zeros((20, 24, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 255
    rgba[:5, :5, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "c.png")
    Image.fromarray((np.arange(20 * 24).reshape(20, 24) * 100).astype(np.uint16)).save(
        tmp_path / "d16.png")
    for name, said in (("c.png", ("RGBA colour was reduced to grey", "transparency")),
                       ("d16.png", ("16-bit grey levels",))):
        r = CliRunner().invoke(cli, ["noise", str(tmp_path / name), "--kind", "gaussian",
                                     "--level", "0.1", "--seed", "0", "-o",
                                     str(tmp_path / f"n_{name}")])
        assert r.exit_code == 0, r.output
        notes = [line for line in r.stderr.splitlines() if line.startswith("note: ")]
        assert len(notes) == len(said) and all(w in " ".join(notes) for w in said), r.stderr
        assert Image.open(tmp_path / f"n_{name}").mode == "L"
