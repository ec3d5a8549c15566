"""New rows from a generative model: sample grids of digits, synthetic tables, and the
decoded path between two digits (`aekit sample`, `aekit interpolate`).

The model is a fitted :class:`~aekit.VariationalAutoencoder`; an image model is one whose
rows are 28 x 28 pictures in [0, 1] (its schema's ``pixels``, as MNIST's).
"""

import math

import numpy as np

SIDE = 28
GAP = 2  # pixels between the tiles of a grid


def is_image_model(vae):
    """Whether the model's rows are 28 x 28 pictures (MNIST's form)."""
    return bool(getattr(vae.schema_, "pixels", False)) and vae.n_features_in_ == SIDE * SIDE


def grid_shape(n, columns=None, zoom=1):
    """(height, width) in pixels of :func:`tile`'s grid of ``n`` pictures."""
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    step = SIDE + GAP
    return (rows * step - GAP) * zoom, (columns * step - GAP) * zoom


def tile(images, columns=None, zoom=1):
    """Pictures ``images`` (n, 784) in [0, 1] as one grey grid (float32 in [0, 1]): rows of
    ``columns`` tiles (default: a square-ish grid) with dark gaps of 2 pixels, each pixel
    repeated ``zoom`` x ``zoom`` times."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, SIDE, SIDE)
    n = len(images)
    columns = columns or math.ceil(math.sqrt(n))
    step = SIDE + GAP
    grid = np.zeros(grid_shape(n, columns), dtype=np.float32)
    for i, im in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * step:r * step + SIDE, c * step:c * step + SIDE] = im
    return np.kron(grid, np.ones((zoom, zoom), dtype=np.float32)) if zoom > 1 else grid


def sample_table(vae, n_samples, random_state=None, mean=None):
    """``n_samples`` synthetic rows as a DataFrame of the model's input columns (text
    columns as categories; unnamed columns as 0, 1, ...; a column that held only whole
    numbers in the training rows rounded to integers, as `aekit impute` rounds its
    fills); ``mean`` as :meth:`aekit.VariationalAutoencoder.sample`'s."""
    import pandas as pd

    rows = vae.sample(n_samples, random_state=random_state, mean=mean)
    if not isinstance(rows, pd.DataFrame):
        names = vae.schema_.feature_names or [str(i) for i in range(vae.n_features_in_)]
        rows = pd.DataFrame(rows, columns=names)
    encoding = vae.schema_.encoding
    for j in np.flatnonzero((encoding.whole or []) if encoding is not None else []):
        rows.isetitem(j, np.round(rows.iloc[:, j].to_numpy(np.float64)).astype(np.int64))
    return rows


def interpolation(vae, a, b, steps=10):
    """The decoded straight path between the codes (posterior means) of pictures ``a``
    and ``b`` (784 values each, in [0, 1]): ``steps`` decoder means (steps, 784), the first
    at a's code, the last at b's.

    Raises
    ------
    ValueError
        ``steps`` below 2.
    """
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    codes = vae.transform(np.stack([a, b]).astype(np.float32).reshape(2, -1))
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return vae.inverse_transform((1 - t) * codes[0] + t * codes[1])
