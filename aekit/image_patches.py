"""Training material for image denoisers: image planes and random patches of them.

A greyscale image gives one plane; a colour one gives its three opponent channels
(:func:`aekit.photos.to_opponent`), the luminance with full weight and each chroma
channel with ``chroma_weight``, since the denoiser cleans colour images channel by
channel in that space. Every plane also comes at half size (2x2 means): a second,
cleaner scale of the same scenes (JPEG blocks and sensor noise shrink with it).
Patches are drawn at random positions of planes chosen in proportion to their area
times their weight, each in one of the 8 orientations (flips and quarter turns).
"""

import numpy as np


def image_planes(images, chroma_weight=0.25, half_size=True):
    """``[(plane, weight)]``: float32 2-D planes in [0, 1] and their sampling weights.

    ``images``: arrays ``(h, w)``, ``(h, w, 1)`` or ``(h, w, 3)`` in [0, 1].
    """
    from .photos import to_opponent

    planes = []
    for img in images:
        img = np.asarray(img, dtype=np.float32)
        if img.ndim == 2:
            img = img[:, :, None]
        if img.shape[2] == 3:
            opp = to_opponent(img)
            parts = [(opp[:, :, 0], 1.0), (opp[:, :, 1], chroma_weight),
                     (opp[:, :, 2], chroma_weight)]
        else:
            parts = [(img[:, :, 0], 1.0)]
        for plane, weight in parts:
            if weight <= 0:
                continue
            planes.append((np.ascontiguousarray(plane), weight))
            if half_size and min(plane.shape) >= 4:
                planes.append((half(plane), weight))
    return planes


def half(plane):
    """A plane at half size: the mean of each 2x2 block (an odd last row/column dropped)."""
    h, w = plane.shape[0] // 2 * 2, plane.shape[1] // 2 * 2
    p = plane[:h, :w]
    return ((p[0::2, 0::2] + p[0::2, 1::2] + p[1::2, 0::2] + p[1::2, 1::2]) / 4).astype(np.float32)


def sample_patches(planes, count, size, seed, images="image"):
    """``count`` random ``size`` x ``size`` patches, float32 ``(count, 1, size, size)``;
    ``images`` names the planes' images in the error (e.g. "validation image").

    Raises
    ------
    ValueError
        No plane is at least ``size`` pixels on both sides.
    """
    usable = [(p, w) for p, w in planes if min(p.shape) >= size]
    if not usable:
        from .errors import DataError

        raise DataError(f"no {images} is at least {size}x{size} pixels: lower {{patch_size}}"
                        + (f", or give larger {images}s" if images != "image" else ""),
                        params=("patch_size",))
    rng = np.random.default_rng(seed)
    weights = np.array([w * p.size for p, w in usable], dtype=np.float64)
    which = rng.choice(len(usable), size=count, p=weights / weights.sum())
    out = np.empty((count, 1, size, size), dtype=np.float32)
    for i, k in enumerate(which):
        p = usable[k][0]
        y = rng.integers(0, p.shape[0] - size + 1)
        x = rng.integers(0, p.shape[1] - size + 1)
        patch = p[y:y + size, x:x + size]
        turn = int(rng.integers(0, 8))
        patch = np.rot90(patch, turn % 4)
        out[i, 0] = patch[:, ::-1] if turn >= 4 else patch
    return out
