"""The codes (learned features) of a table's rows: the work behind `aekit encode`."""

import numpy as np

from .model_input import ModelInput, arrays_in_model_order
from .tables.writers import refuse_name_clashes


def code_names(autoencoder):
    return [str(n) for n in autoencoder.get_feature_names_out()]


def encode_table(table, autoencoder, writer, sample=None, progress=None):
    """Write the codes of every row of ``table`` (carried columns first) into ``writer``;
    returns the :class:`~aekit.model_input.ModelInput` that read it (whether 0..255
    pixels were scaled, what it filled in). ``sample`` (a :class:`Reservoir`) keeps a
    uniform sample of codes and labels for a map."""
    import pandas as pd

    model_input = ModelInput.for_table(table, autoencoder.schema_)
    names = code_names(autoencoder)
    label = table.roles.label_name
    for chunk, X in model_input.arrays(table.chunks()):
        with arrays_in_model_order(), model_input.located(chunk):
            Z = autoencoder.transform(X)
        frame = pd.DataFrame(Z, columns=names)
        if chunk.carried is not None:
            refuse_name_clashes(chunk.carried.columns, names)
            frame = pd.concat([chunk.carried.reset_index(drop=True), frame], axis=1)
        writer.write(frame)
        if sample is not None:
            sample.add(Z, None if label is None else chunk.carried[label].to_numpy())
        if progress is not None:
            progress(len(Z))
    return model_input


class Reservoir:
    """A uniform sample of at most ``size`` rows of a stream (codes and their labels)."""

    def __init__(self, size, seed=0):
        self.size = size
        self.rng = np.random.RandomState(seed)
        self.keys = self.Z = self.labels = None

    def add(self, Z, labels):
        keys = self.rng.random_sample(len(Z))
        if self.Z is not None:
            keys = np.concatenate([self.keys, keys])
            Z = np.concatenate([self.Z, Z])
            if labels is not None:
                labels = np.concatenate([self.labels, labels])
        keep = np.sort(np.argsort(keys, kind="stable")[: self.size])
        self.keys, self.Z = keys[keep], Z[keep]
        self.labels = labels[keep] if labels is not None else None


def plot_codes(sample, path, title):
    """A 2-D map of the sampled codes (coloured by label when there are labels)."""
    from .evaluation.probe import plot_latent_maps

    return plot_latent_maps([(f"{len(sample.Z)} rows", sample.Z)], path, labels=sample.labels,
                            title=title)
