"""Photos and scans in and out, keeping their mode and bit depth (Pillow does the I/O).

:func:`read_photo` turns an image file into float pixels in [0, 1], shape
``(height, width, channels)`` with 1 (grey) or 3 (RGB) channels, and remembers what
:func:`write_photo` needs to write the result back in the same form: 8- or 16-bit
greyscale, RGB, and greyscale or RGB with an alpha channel, which is carried through
untouched (a transparent colour, PNG's tRNS, comes back as the alpha channel it stands
for). What cannot come back in its own form is refused in one line: palette and
bilevel images, 16-bit colour (Pillow reads it as 8-bit), float, CMYK and other modes,
and files of several frames or pages (nothing is silently dropped).

Colour (:func:`to_opponent` / :func:`from_opponent`): an orthogonal luminance/chroma
transform, as CBM3D uses (Dabov et al., ICIP 2007), scaled into [0, 1]. Its rows are
orthogonal, so noise that is white and independent in R, G and B stays white and
independent in each new channel, at sigma times 0.577, 0.707 and 0.612: a greyscale
denoiser can clean each channel, and the luminance, where the detail is, is the least
noisy of them.
"""

import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError
from .images import MAX_FILE_BYTES, MAX_PIXELS, integer_range, mpo_note, refuse_misread_samples

FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "PPM")
SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".ppm", ".pgm")
# Pillow mode -> (channels, whether it has alpha); 16-bit modes are handled apart
MODES = {"L": (1, False), "LA": (1, True), "RGB": (3, False), "RGBA": (3, True)}
SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")

# orthogonal rows (Y, R - B, R - 2G + B), each scaled so that [0, 1]^3 maps into [0, 1]
OPPONENT = np.array([[1 / 3, 1 / 3, 1 / 3], [1 / 2, 0, -1 / 2], [1 / 4, -1 / 2, 1 / 4]],
                    dtype=np.float64)
OPPONENT_OFFSET = np.array([0.0, 0.5, 0.5])
# the noise sigma in each opponent channel, per unit of sigma in R, G and B
OPPONENT_NOISE = np.sqrt((OPPONENT ** 2).sum(axis=1))


@dataclass
class Photo:
    """An image read by :func:`read_photo`.

    ``pixels``: float32 ``(h, w, c)`` in [0, 1], c = 1 or 3; ``alpha``: the alpha channel
    as stored (uint8 or uint16 ``(h, w)``) or None; ``mode``: the Pillow mode to write back;
    ``scale``: the integer full scale (255, or 2**bits - 1 for 16-bit files, see
    :func:`aekit.images.integer_range`); ``name``: for messages; ``icc_profile``: the
    file's ICC colour profile, or None.
    """

    pixels: np.ndarray
    alpha: object
    mode: str
    scale: float
    name: str
    icc_profile: bytes = None  # the colour profile to write back (a phone's Display P3...)

    @property
    def bits(self):
        return 8 if self.scale <= 255 else 16

    def describe(self):
        """E.g. ``"640x480 RGB, 8-bit"``."""
        h, w = self.pixels.shape[:2]
        return f"{w}x{h} {self.mode if self.bits == 8 else 'greyscale'}, {self.bits}-bit"


def read_photo(source, max_pixels=MAX_PIXELS, notes=None):
    """Read an image file (path, ``"-"`` for stdin, or bytes) into a :class:`Photo`.
    ``notes`` (a list, or None) is given a line for what was left out: the other images of
    a phone's MPO file (its first, the photo, is read).

    Raises
    ------
    DataError
        One line naming the file: unreadable, too large, or of a mode or layout that
        could not be written back as it came (see the module's notes).
    """
    from PIL import Image, ImageOps

    name = "image bytes" if isinstance(source, bytes) else (
        "stdin" if str(source) == "-" else str(source))
    data = _read_bytes(source, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        try:
            im = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError:
            raise DataError(f"{name}: the image is far too large; not decoding it") from None
        except Image.UnidentifiedImageError:
            what = "the file is empty" if not data else \
                f"not an image aekit can read ({'/'.join(FORMATS)})"
            raise DataError(f"{name}: {what}") from None
        except (OSError, ValueError, SyntaxError) as e:
            raise DataError(f"{name}: cannot read the image ({_first_line(e)})") from None
        _check_layout(im, data, name, max_pixels)
        if im.format == "MPO" and notes is not None:
            notes.append(mpo_note(name, im))
        try:
            im.load()
            im = ImageOps.exif_transpose(im)  # phones store rotation in EXIF
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as e:
            raise DataError(f"{name}: the image data is truncated or corrupt "
                            f"({_first_line(e)})") from None
    return _to_photo(im, name)


def _read_bytes(source, name):
    if isinstance(source, bytes):
        return source
    if str(source) == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        path = Path(source)
        if path.is_dir():
            raise DataError(f"{path} is a folder, not an image")
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            raise DataError(f"file not found: {path}") from None
        except OSError as e:
            raise DataError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"{name}: more than {MAX_FILE_BYTES // 2**20} MiB; not an image to "
                        "denoise")
    return data


def _first_line(e):
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _check_layout(im, data, name, max_pixels):
    """Refuse, before decoding, what could not come back in its own form."""
    w, h = im.size
    if w < 1 or h < 1:
        raise DataError(f"{name}: the image is empty ({w}x{h} pixels)")
    if w * h > max_pixels:
        raise DataError(f"{name}: the image is {w}x{h} = {w * h:,} pixels; the limit is "
                        f"{max_pixels:,}")
    frames = getattr(im, "n_frames", 1)
    if frames > 1 and im.format != "MPO":  # MPO: a phone's photo, then its depth map...:
        raise DataError(f"{name}: the file holds {frames} frames or pages; aekit denoises "
                        "single images (split it first, e.g. one PNG per page)")
    refuse_misread_samples(im, name)
    mode = im.mode
    if mode in ("P", "PA"):
        raise DataError(f"{name}: a palette image (mode {mode}) cannot hold denoised colours; "
                        "convert it to RGB or greyscale first")
    if mode == "1":
        raise DataError(f"{name}: a bilevel (1-bit) image has no noise to clean; convert it "
                        "to greyscale first")
    if mode not in MODES and mode not in SIXTEEN_BIT:
        raise DataError(f"{name}: images of mode {mode} are not supported (greyscale 8/16-bit, "
                        "RGB and RGBA are)")
    if mode in MODES and _sixteen_bit_colour(im, data):
        what, advice = ("16-bit greyscale images with alpha", "save it without alpha as 16-bit "
                        "greyscale, or as 8-bit") if _grey_with_alpha(im, data) else (
            "16-bit colour images", "save it as 16-bit greyscale or 8-bit colour")
        raise DataError(f"{name}: {what} are not supported (they would be read as 8-bit); "
                        f"{advice}")


def _grey_with_alpha(im, data):
    """Whether the file is greyscale with alpha (Pillow opens a 16-bit one as RGBA)."""
    if im.format == "PNG":  # IHDR's colour type: byte 25 of the file; 4 = grey + alpha
        return len(data) > 25 and data[25] == 4
    return im.mode == "LA"


def _sixteen_bit_colour(im, data):
    """Whether a file Pillow opened as 8-bit holds more bits per sample."""
    if im.format == "PNG":  # IHDR's bit depth: byte 24 of the file
        return len(data) > 24 and data[24] == 16
    if im.format == "TIFF":
        bits = getattr(im, "tag_v2", {}).get(258, (8,))
        return max(bits if isinstance(bits, tuple) else (bits,)) > 8
    return False


def _to_photo(im, name):
    mode = im.mode
    if "transparency" in im.info:  # a transparent colour (PNG's tRNS): kept as alpha
        if mode in SIXTEEN_BIT:
            raise DataError(f"{name}: a 16-bit greyscale image with a transparent grey level "
                            "cannot come back as it was (denoising moves the levels); save "
                            "it without transparency, or as 8-bit with an alpha channel")
        mode = {"L": "LA", "RGB": "RGBA"}.get(mode, mode)
        im = im.convert(mode)
    if mode in SIXTEEN_BIT:
        a = np.asarray(im, dtype=np.float64)
        lo, hi = a.min(initial=0), a.max(initial=0)
        if lo < 0 or hi > 65535:
            raise DataError(f"{name}: the image holds values from {lo:g} to {hi:g}, beyond "
                            "16 bits (0 to 65535); aekit denoises 8- and 16-bit images")
        scale = integer_range(a)
        return Photo((a / scale).astype(np.float32)[:, :, None], None, "I;16", scale, name,
                     im.info.get("icc_profile"))
    alpha = np.asarray(im.getchannel("A")).copy() if MODES[mode][1] else None
    colour = im.convert("RGB" if MODES[mode][0] == 3 else "L")
    pixels = np.asarray(colour, dtype=np.float32) / 255.0
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return Photo(np.ascontiguousarray(pixels), alpha, mode, 255.0, name,
                 im.info.get("icc_profile"))


def encode_photo(pixels, like):
    """PNG bytes of float ``pixels`` ``(h, w, c)`` in the form of the :class:`Photo` ``like``
    (its mode, bit depth, alpha and colour profile). Values are clipped to [0, 1] and
    rounded."""
    from PIL import Image

    x = np.clip(np.nan_to_num(np.asarray(pixels, dtype=np.float64)), 0.0, 1.0)
    if like.mode == "I;16":
        data = np.round(x[:, :, 0] * like.scale).astype(np.uint16)
        im = Image.fromarray(data)  # mode I;16
    else:
        data = np.round(x * 255.0).astype(np.uint8)
        channels = [data[:, :, i] for i in range(data.shape[2])]
        if like.alpha is not None:
            channels.append(like.alpha.astype(np.uint8))
        if len(channels) == 1:
            im = Image.fromarray(channels[0])
        else:
            im = Image.merge(like.mode, [Image.fromarray(c) for c in channels])
    buf = io.BytesIO()
    im.save(buf, format="PNG", **({"icc_profile": like.icc_profile} if like.icc_profile else {}))
    return buf.getvalue()


def write_photo(pixels, like, path):
    """Write ``pixels`` as a PNG in the form of ``like`` (see :func:`encode_photo`),
    atomically; ``"-"`` writes to stdout."""
    from .atomic import atomic_open

    data = encode_photo(pixels, like)
    with atomic_open(path, "wb") as f:
        f.write(data)
    return path


def to_opponent(rgb):
    """``(h, w, 3)`` RGB in [0, 1] -> ``(h, w, 3)`` luminance and two chroma channels in
    [0, 1] (see the module's notes)."""
    return np.asarray(rgb, dtype=np.float32) @ OPPONENT.T.astype(np.float32) \
        + OPPONENT_OFFSET.astype(np.float32)


def from_opponent(opp):
    """The inverse of :func:`to_opponent`."""
    inverse = np.linalg.inv(OPPONENT).astype(np.float32)
    return (np.asarray(opp, dtype=np.float32) - OPPONENT_OFFSET.astype(np.float32)) @ inverse.T


def luminance(rgb):
    """Greyscale of RGB ``(h, w, 3)`` with ITU-R 601 weights (0.299, 0.587, 0.114)."""
    return np.asarray(rgb, dtype=np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
