"""The photo denoiser (issue 25): network, tiling, modes and bit depths, `aekit denoise`'s
model choice, `aekit train --images` with resume, protocol D2's code. Tiny images and
tiny networks: quality is measured by scripts/bench_denoise_photos.py, not here."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from aekit.cli import cli
from aekit.model_file import read_model_file, write_model_file
from aekit.nn.image_denoiser import ImageDenoiserConfig, ImageDenoiserNet, fold_batch_norm
from aekit.nn.noise import parse_noise
from aekit.photo_denoiser import ImageDenoiser


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def smooth_image(h, w, channels=None, seed=0):
    """A photo-like picture in [0, 1]: smoothed noise (not a digit)."""
    from scipy import ndimage

    rng = np.random.RandomState(seed)
    shape = (h, w) if channels is None else (h, w, channels)
    sigma = 4 if channels is None else (4, 4, 0)
    a = ndimage.gaussian_filter(rng.rand(*shape), sigma=sigma)
    return (a - a.min()) / (a.max() - a.min())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny fitted denoiser and its file."""
    den = ImageDenoiser(features=4, depth=3, patches=32, patch_size=16, epochs=1, batch_size=8,
                        tile=64, device="cpu")
    den.fit([smooth_image(40, 48), smooth_image(36, 36, 3, seed=1)])
    path = tmp_path_factory.mktemp("photo") / "tiny.safetensors"
    den.save(path)
    return den, path


@pytest.fixture
def auto_photo_model(tiny, monkeypatch):
    """`aekit denoise`'s auto choice takes the tiny model as the bundled photo denoiser."""
    import aekit.cli.denoise_photos

    monkeypatch.setattr(aekit.cli.denoise_photos, "PHOTO_MODEL", str(tiny[1]))


def test_noise_range_draws_one_sigma_per_sample():
    noise = parse_noise("gaussian:0-0.2")
    assert str(noise) == "gaussian:0-0.2" and parse_noise("gaussian:0.1").high is None
    x = torch.zeros(400, 1, 16, 16)
    sigmas = noise.apply(x, torch.Generator().manual_seed(0), clip=False).flatten(1).std(1)
    assert 0 <= sigmas.min() < 0.02 and 0.18 < sigmas.max() <= 0.21
    assert abs(float(sigmas.mean()) - 0.1) < 0.01  # uniform on [0, 0.2]
    for bad, words in (("gaussian:0.2-0.1", "below"), ("masking:0-0.1", "gaussian")):
        with pytest.raises(ValueError, match=words):
            parse_noise(bad)


def test_network_any_size_and_folded_batch_norm():
    torch.manual_seed(0)
    net = ImageDenoiserNet(ImageDenoiserConfig(features=6, depth=4))
    net.train()
    net(torch.rand(8, 1, 16, 16))  # batch norm statistics that are not the identity
    net.eval()
    x = torch.rand(2, 1, 30, 42)
    with torch.no_grad():
        assert torch.allclose(fold_batch_norm(net)(x), net(x), atol=1e-5)
    assert net(x).shape == x.shape
    with pytest.raises(ValueError, match="depth"):
        ImageDenoiserConfig(features=4, depth=1)
    with pytest.raises(ValueError, match="unshuffle must be 1, 2 or 4"):
        ImageDenoiserConfig(features=4, depth=3, unshuffle=3)
    with pytest.raises(ValueError, match="unshuffle must be 1, 2 or 4"):
        ImageDenoiser(features=4, depth=3, unshuffle=3, patch_size=12, patches=4,
                      epochs=1).fit([smooth_image(24, 24)])


def test_deepen_inserts_identity_layers_and_fit_starts_from_the_deepened_network():
    from aekit.nn.image_denoiser import deepen

    torch.manual_seed(0)
    net = ImageDenoiserNet(ImageDenoiserConfig(features=5, depth=4, unshuffle=1,
                                               batch_norm=False))
    for m in net.body:  # not the identity: a trained-looking network
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, std=0.3)
            torch.nn.init.normal_(m.bias, std=0.1)
    x = torch.rand(3, 1, 20, 26)
    with torch.no_grad():
        for depth in (4, 5, 8):
            deeper = deepen(net, depth)
            convs = [m for m in deeper.body if isinstance(m, torch.nn.Conv2d)]
            assert deeper.config.depth == depth == len(convs)
            assert torch.allclose(deeper(x), net(x), atol=1e-6)
    assert deepen(net, np.int64(6)).config.depth == 6
    for bad_depth in (3, 4.0, True):
        with pytest.raises(ValueError, match="depth must be an integer at least"):
            deepen(net, bad_depth)
    shallow = ImageDenoiserNet(ImageDenoiserConfig(features=5, depth=2, unshuffle=1,
                                                   batch_norm=False))
    torch.nn.init.normal_(shallow.body[-2].weight, std=0.3)  # the last convolution
    with torch.no_grad():
        assert torch.allclose(deepen(shallow, 4)(x), shallow(x), atol=1e-6)
    with pytest.raises(ValueError, match="batch norm"):
        deepen(ImageDenoiserNet(ImageDenoiserConfig(features=5, depth=4)), 6)
    # fit(net_init=...): training starts from the deepened network (a learning rate too
    # small to move it leaves its outputs), and a mismatched network is refused
    images = [smooth_image(40, 40)]
    kw = dict(features=5, unshuffle=1, batch_norm=False, patches=16, patch_size=16, epochs=1,
              batch_size=8, device="cpu")
    den = ImageDenoiser(depth=6, lr=1e-12, **kw).fit(images, net_init=net)
    assert den.net_.config.depth == 6
    with torch.no_grad():
        assert torch.allclose(den.net_(x), net(x), atol=1e-5)
    scratch = ImageDenoiser(depth=6, lr=1e-12, **kw).fit(images)
    with torch.no_grad():
        assert not torch.allclose(scratch.net_(x), net(x), atol=1e-3)
    assert den.summary_["deepened_from"] == 4 and "deepened_from" not in scratch.summary_
    assert any("starting from a 4-layer network" in line for line in den.describe())
    for bad, words in ((dict(features=6), "features=5"), (dict(depth=3), "depth must be"),
                       (dict(batch_norm=True), "batch norm")):
        with pytest.raises(ValueError, match=words):
            ImageDenoiser(**{**kw, "depth": 6, **bad}).fit(images, net_init=net)
    with pytest.raises(ValueError, match="net_init must be an ImageDenoiserNet"):
        ImageDenoiser(**{**kw, "depth": 6}).fit(images, net_init=den)


def test_a_file_from_before_colour_self_ensemble_flips_colour_as_it_did(tiny):
    """Files written before the parameter flipped a colour image's luminance
    ``self_ensemble`` times: they still do."""
    den = tiny[0]
    doc, tensors = den.get_state()
    for k in (1, 4):
        old = {**doc, "params": {p: v for p, v in {**doc["params"], "self_ensemble": k}.items()
                                 if p != "colour_self_ensemble"}}
        assert ImageDenoiser.from_state(old, tensors, device="cpu").colour_self_ensemble == k
    assert ImageDenoiser.from_state(doc, tensors, device="cpu").colour_self_ensemble == 2


def test_a_files_bad_self_ensemble_is_refused_on_loading_naming_the_file(tmp_path, tiny):
    den, _ = tiny
    doc, tensors = den.get_state()
    doc["params"]["self_ensemble"] = 3
    path = tmp_path / "bad.safetensors"
    write_model_file(path, doc, tensors)
    Image.fromarray((smooth_image(30, 30) * 255).astype(np.uint8)).save(tmp_path / "a.png")
    for args in (("info", path), ("denoise", tmp_path / "a.png", "--model", path)):
        r = run(*args)
        assert r.exit_code == 1 and "Traceback" not in r.output
        assert str(path) in r.output and "self_ensemble must be one of" in r.output
        assert len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "a.denoised.png").exists()
    with pytest.raises(ValueError, match="self_ensemble"):
        ImageDenoiser(**{**den.get_params(), "self_ensemble": 3}).get_state(net=den.net_)
    lines = den.describe()
    assert any("each tile cleaned in 4 flips and averaged" in line for line in lines)


def test_noise_weighted_loss_divides_each_patchs_error_by_its_noise_level():
    from aekit.nn.image_denoiser import NoiseWeightedLoss

    torch.manual_seed(0)
    net = ImageDenoiserNet(ImageDenoiserConfig(features=4, depth=3, unshuffle=1,
                                               batch_norm=False))
    torch.nn.init.normal_(net.body[-2].weight, std=0.1)  # not the identity
    clean = torch.rand(6, 1, 12, 12)
    noise = parse_noise("gaussian:0-0.2")
    for p in (1.0, 2.0):
        loss = NoiseWeightedLoss(noise, p)
        noisy, target = loss.validation_inputs(clean, torch.Generator().manual_seed(1))
        assert torch.equal(target, clean) and not torch.equal(noisy, clean)
        assert 0 <= float(noisy.min()) and float(noisy.max()) <= 1  # clipped, as in training
        with torch.no_grad():
            left = ((net(noisy) - clean) ** 2).flatten(1).mean(1)
            given = ((noisy - clean) ** 2).flatten(1).mean(1)
            want = (left / (given + (5 / 255) ** 2) ** (p / 2)).sum()
            assert torch.allclose(loss.validation_loss(net, noisy, clean), want)
    with pytest.raises(ValueError, match="noise_weighting"):
        ImageDenoiser(noise_weighting=-1, patches=4, patch_size=8, epochs=1).fit(
            [smooth_image(16, 16)])


def test_a_noise_weighted_fit_trains_on_the_weighted_loss(tmp_path):
    """fit(noise_weighting=1) minimises NoiseWeightedLoss (its validation loss is that loss
    on the validation patches, not their plain MSE), and the file keeps the weighting."""
    from aekit import load

    kw = dict(features=4, depth=3, patches=64, patch_size=16, epochs=2, batch_size=16,
              tile=64, device="cpu", validation_patches=32)
    imgs = [smooth_image(40, 48), smooth_image(40, 40, seed=6)]
    plain = ImageDenoiser(**kw).fit(imgs, validation_images=imgs[:1])
    weighted = ImageDenoiser(**kw, noise_weighting=1).fit(imgs, validation_images=imgs[:1])
    # the same net and noise: the weighted loss is the MSE over (noise level + 5/255), so
    # several times larger than the plain one's on these patches
    assert all(np.isfinite(weighted.history_["val_loss"]))
    assert weighted.history_["val_loss"][-1] > 3 * plain.history_["val_loss"][-1]
    weighted.save(tmp_path / "w.safetensors")
    back = load(tmp_path / "w.safetensors")
    assert back.noise_weighting == 1
    assert any("power -1" in line for line in back.describe())


def test_tiles_give_the_untiled_result(tiny):
    den = tiny[0]
    img = smooth_image(150, 171, 3, seed=2)
    tiled = den.denoise(img)
    den.tile = 1024
    try:
        whole = den.denoise(img)
    finally:
        den.tile = 64
    assert tiled.shape == img.shape and np.abs(tiled - whole).max() < 1e-4
    grey = den.denoise(img[:, :, 0])
    assert grey.shape == (150, 171)


@pytest.mark.parametrize("depth,unshuffle", [(8, 1), (4, 2), (2, 4), (3, 4)])
def test_tiles_join_exactly_when_the_margin_equals_the_reach(depth, unshuffle):
    """Random (far from identity) networks whose reach is a multiple of 8, so the margin is
    exactly the reach: 64-pixel tiles give the one-tile result."""
    torch.manual_seed(depth)
    net = ImageDenoiserNet(ImageDenoiserConfig(4, depth, unshuffle, False, True))
    torch.nn.init.normal_(net.body[-2].weight, std=0.3)  # He-initialised, last not zero
    den = ImageDenoiser(features=4, depth=depth, unshuffle=unshuffle, tile=64,
                        self_ensemble=1, device="cpu")
    den.net_, den._fast = net.eval(), None
    plane = np.random.default_rng(depth).random((150, 171)).astype(np.float32)
    tiled = den.denoise(plane)
    den.tile, den._fast = 1024, None
    whole = den.denoise(plane)
    assert np.abs(whole - plane).max() > 0.1  # not the identity
    assert np.abs(tiled - whole).max() < 1e-4


def test_self_ensemble_averages_the_flips_of_the_luminance(tiny):
    """self_ensemble=4 is the mean of one pass over the four flips on a grey image; a
    colour image's luminance gets colour_self_ensemble flips (2 by default: as it is and
    turned 180 degrees), its two chroma channels one pass."""
    from aekit.photos import from_opponent, to_opponent

    den = tiny[0]
    assert (den.self_ensemble, den.colour_self_ensemble) == (4, 2)
    one = ImageDenoiser(**{**den.get_params(), "self_ensemble": 1})
    one.net_, one._fast = den.net_, None
    flips = (lambda a: a, lambda a: a[::-1, ::-1], lambda a: a[:, ::-1], lambda a: a[::-1])

    def flips_mean(plane, k):
        return np.mean([f(one.denoise(np.ascontiguousarray(f(plane)))) for f in flips[:k]],
                       axis=0)

    grey = smooth_image(70, 90, seed=4)
    np.testing.assert_allclose(den.denoise(grey), flips_mean(grey, 4), atol=1e-5)
    assert np.abs(den.denoise(grey) - one.denoise(grey)).max() > 1e-4  # the flips differ
    colour = smooth_image(70, 90, 3, seed=5)
    opp = to_opponent(colour)
    try:
        for k in (2, 4):
            den.colour_self_ensemble = k
            want = from_opponent(np.stack([flips_mean(opp[:, :, 0], k),
                                           one.denoise_plane(opp[:, :, 1]),
                                           one.denoise_plane(opp[:, :, 2])], axis=2))
            np.testing.assert_allclose(den.denoise(colour), want, atol=1e-5)
    finally:
        den.colour_self_ensemble = 2
    assert np.abs(den.denoise_plane(opp[:, :, 0], flips=4)
                  - den.denoise_plane(opp[:, :, 0], flips=2)).max() > 1e-5
    for bad in (3, 8, 0, True, "4"):
        with pytest.raises(ValueError, match="self_ensemble must be one of"):
            one.set_params(self_ensemble=bad).denoise(grey)
        with pytest.raises(ValueError, match="colour_self_ensemble must be one of"):
            one.set_params(self_ensemble=1, colour_self_ensemble=bad).denoise(colour)
        with pytest.raises(ValueError, match="flips must be one of"):
            one.set_params(colour_self_ensemble=2).denoise_plane(grey, flips=bad)


def test_integer_pixels_are_refused_not_read_as_floats(tiny):
    """uint8 values 0..255 taken as [0, 1] would be clipped to a white image: refused."""
    den = tiny[0]
    img = smooth_image(40, 44)
    for ints in ((img * 255).astype(np.uint8), (img * 65535).astype(np.uint16),
                 (img * 255).astype(np.int64), img > 0.5):
        with pytest.raises(ValueError, match="must be floats in \\[0, 1\\]"):
            den.denoise(ints)
    assert den.denoise(img.astype(np.float64)).dtype == np.float32


def test_unclipped_noise_is_cleaned_as_the_clipped_noise_it_was_trained_on(tiny):
    den = tiny[0]
    rng = np.random.default_rng(0)
    for img in (smooth_image(40, 44), smooth_image(40, 44, 3, seed=3)):
        noisy = img + rng.normal(0, 0.3, img.shape)  # well outside [0, 1]
        assert noisy.min() < -0.5 and noisy.max() > 1.5
        np.testing.assert_array_equal(den.denoise(noisy), den.denoise(np.clip(noisy, 0, 1)))


def test_model_file_round_trip_and_info(tiny):
    den, path = tiny
    from aekit import load

    back = load(path)
    img = smooth_image(33, 35)
    np.testing.assert_allclose(back.denoise(img), den.denoise(img), atol=1e-6)
    r = run("info", path)
    assert r.exit_code == 0 and "ImageDenoiser" in r.output and "parameters" in r.output
    r = run("models")
    assert "photo-denoiser" in r.output


def test_the_bundled_models_figures_read_as_figures():
    import re

    r = run("models")
    measured = [line for line in r.output.splitlines() if "measured:" in line]
    assert measured and not any(c in line for line in measured for c in "[]{}'")
    assert not re.search(r"\d\.\d{5,}", "\n".join(measured))  # no 14-digit floats
    r = run("info", "photo-denoiser")
    assert "validation PSNR at sigma 25/255 (dB" in r.output and '"validation"' not in r.output


MODES = [
    ("L", lambda: (smooth_image(60, 70) * 255).astype(np.uint8)),
    ("I;16", lambda: (smooth_image(60, 70) * 4095).astype(np.uint16)),  # 12 bits in 16
    ("RGB", lambda: (smooth_image(60, 70, 3) * 255).astype(np.uint8)),
    ("RGBA", lambda: (smooth_image(60, 70, 4) * 255).astype(np.uint8)),
    ("LA", lambda: (smooth_image(60, 70, 2) * 255).astype(np.uint8)),
]


@pytest.mark.parametrize("mode,make", MODES, ids=[m for m, _ in MODES])
def test_modes_and_bit_depths_come_back_as_they_were(tmp_path, tiny, mode, make):
    a = make()
    im = Image.fromarray(a) if mode in ("L", "I;16", "RGB", "RGBA") else \
        Image.merge("LA", [Image.fromarray(a[:, :, 0]), Image.fromarray(a[:, :, 1])])
    src = tmp_path / "in.png"
    im.save(src)
    mode_in = Image.open(src).mode
    r = run("denoise", src, "--model", tiny[1], "-o", tmp_path / "out.png", "-q")
    assert r.exit_code == 0, r.output
    out = Image.open(tmp_path / "out.png")
    assert out.mode == mode_in and out.size == (70, 60)
    if mode in ("RGBA", "LA"):  # alpha carried through untouched
        np.testing.assert_array_equal(np.asarray(out.getchannel("A")),
                                      np.asarray(Image.open(src).getchannel("A")))
    if mode == "I;16":  # a 12-bit scan stays in its 12-bit range
        assert np.asarray(out).max() <= 4095 and np.asarray(out).max() > 2000


def test_a_transparent_colour_comes_back_as_alpha_and_what_cannot_is_refused(tmp_path,
                                                                           tiny):
    """PNG's tRNS (one transparent colour) was dropped silently: it comes back as the
    alpha channel it stands for. A 16-bit grey level made transparent, and 32-bit
    integers beyond 16 bits (they were clipped), are refused in one line."""
    rgb = (smooth_image(40, 50, 3) * 200 + 20).astype(np.uint8)
    rgb[:10, :12] = (0, 255, 0)
    Image.fromarray(rgb).save(tmp_path / "key.png", transparency=(0, 255, 0))
    grey = (smooth_image(40, 50) * 200 + 20).astype(np.uint8)
    grey[:8, :9] = 0
    Image.fromarray(grey).save(tmp_path / "keyg.png", transparency=0)
    for name, mode, hidden in (("key.png", "RGBA", 120), ("keyg.png", "LA", 72)):
        r = run("denoise", tmp_path / name, "--model", tiny[1], "-o", tmp_path / f"o_{name}",
                "-q")
        assert r.exit_code == 0, r.output
        out = Image.open(tmp_path / f"o_{name}")
        assert out.mode == mode and (np.asarray(out.getchannel("A")) == 0).sum() == hidden
    Image.fromarray((smooth_image(40, 50) * 4000).astype(np.uint16)).save(
        tmp_path / "key16.png", transparency=0)
    Image.fromarray((smooth_image(40, 50) * 200_000).astype(np.int32)).save(tmp_path / "i32.tif")
    for name, words in (("key16.png", "a 16-bit greyscale image with a transparent grey level"),
                        ("i32.tif", "beyond 16 bits (0 to 65535)")):
        r = run("denoise", tmp_path / name, "--model", tiny[1], "-o", tmp_path / "o.png")
        assert r.exit_code == 1 and words in r.output and not (tmp_path / "o.png").exists()
        assert len(r.output.strip().splitlines()) == 1, r.output


def test_a_phones_mpo_photo_is_denoised_from_its_first_image(tmp_path, tiny):
    rgb = (smooth_image(40, 50, 3) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "p.jpg", format="MPO", save_all=True,
                              append_images=[Image.fromarray(rgb[:20, :30])])
    r = run("denoise", tmp_path / "p.jpg", "--model", tiny[1], "-o", tmp_path / "o.png", "-q")
    assert r.exit_code == 0, r.output
    assert "the first of its 2 images (MPO" in r.stderr
    out = Image.open(tmp_path / "o.png")
    assert out.mode == "RGB" and out.size == (50, 40)


def test_a_16_bit_grey_image_with_alpha_is_refused_as_such(tmp_path, tiny):
    import struct
    import zlib

    h, w = 30, 40  # a 16-bit grey + alpha PNG (colour type 4), which Pillow opens as RGBA
    rows = b"".join(b"\x00" + np.stack([np.full(w, 30000, ">u2"), np.full(w, 65535, ">u2")],
                                       1).tobytes() for _ in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    (tmp_path / "la16.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    r = run("denoise", tmp_path / "la16.png", "--model", tiny[1], "-o", tmp_path / "o.png")
    assert r.exit_code == 1 and not (tmp_path / "o.png").exists()
    assert "16-bit greyscale images with alpha are not supported" in r.output
    assert "save it without alpha as 16-bit greyscale, or as 8-bit" in r.output


def test_a_photos_colour_profile_comes_back(tmp_path, tiny):
    """A phone's wide-gamut photo shifts colour when its ICC profile is dropped: the
    result carries the input's profile."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = (smooth_image(40, 50, 3) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "p.png", icc_profile=profile)
    Image.fromarray(rgb).save(tmp_path / "plain.png")
    for name, kept in (("p.png", profile), ("plain.png", None)):
        r = run("denoise", tmp_path / name, "--model", tiny[1], "-o", tmp_path / f"o_{name}",
                "-q")
        assert r.exit_code == 0, r.output
        assert Image.open(tmp_path / f"o_{name}").info.get("icc_profile") == kept


def test_refusals_are_one_line_and_write_nothing(tmp_path, tiny):
    pal = Image.fromarray((smooth_image(40, 40, 3) * 255).astype(np.uint8)).convert("P")
    pal.save(tmp_path / "pal.png")
    frames = [Image.fromarray((smooth_image(30, 30, seed=s) * 255).astype(np.uint8))
              for s in range(3)]
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:])
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    Image.fromarray((smooth_image(40, 40) * 255).astype(np.uint8)).save(tmp_path / "good.png")
    for bad, words in (("pal.png", "palette"), ("pages.tif", "3 frames"),
                       ("junk.png", "not an image")):
        r = run("denoise", tmp_path / "good.png", tmp_path / bad, "--model", tiny[1],
                "--out-dir", tmp_path / "out")
        assert r.exit_code == 1, r.output
        assert words in r.output and "Traceback" not in r.output
        assert len(r.output.strip().splitlines()) == 1, r.output
        assert not (tmp_path / "out").exists()
    # the bundled models chosen by size: the choice is said only once the inputs are read
    big = Image.fromarray((smooth_image(150, 160, 3) * 255).astype(np.uint8)).convert("P")
    big.save(tmp_path / "bigpal.png")
    r = run("denoise", tmp_path / "bigpal.png", "-o", tmp_path / "o.png")
    assert r.exit_code == 1 and r.output.startswith("Error: ") and "palette" in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_auto_choice_is_said_and_a_forced_digit_model_still_warns(tmp_path, auto_photo_model,
                                                                  mnist_small):
    digit = mnist_small[2][0].reshape(28, 28)
    Image.fromarray((digit * 255).astype(np.uint8)).save(tmp_path / "digit.png")
    Image.fromarray((smooth_image(120, 160, 3) * 255).astype(np.uint8)).save(tmp_path / "p.png")
    r = run("denoise", tmp_path / "digit.png", tmp_path / "p.png", "--out-dir", tmp_path / "o",
            "-q")
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stderr.splitlines() if x.startswith("model for")]
    assert len(lines) == 2 and "mnist-denoiser" in lines[0]
    assert "tiny.safetensors" in lines[1] and "not a digit" in lines[1]
    assert Image.open(tmp_path / "o" / "p.denoised.png").mode == "RGB"
    assert Image.open(tmp_path / "o" / "p.denoised.png").size == (160, 120)
    r = run("denoise", tmp_path / "p.png", "--model", "mnist-denoiser", "-o",
            tmp_path / "forced.png", "-q")
    assert r.exit_code == 0 and "does not look like the digits" in r.stderr
    assert "model for" not in r.stderr  # --model chooses: nothing to announce
    import skimage.data  # a real photo, which the digit model's own check would let pass

    Image.fromarray(skimage.data.camera()[:200, :220]).save(tmp_path / "camera.png")
    r = run("denoise", tmp_path / "camera.png", "-o", tmp_path / "c.png", "-q")
    assert r.exit_code == 0 and "tiny.safetensors (auto:" in r.stderr, r.output


def test_a_small_photo_fading_into_transparency_goes_to_the_photo_denoiser(
        tmp_path, auto_photo_model, mnist_small):
    """Helper-55: a 96x96 camera crop whose alpha ramps from left to right was flattened
    onto paper, taken for a digit and turned into one, with no word. The auto choice now
    asks the alpha channel to look like a digit's strokes too; a digit drawn on a
    transparent background (its strokes in the alpha channel) still goes to the digit
    model."""
    import skimage.data
    from scipy import ndimage

    ramp = np.tile(np.linspace(0, 255, 96), (96, 1)).astype(np.uint8)
    rng = np.random.default_rng(0)  # the helper's picture: a noisy crop
    crop = np.clip(skimage.data.camera()[:96, :96] + rng.normal(0, 20, (96, 96)), 0, 255)
    crop = crop.astype(np.uint8)
    Image.fromarray(np.dstack([crop, ramp]), "LA").save(tmp_path / "fading.png")
    ink = ndimage.zoom(mnist_small[2][0].reshape(28, 28), 3, order=1).clip(0, 1)
    strokes = np.zeros((84, 84, 4), np.uint8)  # black ink; the paper fully transparent
    strokes[..., 3] = (ink * 255).astype(np.uint8)
    Image.fromarray(strokes, "RGBA").save(tmp_path / "drawn.png")
    r = run("denoise", tmp_path / "fading.png", tmp_path / "drawn.png", "--out-dir",
            tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stderr.splitlines() if x.startswith("model for")]
    assert "tiny.safetensors" in lines[0] and "transparency does not look like" in lines[0]
    assert "mnist-denoiser (auto: it looks like a digit" in lines[1]
    out = Image.open(tmp_path / "o" / "fading.denoised.png")
    assert out.mode == "LA" and np.array_equal(np.asarray(out)[..., 1], ramp)  # alpha kept


def write_folder(folder, n=4):
    folder.mkdir()
    (folder / "sub").mkdir()
    for i in range(n):
        a = (smooth_image(48, 56, 3 if i % 2 else None, seed=i) * 255).astype(np.uint8)
        Image.fromarray(a).save(folder / ("sub" if i == 3 else ".") / f"i{i}.png")
    return folder


TRAIN = ["--channels", 4, "--patches", 24, "--patch-size", 16, "--batch-size", 8, "-q"]


def test_train_images_interrupted_resumes_to_the_same_model(tmp_path, monkeypatch):
    from aekit import load
    from aekit.checkpoint import Checkpointer

    images = write_folder(tmp_path / "imgs")
    r = run("train", "--images", images, *TRAIN, "--epochs", 2, "-o", tmp_path / "full.safetensors")
    assert r.exit_code == 0, r.output
    assert "validation PSNR" in r.output and "wavelet" in r.output
    assert not (tmp_path / "full.ckpt.safetensors").exists()  # removed once the model is saved

    write = Checkpointer.__call__

    def interrupt_after_first(self, trainer, report):
        write(self, trainer, report)
        raise KeyboardInterrupt

    monkeypatch.setattr(Checkpointer, "__call__", interrupt_after_first)
    out, ckpt = tmp_path / "cut.safetensors", tmp_path / "cut.ckpt.safetensors"
    r = run("train", "--images", images, *TRAIN, "--epochs", 2, "-o", out)
    assert r.exit_code == 130 and "Continue with: aekit train --resume" in r.output
    assert ckpt.exists() and not out.exists()
    info = run("info", ckpt).output
    assert "training: 1 epoch on patches of 16x16" in info and "resumable after epoch 1" in info
    monkeypatch.setattr(Checkpointer, "__call__", write)
    # a damaged count of seconds is refused in one line, as in a table's checkpoint
    doc, tensors = read_model_file(ckpt)
    write_model_file(tmp_path / "odd.ckpt.safetensors", {
        **doc, "training_state": {**doc["training_state"], "seconds": -1}}, tensors)
    r = run("train", "--resume", tmp_path / "odd.ckpt.safetensors", "-o", out, "-q")
    assert r.exit_code == 1 and "training_state.seconds" in r.output and not out.exists()
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    # and so is a damaged optimiser or schedule state, before any training
    state = doc["training_state"]
    step = next(k for k in tensors if k.startswith("train.optim.") and k.endswith(".step"))
    for changes, more, words in (
            ({"optimizer_param_groups": [{**state["optimizer_param_groups"][0], "lr": 0}]},
             {}, "optimiser's rate"),
            ({"scheduler": {**state["scheduler"], "best": "low"}}, {}, "schedule's state"),
            ({}, {step: np.array(np.nan, np.float32)}, "optimiser tensor")):
        write_model_file(tmp_path / "odd.ckpt.safetensors",
                         {**doc, "training_state": {**state, **changes}}, {**tensors, **more})
        r = run("train", "--resume", tmp_path / "odd.ckpt.safetensors", "-o", out, "-q")
        assert r.exit_code == 1 and words in r.output and not out.exists(), r.output
        assert len(r.output.strip().splitlines()) == 1 and "Resuming" not in r.output
    r = run("train", "--resume", ckpt, "-o", out, "-q")
    assert r.exit_code == 0, r.output
    assert f"Resuming {ckpt} after epoch 1." in r.output and not ckpt.exists()
    a, b = load(tmp_path / "full.safetensors"), load(out)
    for (k, x), y in zip(a.net_.state_dict().items(), b.net_.state_dict().values()):
        assert torch.allclose(x, y, atol=1e-5), k


def test_train_images_on_one_image_says_there_is_no_validation_report(tmp_path):
    from aekit.image_training import report_table

    assert report_table([]) == []
    one = tmp_path / "one"
    one.mkdir()
    Image.fromarray((smooth_image(40, 48) * 255).astype(np.uint8)).save(one / "a.png")
    r = run("train", "--images", one, *TRAIN, "--epochs", 1, "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 0, r.output
    assert "no validation images: no PSNR to report" in r.output
    assert "validation PSNR (dB" not in r.output


def test_train_images_refuses_unreadable_files_and_foreign_options(tmp_path):
    images = write_folder(tmp_path / "imgs")
    (images / "sub" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    r = run("train", "--images", images, *TRAIN, "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 1 and "broken.jpg" in r.output
    assert len(r.output.strip().splitlines()) == 1 and not (tmp_path / "m.safetensors").exists()
    r = run("train", "--images", images, "--digits", "1", "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 2 and "--digits does not apply to --images" in r.output
    r = run("train", "--patches", 10, "-o", tmp_path / "m.safetensors")
    assert r.exit_code == 2 and "--patches applies to --images" in r.output
    r = run("train", "--images", images, "--noise", "gaussian:0.3-0.1", "-o", tmp_path / "m")
    assert r.exit_code == 2 and "LO must be below HI" in r.output


def test_protocol_d2_code_on_small_crops(monkeypatch, tiny):
    import aekit.evaluation.denoise_images as d2

    crops = {"camera": smooth_image(40, 40), "moon": smooth_image(40, 40, seed=3)}
    monkeypatch.setattr(d2, "held_out_images", lambda colour=False: crops)
    result = d2.protocol_d2({"aekit": tiny[0].denoise}, sigmas=(25,), with_bm3d=False)
    doc = result.to_dict()
    json.dumps(doc)
    means = {(m["protocol"], m["method"]): m["psnr"] for m in doc["means"]}
    assert {"noisy", "median 3x3", "TV (Chambolle)", "wavelet (BayesShrink)", "NL-means",
            "aekit"} == {m for _, m in means}
    assert means[("clipped", "NL-means")] > means[("clipped", "noisy")] + 3
    assert "BM3D" not in result.table() and "camera" in result.table()


def test_protocol_d2_picture_shows_a_noise_level_that_was_run(monkeypatch, tiny, tmp_path):
    """Helper-58: `evaluate denoise --images --sigma 50` computed for a minute, printed its
    table, then failed drawing its picture at sigma 25, which was not run (nothing written)."""
    from PIL import Image

    import aekit.evaluation.denoise_images as d2

    crops = {"camera": smooth_image(40, 40)}
    monkeypatch.setattr(d2, "held_out_images", lambda colour=False: crops)
    result = d2.protocol_d2({"aekit": tiny[0].denoise}, sigmas=(50,), with_bm3d=False)
    d2.picture(result, tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").size[0] > 100


def test_the_bundled_photo_denoiser_cleans_a_photo_crop():
    """A crop of a training-side image (brick) at sigma 25: cleaner, same shape; clean
    pixels come back close to themselves (the figures are in BENCHMARKS.md)."""
    import skimage.data

    from aekit import load_pretrained

    den = load_pretrained("photo-denoiser", device="cpu")
    clean = skimage.data.brick()[:96, :96] / 255.0
    noisy = clean + np.random.default_rng(0).standard_normal(clean.shape) * 25 / 255
    out = den.denoise(noisy)
    mse = lambda a: float(np.mean((np.clip(a, 0, 1) - clean) ** 2))  # noqa: E731
    assert out.shape == clean.shape and mse(out) < mse(noisy) / 3
    assert mse(den.denoise(clean)) < mse(noisy) / 10


def test_help_mentions_photos():
    r = run("denoise", "--help")
    assert r.exit_code == 0 and "photo-denoiser" in r.output
    r = run("evaluate", "denoise", "--help")
    assert r.exit_code == 0 and "--images" in r.output
    r = run("train", "--help")
    assert r.exit_code == 0 and "--images" in r.output and "--patch-size" in r.output


def test_validation_images_too_small_for_a_patch_are_named_as_such():
    """Helper-55: when the split drew a 1x1 image for validation, `train --images` said "no
    image is at least 8x8 pixels" of images that were 80-96 px: the error now says which
    images were too small."""
    from aekit.errors import DataError

    den = ImageDenoiser(features=4, depth=3, patches=16, patch_size=16, epochs=1,
                        batch_size=8, device="cpu")
    with pytest.raises(DataError, match="no validation image is at least 16x16 pixels: lower "
                                        "patch_size, or give larger validation images"):
        den.fit([smooth_image(40, 48)], validation_images=[smooth_image(8, 8)])
    with pytest.raises(DataError, match="^no image is at least 16x16 pixels: lower patch_size$"):
        den.fit([smooth_image(8, 8)])
