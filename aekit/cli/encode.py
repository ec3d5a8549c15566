"""`aekit encode DATA.csv`: the codes (learned features) of each row, as CSV."""

import click

from .options import check_output_path, device_option

CHUNK_ROWS = 10_000  # rows read, encoded and written at a time


@click.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-m", "--model", type=click.Path(exists=True, dir_okay=False), required=True,
              help="Model file written by `aekit train` (or `Autoencoder.save`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              show_default=True, help="Where to write the codes CSV ('-' for stdout).")
@click.option("--label-column", help="Column to carry through unencoded and to colour the "
              "--plot by (name or 0-based number).")
@click.option("--id-column", help="Column to carry through unencoded (name or 0-based number).")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Also draw a 2-D map of the codes (PNG): the codes themselves for a "
              "2-d code, else their first two principal components.")
@device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def command(data, model, output, label_column, id_column, plot, device, quiet):
    """Encode each row of a numeric CSV with a trained autoencoder.

    The output has one column per code dimension (code_0, code_1, ...), after
    the label and id columns, which are copied through unchanged. Rows are
    read and written in chunks, so files larger than memory work. Pixel
    tables with values 0..255 are divided by 255 for a model trained on
    MNIST-like [0, 1] images.

    \b
    Examples:
      aekit encode digits.csv --model mnist.safetensors -o codes.csv
      aekit encode digits.csv -m mnist.safetensors --label-column label \\
          -o codes.csv --plot latent.png
      cat table.csv | aekit encode - -m table.safetensors > codes.csv
    """
    for out in (output, plot):
        check_output_path(out, data, model)
    if plot is not None and output != "-" and _same(plot, output):
        raise click.ClickException("--plot and --output must be different files")
    encode_file(data, model, output, label_column, id_column, plot, device, quiet)


def _same(a, b):
    from pathlib import Path

    return Path(a).resolve() == Path(b).resolve()


def load_encoder(model, device):
    """The Autoencoder inside a model file (an AnomalyDetector's too)."""
    from ..errors import ModelFileError
    from ..serialization import load

    est = load(model, device=device)
    ae = est._autoencoder() if hasattr(est, "_autoencoder") else est
    if ae is None or not hasattr(ae, "transform"):
        raise ModelFileError(f"{model} holds a {type(est).__name__} without an autoencoder "
                             "(e.g. the PCA method): it has no codes to extract")
    return ae


def encode_file(data, model, output, label_column, id_column, plot, device, quiet):
    import sys
    import warnings

    import numpy as np

    from ..atomic import atomic_open
    from ..tabular import CsvTable

    ae = load_encoder(model, device)
    table = CsvTable(data, label_column=label_column, id_column=id_column,
                     chunksize=CHUNK_ROWS)
    order = _feature_order(table, ae, data, model)
    sample = _Reservoir() if plot else None
    names = [f"code_{i}" for i in range(ae.code_size)]
    pixels = None
    progress = None if quiet else _progress()
    with (atomic_open(output, newline="") if output != "-" else _stdout()) as f:
        header = True
        for chunk in table.chunks():
            X = chunk.X if order is None else chunk.X[:, order]
            if pixels is None:  # decided once, on the first chunk, for the whole file
                pixels = _needs_pixel_scaling(ae, X)
            if pixels:
                X = X / 255.0
            with warnings.catch_warnings():  # numpy rows, model fitted on a DataFrame
                warnings.filterwarnings("ignore", message="X does not have valid feature names")
                Z = ae.transform(X.astype(np.float32))
            _write(f, Z, names, chunk.carried, header)
            header = False
            if sample is not None:
                sample.add(Z, None if chunk.carried is None or label_column is None
                           else chunk.carried.iloc[:, 0].to_numpy())
            if progress is not None:
                progress.update(len(Z))
    if progress is not None:
        progress.close()
    if pixels:
        click.echo("pixel values 0..255 detected: divided by 255 as for MNIST", err=True)
    if plot:
        _plot(sample, plot, data, model, label_column)
        click.echo(f"wrote {plot}", err=True)
    if output != "-":
        click.echo(f"wrote {output} ({len(names)} code columns)", err=True)
    sys.stdout.flush()


def _feature_order(table, ae, data, model):
    """Column indices putting the table's features in the model's order, or None."""
    from ..errors import DataError

    n = int(ae.n_features_in_)
    model_names = getattr(ae, "feature_names_in_", None)
    if table.has_header and model_names is not None:
        names = list(table.feature_names)
        model_names = [str(c) for c in model_names]
        if names == model_names:
            return None
        if sorted(names) == sorted(model_names):
            return [names.index(c) for c in model_names]
        missing = [c for c in model_names if c not in names]
        if missing:
            shown = ", ".join(missing[:5]) + ("..." if len(missing) > 5 else "")
            raise DataError(f"{data} lacks columns the model {model} was trained on: {shown}")
    if table.n_features != n:
        raise DataError(
            f"{data} has {table.n_features} feature columns but the model {model} expects {n}"
            + (" (name the label/id columns with --label-column/--id-column)"
               if table.n_features > n else "")
        )
    return None


def _needs_pixel_scaling(ae, X):
    from ..tabular import looks_like_pixels

    return ae.scaling_ == "unit" and X.shape[1] == 784 and looks_like_pixels(X)


def _write(f, Z, names, carried, header):
    import pandas as pd

    df = pd.DataFrame(Z, columns=names)
    if carried is not None:
        df = pd.concat([carried.reset_index(drop=True), df], axis=1)
    df.to_csv(f, index=False, header=header, float_format="%.6g", lineterminator="\n")


class _stdout:
    def __enter__(self):
        import sys

        return sys.stdout

    def __exit__(self, *exc):
        return False


class _Reservoir:
    """A uniform sample of at most ``size`` rows of a stream, for the map."""

    def __init__(self, size=None, seed=0):
        import numpy as np

        from ..evaluation.probe import MAX_POINTS

        self.size = size or MAX_POINTS
        self.rng = np.random.RandomState(seed)
        self.keys = self.Z = self.labels = None

    def add(self, Z, labels):
        import numpy as np

        keys = self.rng.random_sample(len(Z))
        if self.Z is not None:
            keys = np.concatenate([self.keys, keys])
            Z = np.concatenate([self.Z, Z])
            if labels is not None:
                labels = np.concatenate([self.labels, labels])
        keep = np.sort(np.argsort(keys, kind="stable")[: self.size])
        self.keys, self.Z = keys[keep], Z[keep]
        self.labels = labels[keep] if labels is not None else None


def _plot(sample, path, data, model, label_column):
    from pathlib import Path

    from ..evaluation.probe import plot_latent_maps

    k = sample.Z.shape[1]
    what = "codes" if k <= 2 else f"first two principal components of the {k}-d codes"
    title = f"{Path(str(data)).name} encoded by {Path(model).name}: {what}"
    if sample.labels is not None:
        title += f", coloured by {label_column}"
    plot_latent_maps([(f"{len(sample.Z)} rows", sample.Z)], path, labels=sample.labels,
                     title=title)


def _progress():
    from tqdm.auto import tqdm

    return tqdm(unit="rows", desc="encoding", dynamic_ncols=True, leave=False, disable=None)
