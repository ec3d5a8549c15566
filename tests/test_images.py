"""Reading images of every kind, and MNIST's 28x28 frame there and back."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from aekit import images
from aekit.errors import DataError


def digit(seed=0):
    """A synthetic 'digit': a thick ring with a bar, light on black, 28x28."""
    yy, xx = np.mgrid[:28, :28]
    r = np.hypot(yy - 13.5, xx - 14)
    d = ((r > 5) & (r < 8.5)).astype(np.float32)
    d[4:24, 20:23] = 1.0
    return d


def scan(side=112, paper=0.95, ink=0.1):
    """The digit enlarged onto light paper with dark ink, off-centre like a real scan."""
    size = (side * 3 // 5,) * 2
    big = np.asarray(Image.fromarray(digit()).resize(size, Image.Resampling.BILINEAR))
    out = np.zeros((side, side), np.float32)
    out[side // 5:side // 5 + big.shape[0], side // 4:side // 4 + big.shape[1]] = big
    return paper + out * (ink - paper)


def png_bytes(im, **kw):
    buf = io.BytesIO()
    im.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def bomb_png(width=30000, height=30000):
    """A tiny PNG whose header claims a huge size (a decompression bomb's calling card)."""
    data = bytearray(png_bytes(Image.new("L", (8, 8))))
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes of fields
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


def test_modes_read_the_same_luminance(tmp_path):
    g = (digit() * 200 + 20).astype(np.uint8)
    L = Image.fromarray(g, mode="L")
    variants = {
        "l.png": L, "rgb.png": L.convert("RGB"), "p.png": L.convert("P"),
        "bmp.bmp": L.convert("RGB"), "rgba.png": L.convert("RGBA"),
        "la.png": L.convert("LA"),
        "i16.png": Image.fromarray(g.astype(np.uint16) * 257),
    }
    for name, im in variants.items():
        im.save(tmp_path / name)
        out = images.read_image(tmp_path / name)
        assert out.dtype == np.float32 and out.shape == (28, 28), name
        np.testing.assert_allclose(out, g / 255.0, atol=1.5 / 255, err_msg=name)
    L.save(tmp_path / "j.jpg", quality=95)
    assert np.abs(images.read_image(tmp_path / "j.jpg") - g / 255.0).mean() < 0.02


def test_sixteen_bit_keeps_precision(tmp_path):
    a = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16  # 65536 distinct-ish levels
    Image.fromarray(a).save(tmp_path / "a.png")
    out = images.read_image(tmp_path / "a.png")
    assert len(np.unique(out)) > 4000  # far more than 8 bits would give
    np.testing.assert_allclose(out, a / 65535.0, atol=1e-6)


def test_depths_read_into_an_8_bit_result_are_noted_and_non_finite_values_refused(tmp_path):
    """A digit model's result is 8-bit: a 16-bit or float picture is noted as such (float
    levels outside [0, 1] were rescaled silently); NaN (read as 0) and negative integers
    (clipped) are refused."""
    a = np.arange(28 * 28, dtype=np.float64).reshape(28, 28) / (28 * 28)
    Image.fromarray((a * 65535).astype(np.uint16)).save(tmp_path / "d16.png")
    Image.fromarray((a * 4).astype(np.float32)).save(tmp_path / "f.tif")
    Image.fromarray(a.astype(np.float32)).save(tmp_path / "unit.tif")
    Image.fromarray((a * 255).astype(np.uint8)).save(tmp_path / "d8.png")
    for name, said in (("d16.png", "its 16-bit grey levels were read in [0, 1]; the result is "
                                   "8-bit"),
                       ("f.tif", "its float grey levels (0 to 3.99"),
                       ("unit.tif", "its float grey levels were read as they are"),
                       ("d8.png", None)):
        notes = []
        images.read_image(tmp_path / name, notes=notes)
        assert (notes == [] if said is None else said in " ".join(notes)), (name, notes)
    b = a.astype(np.float32)
    b[3, 3] = np.nan
    Image.fromarray(b).save(tmp_path / "nan.tif")
    Image.fromarray((a * 1000 - 10).astype(np.int32)).save(tmp_path / "neg.tif")
    for name, words in (("nan.tif", "NaN or infinite"), ("neg.tif", "negative values")):
        with pytest.raises(DataError, match=words):
            images.read_image(tmp_path / name)


def test_transparent_background_goes_behind_the_ink(tmp_path):
    d = digit()
    # dark ink on a transparent background: should read as dark ink on white paper
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = (d * 255).astype(np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "dark.png")
    out = images.read_image(tmp_path / "dark.png")
    assert images.is_dark_on_light(out)
    np.testing.assert_allclose(out, 1 - d, atol=1 / 255)
    # light ink on transparent: reads as light ink on black
    rgba[..., :3] = 255
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "light.png")
    out = images.read_image(tmp_path / "light.png")
    assert not images.is_dark_on_light(out)
    np.testing.assert_allclose(out, d, atol=1 / 255)


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"hello, this is not an image\n", "not an image"),
    (None, "truncated"),
    ("bomb", "too large"),
])
def test_bad_files_raise_one_clear_line(tmp_path, content, words):
    if content is None:
        noisy = np.random.RandomState(0).randint(0, 256, (200, 200), dtype=np.uint8)
        full = png_bytes(Image.fromarray(noisy))
        content = full[: len(full) // 2]
    elif content == "bomb":
        content = bomb_png()
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(DataError) as e:
        images.read_image(path)
    msg = str(e.value)
    assert words in msg and "\n" not in msg and "bad.png" in msg


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    Image.new("L", (300, 200)).save(tmp_path / "big.png")
    with pytest.raises(DataError, match="300x200 = 60,000 pixels; the limit is 50,000"):
        images.read_image(tmp_path / "big.png", max_pixels=50_000)
    # within Pillow's own bomb warning range: our limit answers, in one line
    bomb = bomb_png(12000, 12000)
    with pytest.raises(DataError, match="12000x12000"):
        images.read_image(bomb)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="not found"):
        images.read_image(tmp_path / "nope.png")
    with pytest.raises(DataError, match="folder"):
        images.read_image(tmp_path)


def test_polarity_detection():
    assert not images.is_dark_on_light(digit())
    assert images.is_dark_on_light(scan())
    assert images.is_dark_on_light(np.full((1, 1), 0.9, np.float32))


def test_28x28_frame_is_left_as_is():
    d = digit()
    frame, how = images.to_frame(d)
    assert not how.reframed and not how.invert
    np.testing.assert_array_equal(frame, d)
    np.testing.assert_array_equal(images.from_frame(frame, how), d)


def test_scan_is_normalised_like_mnist_and_mapped_back():
    s = scan()
    frame, how = images.to_frame(s)
    assert how.reframed and how.invert and how.shape == (112, 112)
    assert max(how.size) == images.BOX  # longer side scaled into the 20x20 box
    rows, cols = np.nonzero(frame > 0.3)
    assert 18 <= rows.max() - rows.min() + 1 <= 21
    mass = frame.sum()
    com = ((frame.sum(1) * np.arange(28)).sum() / mass, (frame.sum(0) * np.arange(28)).sum() / mass)
    assert np.allclose(com, images.CENTRE, atol=0.6)
    # the same digit at 28x28 and as a 112x112 scan lands in the same frame
    small, _ = images.to_frame(digit(), frame="always")
    assert np.mean((frame - small) ** 2) < 0.02
    back = images.from_frame(frame, how)
    assert back.shape == s.shape
    assert images.is_dark_on_light(back)
    assert np.abs(np.median(back) - 0.95) < 0.01  # the paper keeps its tone
    assert np.mean((back - s) ** 2) < 0.01


def test_tiny_and_very_wide_pictures_round_trip():
    rng = np.random.RandomState(0)
    for shape in [(1, 1), (2, 3), (5, 900), (900, 4)]:
        g = rng.rand(*shape).astype(np.float32)
        frame, how = images.to_frame(g)
        assert frame.shape == (28, 28) and np.isfinite(frame).all()
        back = images.from_frame(frame, how)
        assert back.shape == shape and np.isfinite(back).all()
    # a wide strip with one digit in it: the digit is found, not the whole strip
    strip = np.zeros((28, 280), np.float32)
    strip[:, 150:178] = digit()
    frame, how = images.to_frame(strip)
    top, left, h, w = how.box
    small, _ = images.to_frame(digit(), frame="always")
    assert 145 <= left and left + w <= 183 and np.mean((frame - small) ** 2) < 0.01


def test_mask_is_carried_into_the_frame():
    s = scan()
    mask = np.zeros(s.shape, bool)
    mask[40:60, 40:60] = True
    frame, how = images.to_frame(s, mask=mask)
    assert how.missing.shape == (28, 28) and 16 <= how.missing.sum() <= 100
    with pytest.raises(DataError, match="mask"):
        images.to_frame(s, mask=np.zeros((10, 10), bool))


def test_write_png_is_8_bit_grey(tmp_path):
    images.write_png(digit(), tmp_path / "d.png")
    im = Image.open(tmp_path / "d.png")
    assert im.mode == "L" and im.size == (28, 28)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_a_phones_mpo_file_is_read_as_its_first_image_and_said(tmp_path):
    """An MPO JPEG (a phone's photo with its depth map or stereo pair) was refused as a
    file of several frames: its first image is the photo, read with a note."""
    first = (np.arange(28 * 28).reshape(28, 28) % 251).astype(np.uint8)
    Image.fromarray(first).save(tmp_path / "p.jpg", format="MPO", save_all=True,
                                append_images=[Image.fromarray(255 - first)])
    notes = []
    gray = images.read_image(tmp_path / "p.jpg", notes=notes)
    assert np.abs(gray - first / 255.0).mean() < 0.03  # the first image (JPEG-rounded)
    assert notes == [f"{tmp_path / 'p.jpg'}: the first of its 2 images (MPO: a photo and its "
                     "depth map, stereo pair or preview) was read; the other left out"]
