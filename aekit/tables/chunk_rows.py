"""The rows of parsed CSV blocks gathered into one chunk, in little more memory than the
chunk itself.

A block of numbers is copied at once into the chunk's float64 array, so that its
polars frame is freed before the next block is parsed; once a block brings feature
columns that stay text, the chunk's rows are kept as polars frames and handed out as a
DataFrame.
"""

import numpy as np
import polars as pl

from .columns import Chunk


class ChunkRows:
    """Up to ``size`` rows of parsed blocks (see the module's notes).

    ``features``, ``carried``: polars expressions selecting a block's feature and
    carried columns; ``names``: the feature columns' names in a block.
    """

    def __init__(self, size, features, carried, names):
        self.features, self.carried, self.names = features, carried, names
        self.X = np.empty((size, len(names)), dtype=np.float64)
        self.n = 0
        self.frames = None  # the feature columns as polars frames, once a block has text
        self.kept = []  # the carried columns of each block

    def add(self, frame, text_left):
        """Append the rows of ``frame``; ``text_left``: whether a feature column is text."""
        rows = frame.select(self.features)
        if self.frames is None and not text_left:
            self.X[self.n:self.n + len(frame)] = rows.to_numpy(order="c")
        else:
            if self.frames is None:
                self.frames = [pl.from_numpy(self.X[:self.n], schema=self.names, orient="row")]
            self.frames.append(rows)
        if self.carried is not None:
            self.kept.append(frame.select(self.carried))
        self.n += len(frame)

    def chunk(self, first_row, labels, carried_names):
        """The :class:`~aekit.tables.columns.Chunk` of the rows: features as a float64
        array, or a DataFrame named ``labels``; carried columns as a DataFrame named
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
