"""Digit images in and out: reading any PNG/JPEG/BMP, and MNIST's 28x28 frame.

A model trained on MNIST expects light ink on a black background, the digit
size-normalised into a 20x20 box (aspect ratio kept) and placed in a 28x28
field so that its centre of mass lies at the centre. :func:`to_frame` brings
any greyscale picture into that form and records how; :func:`from_frame`
maps a 28x28 result back to the picture's size, polarity and tones.

    >>> gray = read_image("scan.png")                  # doctest: +SKIP
    >>> frame, how = to_frame(gray)                    # doctest: +SKIP
    >>> restored = from_frame(clean_frame, how)        # doctest: +SKIP
"""

import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError

SIDE = 28
BOX = 20  # MNIST normalised each digit into a 20x20 box inside the 28x28 field
CENTRE = 14.0  # where MNIST's centres of mass lie (pixel index), measured on the data
PAPER_TOLERANCE = 0.02  # paper this close to black (ink space) counts as black
STRONG_INK = 0.75  # ink at least this strong is left as it is, not stretched to 1
DETECT_SIDE = 384  # larger pictures are searched for the digit at a reduced size
MAX_PIXELS = 40_000_000  # e.g. 8000x5000; far beyond any digit scan, well below a bomb
MAX_FILE_BYTES = 256 * 1024 * 1024
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "PPM")
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".ppm", ".pgm", ".pbm")


def read_image(source, max_pixels=MAX_PIXELS, notes=None, with_alpha=False):
    """Read an image file into float32 greyscale in [0, 1], shape (height, width).

    ``source`` is a path, ``"-"`` for stdin, or bytes. Colour is reduced to
    luminance; transparency is flattened onto white or black, whichever the
    opaque pixels contrast with; 16-bit images keep their precision. ``notes`` (a
    list, or None) is given a line for each such reduction (what was used, what was
    left out), so that nothing is dropped silently. A file of several frames or pages
    is refused. Anything unreadable raises :class:`DataError` with one line saying why.
    ``with_alpha``: return ``(grey, alpha)``, the alpha channel in [0, 1] (same shape)
    or None for an image without transparency.
    """
    from PIL import Image, ImageOps

    if isinstance(source, bytes):
        name = "image bytes"
    else:
        name = "stdin" if str(source) == "-" else str(source)
    stream = _open_source(source, name)
    try:
        with warnings.catch_warnings():
            # our own pixel limit (checked below, before decoding) is the stricter one
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Pillow's notes on damaged metadata would be stray stderr lines: the file
            # either decodes or fails below with one line of our own
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            try:
                im = Image.open(stream, formats=FORMATS)
            except Image.DecompressionBombError:
                raise DataError(f"{name}: the image is far too large (its header claims more "
                                f"than {2 * Image.MAX_IMAGE_PIXELS:,} pixels); not decoding it"
                                ) from None
            except Image.UnidentifiedImageError:
                raise DataError(f"{name}: {_not_image_reason(stream)}") from None
            except (OSError, ValueError, SyntaxError, TypeError) as e:
                # (Pillow's TIFF reader raises TypeError on damaged tags: "Missing dimensions")
                raise DataError(f"{name}: cannot read the image ({_first_line(e)})") from None
            w, h = im.size
            if w < 1 or h < 1:
                raise DataError(f"{name}: the image is empty ({w}x{h} pixels)")
            try:  # (a TIFF's pages are counted by reading their damaged tags too)
                frames = getattr(im, "n_frames", 1)
            except (OSError, ValueError, SyntaxError, TypeError, KeyError, EOFError):
                raise DataError(f"{name}: the image data is corrupt (its frames or pages "
                                "cannot be counted)") from None
            if frames > 1 and im.format != "MPO":
                raise DataError(f"{name}: the file holds {frames} frames or pages; aekit reads "
                                "one picture per file: save the one to clean on its own")
            if w * h > max_pixels:
                raise DataError(f"{name}: the image is {w}x{h} = {w * h:,} pixels; the limit is "
                                f"{max_pixels:,} (downscale it first)")
            refuse_misread_samples(im, name)
            if im.format == "MPO" and notes is not None:  # (a transposed copy has no format)
                notes.append(mpo_note(name, im))
            try:
                im.load()
                im = ImageOps.exif_transpose(im)  # phones store rotation in EXIF
            except (OSError, ValueError, SyntaxError, TypeError, EOFError, MemoryError) as e:
                truncated = "truncat" in str(e).lower() or isinstance(e, EOFError)
                what = "truncated or corrupt" if truncated else f"corrupt ({_first_line(e)})"
                raise DataError(f"{name}: the image data is {what}") from None
            gray, alpha = _to_gray(im, name)
            if notes is not None:
                notes += _reductions(name, im)
    finally:
        stream.close()
    return (gray, alpha) if with_alpha else gray


def _reductions(name, im):
    """Lines saying what reading ``im`` as one grey picture left out: colour, transparency,
    bit depth."""
    out = []
    bands = im.getbands()
    if len(set(bands) - {"A", "a", "P"}) > 1 or im.mode in ("P", "PA"):
        mode = "palette" if im.mode in ("P", "PA") else im.mode
        out.append(f"{name}: its {mode} colour was reduced to grey (luminance); the result "
                   "is grey")
    if "A" in bands or "a" in bands or "transparency" in im.info:
        out.append(f"{name}: its transparency was flattened onto the paper colour; the "
                   "result has none")
    bits = _integer_bits(im) if im.mode.startswith("I") else 8
    if bits > 8:
        out.append(f"{name}: its {bits}-bit grey levels were read in [0, 1]; the result is "
                   "8-bit")
    elif im.mode == "F":
        a = np.asarray(im, dtype=np.float64)
        rescaled = a.min() < 0 or a.max() > 1
        out.append(f"{name}: its float grey levels " + (
            f"({a.min():g} to {a.max():g}) were rescaled to [0, 1]" if rescaled else
            "were read as they are (in [0, 1])") + "; the result is 8-bit")
    return out


def refuse_misread_samples(im, name):
    """Refuse a TIFF whose samples Pillow would read as other levels than they stand for:
    min-is-white grey of more than 8 bits (Pillow inverts 1- and 8-bit ones, not these,
    so the picture would be read as its negative) and signed 8-bit samples (read as
    unsigned: negative levels wrap round to bright ones). Signed 16- and 32-bit samples
    are read as they are (and negative ones refused where grey levels are read).

    Raises
    ------
    DataError
        Naming ``name``, what the file holds and what to save it as.
    """
    if im.format != "TIFF":
        return
    tags = getattr(im, "tag_v2", {})
    bits = tags.get(258, (8,))
    bits = max(bits) if isinstance(bits, tuple) else bits
    sample_format = tags.get(339, (1,))
    signed = 2 in (sample_format if isinstance(sample_format, tuple) else (sample_format,))
    if tags.get(262) == 0 and bits > 8:
        raise DataError(f"{name}: a {bits}-bit min-is-white TIFF (0 is white) would be read as "
                        "its negative; save it as min-is-black greyscale, or as 8-bit")
    if signed and bits == 8:
        raise DataError(f"{name}: a TIFF of signed 8-bit samples would be read with its "
                        "negative levels wrapped round to bright ones; save it as unsigned "
                        "8-bit (0..255)")


def mpo_note(name, im):
    """What reading the first image of an MPO file (a phone's JPEG that holds more images:
    a depth map, a stereo pair) leaves out, in a line."""
    others = im.n_frames - 1
    return (f"{name}: the first of its {others + 1} images (MPO: a photo and its depth map, "
            f"stereo pair or preview) was read; the other{'s' if others > 1 else ''} left out")


def _integer_bits(im):
    """The bits of an integer image's grey levels as read: 16 for 16-bit files, else those
    its largest value needs (Pillow reads several depths as 32-bit)."""
    if im.mode.startswith("I;16"):
        return 16
    return int(np.log2(integer_range(np.asarray(im, dtype=np.float64)) + 1))


def _open_source(source, name):
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if str(source) == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise DataError(f"stdin: more than {MAX_FILE_BYTES // 2**20} MiB; "
                            "not an image to denoise")
        return io.BytesIO(data)
    path = Path(source)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an image")
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None


def _not_image_reason(stream):
    try:
        stream.seek(0)
        head = stream.read(16)
    except OSError:
        head = b""
    if not head:
        return "the file is empty"
    return f"not an image aekit can read ({'/'.join(FORMATS)})"


def _first_line(e):
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def integer_range(a):
    """The full scale of an image of integers: 2**bits - 1 for the fewest bits (8 at least)
    that hold its largest value. Scanners write 10 to 12 bits into 16-bit files: judged
    against 65535, such an image would be almost black."""
    top = float(a.max(initial=0))
    bits = max(8, int(np.ceil(np.log2(top + 1)))) if top > 0 else 8
    return float(2**bits - 1)


def _to_gray(im, name):
    """``(grey, alpha)``: luminance in [0, 1] (float32) for any Pillow mode, transparency
    flattened, and the alpha channel (None where every pixel is opaque); a DataError
    naming ``name`` for negative integers or non-finite floats, which no grey level
    stands for."""
    if im.mode in ("P", "PA"):
        im = im.convert("RGBA" if im.mode == "PA" or "transparency" in im.info else "RGB")
    if im.mode in ("La", "RGBa"):
        im = im.convert("RGBA")
    if im.mode == "L" and "transparency" in im.info:
        im = im.convert("LA")
    if im.mode == "RGB" and "transparency" in im.info:
        im = im.convert("RGBA")
    alpha = None
    if im.mode in ("LA", "RGBA"):
        alpha = np.asarray(im.getchannel("A"), dtype=np.float32) / 255.0
        im = im.convert("L") if im.mode == "RGBA" else im.getchannel("L")
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":  # 16-bit files (32-bit "I" mostly holds them)
        a = np.asarray(im, dtype=np.float64)
        if a.min(initial=0) < 0:
            raise DataError(f"{name}: the image holds negative values (down to "
                            f"{a.min():g}); grey levels are 0 and up")
        gray = (a / integer_range(a)).astype(np.float32)
    elif mode == "F":
        a = np.asarray(im, dtype=np.float64)
        if not np.isfinite(a).all():
            raise DataError(f"{name}: the image holds NaN or infinite values; grey levels "
                            "are finite")
        lo, hi = float(a.min()), float(a.max())
        if lo < 0 or hi > 1:
            a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
        gray = a.astype(np.float32)
    elif mode == "1":
        gray = np.asarray(im, dtype=np.float32)
    else:
        if mode != "L":
            im = im.convert("L")  # RGB, CMYK, YCbCr...: ITU-R 601 luma
        gray = np.asarray(im, dtype=np.float32) / 255.0
    if alpha is None or alpha.min() == 1.0:
        return np.ascontiguousarray(gray, dtype=np.float32), None
    return np.ascontiguousarray(_flatten_alpha(gray, alpha), dtype=np.float32), alpha


def _flatten_alpha(gray, alpha):
    """Put transparent areas on the paper colour the ink stands out against."""
    weight = float(alpha.sum())
    if weight == 0:
        return np.ones_like(gray)  # fully transparent: blank paper
    ink_level = float((alpha * gray).sum() / weight)
    paper = 1.0 if ink_level < 0.5 else 0.0
    return alpha * gray + (1.0 - alpha) * paper


def write_png(gray, path):
    """Write float greyscale in [0, 1] as an 8-bit PNG, atomically (``-``: stdout)."""
    from PIL import Image

    from .atomic import atomic_open

    data = np.round(np.clip(np.nan_to_num(gray), 0, 1) * 255).astype(np.uint8)
    im = Image.fromarray(data, mode="L") if data.ndim == 2 else Image.fromarray(data)
    buf = io.BytesIO()  # encoded in memory: Pillow seeks, which a pipe cannot
    im.save(buf, format="PNG")
    with atomic_open(path, "wb") as f:
        f.write(buf.getvalue())
    return path


# -- polarity and tones ------------------------------------------------------

def _border(a):
    h, w = a.shape
    if h <= 2 or w <= 2:
        return a.ravel()
    t = max(1, min(h, w) // 14)
    return np.concatenate([a[:t].ravel(), a[-t:].ravel(),
                           a[t:-t, :t].ravel(), a[t:-t, -t:].ravel()])


def is_dark_on_light(gray):
    """True when the paper (judged from the image's border) is lighter than mid-grey."""
    return bool(np.median(_border(gray)) > 0.5)


def _paper_level(values):
    """The paper's tone: the most common level (noise that is clipped at the paper's
    tone shifts a median or a mean, not the peak of the histogram)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    hist, edges = np.histogram(values, bins=64, range=(0.0, 1.0))
    k = int(hist.argmax())
    peak = values[(values >= edges[k]) & (values <= edges[k + 1])]
    return float(np.median(peak))


def _filter_size(shape):
    # wide enough to wipe out pixel noise, narrow enough to keep a pen stroke
    return max(3, 2 * int(round(min(shape) / 56)) + 1)


@dataclass
class Framing:
    """How a picture was brought into the 28x28 frame, to map results back."""

    shape: tuple  # (height, width) of the picture
    invert: bool  # dark ink on light paper
    paper: float  # background level, in ink space (ink light, paper dark)
    ink: float  # full-ink level, in ink space
    reframed: bool  # False: the picture was already a 28x28 MNIST-style frame
    box: tuple = (0, 0, SIDE, SIDE)  # top, left, height, width of the digit's crop
    size: tuple = (SIDE, SIDE)  # (height, width) of the crop once scaled into the box
    offset: tuple = (0, 0)  # where the scaled crop's top-left lies in the frame
    missing: object = None  # (28, 28) bool: frame pixels to fill, when a mask was given


def to_frame(gray, frame="auto", mask=None):
    """Bring a greyscale picture into MNIST's form: ``(frame (28, 28), Framing)``.

    ``frame``: ``"auto"`` re-frames any picture but a 28x28 one (taken to be
    an MNIST-style frame already: resampling it would change its noise),
    ``"always"``, or ``"never"`` (only 28x28 pictures are accepted then).
    ``mask`` (bool, the picture's shape, True = missing) is carried into the
    frame as ``Framing.missing``; missing pixels read as paper meanwhile.
    """
    from scipy import ndimage

    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 2 or gray.size == 0:
        raise DataError(f"expected a 2-D greyscale picture, got shape {gray.shape}")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != gray.shape:
            raise DataError(f"the mask is {mask.shape[1]}x{mask.shape[0]} pixels but the image is "
                            f"{gray.shape[1]}x{gray.shape[0]}")
    known = gray if mask is None or not mask.any() else _fill_for_detection(gray, mask)
    invert = is_dark_on_light(known)
    x = 1.0 - known if invert else known
    paper = _paper_level(_border(x))
    view = _detection_view(x)
    k = _filter_size(view.shape)
    smooth = ndimage.median_filter(view, size=k, mode="nearest")
    # the ink's level: the brightest spot where k pixels of a k x k window agree (a
    # thin stroke does, isolated noise does not)
    ink = float(ndimage.rank_filter(view, rank=-min(k, view.size), size=k, mode="nearest").max())
    # Only clearly grey paper or faint ink is re-levelled: noise makes both estimates
    # wobble, and an MNIST-like picture must reach the model untouched.
    if paper <= PAPER_TOLERANCE:
        paper = 0.0
    if ink >= STRONG_INK:
        ink = 1.0
    ink = min(1.0, max(ink, paper + 0.2))  # a blank picture: don't blow up its noise
    if ink <= paper:
        paper = max(0.0, ink - 0.2)
    x = np.clip((x - paper) / (ink - paper), 0, 1)
    if mask is not None:
        x = np.where(mask, 0.0, x).astype(np.float32)
    if frame == "never" or (frame == "auto" and gray.shape == (SIDE, SIDE)):
        if gray.shape != (SIDE, SIDE):
            raise DataError(f"the picture is {gray.shape[1]}x{gray.shape[0]}; without re-framing "
                            "only 28x28 pictures can be used")
        return x.astype(np.float32), Framing(gray.shape, invert, paper, ink, False, missing=mask)
    smooth = np.clip((smooth - paper) / (ink - paper), 0, 1)
    if mask is not None:
        smooth = np.where(_resize(mask.astype(np.float32), *view.shape) > 0, 0.0, smooth)
    top, left, h, w = _digit_box(smooth, _filter_size(view.shape) // 2, x.shape)
    scale = BOX / max(h, w)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    patch = _resize(x[top:top + h, left:left + w], nh, nw)
    # Shrinking averages the paper's noise into a grey floor (noise is clipped at the
    # paper's tone, so it does not average out); lift it so the paper reads as paper.
    floor = _noise_floor(x, (top, left, h, w), mask)
    if floor > 0:
        patch = np.clip((patch - floor) / (1.0 - floor), 0, 1)
    mass = float(patch.sum())
    if mass > 0:
        cy = float((patch.sum(1) * np.arange(nh)).sum() / mass)
        cx = float((patch.sum(0) * np.arange(nw)).sum() / mass)
    else:
        cy, cx = (nh - 1) / 2, (nw - 1) / 2
    oy, ox = int(round(CENTRE - cy)), int(round(CENTRE - cx))
    out = np.zeros((SIDE, SIDE), dtype=np.float32)
    _paste(out, patch, oy, ox)
    missing = None
    if mask is not None:
        fm = np.zeros((SIDE, SIDE), dtype=np.float32)
        _paste(fm, _resize(mask[top:top + h, left:left + w].astype(np.float32), nh, nw), oy, ox)
        missing = fm > 0.25
    return out, Framing(gray.shape, invert, paper, ink, True, (top, left, h, w), (nh, nw),
                        (oy, ox), missing)


def from_frame(frame, how):
    """Map a 28x28 result (ink space, [0, 1]) back to the picture's size and tones.

    The whole frame is mapped back (bilinear), not just the digit's box, so the
    result fades into the paper instead of ending at the box's edge.
    """
    y = np.clip(np.asarray(frame, dtype=np.float64).reshape(SIDE, SIDE), 0, 1)
    if how.reframed:
        top, left, h, w = how.box
        (nh, nw), (oy, ox) = how.size, how.offset
        rows = _interpolation_matrix(how.shape[0], top, nh / h, oy)
        cols = _interpolation_matrix(how.shape[1], left, nw / w, ox)
        y = np.clip(rows @ y @ cols.T, 0, 1)
    v = how.paper + y * (how.ink - how.paper)
    return (1.0 - v if how.invert else v).astype(np.float32)


def _interpolation_matrix(n, start, scale, offset):
    """(n, 28) linear-interpolation weights: picture pixel r -> frame position.

    Inverts the forward mapping (Pillow's pixel-centre convention): picture
    pixel r lies at frame coordinate (r + 0.5 - start) * scale - 0.5 + offset.
    Positions off the frame get zero weight (paper).
    """
    pos = (np.arange(n) + 0.5 - start) * scale - 0.5 + offset
    i0 = np.floor(pos).astype(int)
    t = pos - i0
    m = np.zeros((n, SIDE))
    for idx, wt in ((i0, 1 - t), (i0 + 1, t)):
        ok = (idx >= 0) & (idx < SIDE)
        np.add.at(m, (np.flatnonzero(ok), idx[ok]), wt[ok])
    return m


def _noise_floor(x, box, mask=None):
    """The mean level of the paper around the digit box (0 for clean paper)."""
    top, left, h, w = box
    outside = np.ones(x.shape, dtype=bool)
    outside[top:top + h, left:left + w] = False
    if mask is not None:
        outside &= ~mask
    if outside.sum() < max(16, 0.05 * x.size):
        return 0.0
    return float(min(0.5, x[outside].mean()))


def _fill_for_detection(gray, mask):
    """Missing pixels take the median of the known ones, so they read as paper."""
    known = gray[~mask]
    fill = float(np.median(known)) if known.size else 0.0
    return np.where(mask, fill, gray).astype(np.float32)


def _detection_view(x):
    """``x``, shrunk if large, so that finding the digit stays cheap."""
    factor = max(1, int(np.ceil(max(x.shape) / DETECT_SIDE)))
    if factor == 1:
        return x
    h, w = x.shape
    return _resize(x, max(1, int(round(h / factor))), max(1, int(round(w / factor))))


def _digit_box(smooth, pad, shape):
    """(top, left, height, width) of the ink in a picture of ``shape``, found on ``smooth``
    (the picture or a shrunk view of it), ignoring specks far smaller than the digit."""
    from scipy import ndimage

    ink = smooth > 0.5
    if not ink.any():
        return 0, 0, shape[0], shape[1]
    labels, n = ndimage.label(ink)
    if n > 1:
        sizes = ndimage.sum(ink, labels, index=np.arange(1, n + 1))
        keep = np.flatnonzero(sizes >= 0.05 * sizes.max()) + 1
        ink = np.isin(labels, keep)
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    sy, sx = shape[0] / smooth.shape[0], shape[1] / smooth.shape[1]
    top = max(0, int(np.floor((rows[0] - pad) * sy)))
    bottom = min(shape[0], int(np.ceil((rows[-1] + 1 + pad) * sy)))
    left = max(0, int(np.floor((cols[0] - pad) * sx)))
    right = min(shape[1], int(np.ceil((cols[-1] + 1 + pad) * sx)))
    return top, left, bottom - top, right - left


def _resize(a, h, w):
    """Antialiased bilinear resize of a float image (Pillow's 'F' mode)."""
    from PIL import Image

    if a.shape == (h, w):
        return a.astype(np.float32)
    im = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32), mode="F")
    return np.asarray(im.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)


def _paste(dst, src, oy, ox):
    """dst[oy:oy+h, ox:ox+w] = src, clipped to dst's bounds (offsets may be negative)."""
    h, w = src.shape
    y0, x0 = max(0, oy), max(0, ox)
    y1, x1 = min(dst.shape[0], oy + h), min(dst.shape[1], ox + w)
    if y1 > y0 and x1 > x0:
        dst[y0:y1, x0:x1] = src[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return dst


def read_mask(path, shape):
    """A missing-pixel mask from an image: white (> 50%) marks the pixels to fill."""
    m = read_image(path)
    if m.shape != tuple(shape):
        raise DataError(f"{path}: the mask is {m.shape[1]}x{m.shape[0]} pixels but the image is "
                        f"{shape[1]}x{shape[0]}")
    return m > 0.5


def list_images(paths, skip_suffix=None, notes=None):
    """Expand folders (not recursively) into the images they hold, sorted by name; a line
    for people on each folder's subfolders left unread goes to ``notes`` (a list).

    Raises
    ------
    DataError
        A folder that holds no images (saying so of its subfolders, if any).
    """
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in SUFFIXES
                           and not (skip_suffix and q.name.endswith(skip_suffix)))
            subfolders = sum(q.is_dir() and not q.name.startswith(".") for q in p.iterdir())
            unread = f"{subfolders} subfolder{'s' if subfolders > 1 else ''} of {p} " \
                "(not read: a folder's own images are; give a subfolder by name)"
            if not found:
                raise DataError(f"{p} holds no images ({', '.join(SUFFIXES)})"
                                + (f"; it holds {unread}" if subfolders else ""))
            if subfolders and notes is not None:
                notes.append(f"left out {unread}")
            out.extend(found)
        else:
            out.append(p)
    return out
