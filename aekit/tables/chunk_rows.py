"""The rows of parsed CSV blocks gathered into one chunk, in little more memory than the
chunk itself.

A block of numbers is copied at once into the chunk's array (float64, or float32 when the
table is asked for it), so that its
polars frame is freed before the next block is parsed; once a block brings feature
columns that stay text, the chunk's rows are kept as polars frames and handed out as a
DataFrame.
"""

import numpy as np
import polars as pl

from .columns import Chunk


class ChunkRows:
    """Up to ``size`` rows of parsed blocks (see the module's notes).

    ``features``: the names of a block's feature columns (None: all its columns);
    ``carried``: those of its carried columns (None: none); ``names``: the feature
    columns' names in a block; ``dtype``: of the chunk's array.
    """

    def __init__(self, size, features, carried, names, dtype=np.float64):
        self.features, self.carried, self.names = features, carried, names
        self.X = np.empty((size, len(names)), dtype=dtype)
        self.n = 0
        self.frames = None  # the feature columns as polars frames, once a block has text
        self.kept = []  # the carried columns of each block

    def add(self, frame, text_left):
        """Append the rows of ``frame``; ``text_left``: whether a feature column is text."""
        # columns taken by name: far cheaper than an expression on frames of 784 columns
        rows = frame if self.features is None else frame[self.features]
        if self.frames is None and not text_left:
            # polars' own (column-major) layout, then one cast into the rows: 2-3x faster
            # than asking polars for rows
            with np.errstate(over="ignore"):  # beyond float32: inf, refused by its reader
                self.X[self.n:self.n + len(frame)] = rows.to_numpy()
        else:
            if self.frames is None:
                self.frames = [pl.from_numpy(self.X[:self.n], schema=self.names, orient="row")]
            self.frames.append(rows)
        if self.carried is not None:
            self.kept.append(frame[self.carried])
        self.n += len(frame)

    def chunk(self, first_row, labels, carried_names):
        """The :class:`~aekit.tables.columns.Chunk` of the rows: features as an array,
        or a DataFrame named ``labels``; carried columns as a DataFrame named
        ``carried_names`` (or None)."""
        if self.frames is None:
            features = self.X[:self.n]
        else:
            features = pl.concat(self.frames, how="vertical_relaxed").to_pandas()
            features.columns = labels
        carried = None
        if self.kept:
            carried = pl.concat(self.kept).to_pandas()
            carried.columns = carried_names
        return Chunk(features, carried, first_row)
