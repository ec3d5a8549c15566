"""`aekit impute DATA.csv`: fill the empty/NaN cells of a table with an autoencoder."""

import click

from .options import check_output_path, device_option


@click.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-m", "--model", type=click.Path(exists=True, dir_okay=False),
              help="Model file trained on tables like DATA (same feature columns) "
                   "[default: the bundled mnist-denoiser, when installed].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), required=True,
              help="Where to write the completed table (CSV; '-' for stdout).")
@click.option("--label-column", help="Column carried through untouched (name or 0-based number).")
@click.option("--id-column", help="Id column carried through untouched.")
@click.option("--max-iter", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many reconstruction rounds.")
@click.option("--tol", type=click.FloatRange(min=0), default=1e-4, show_default=True,
              help="Stop a row once its filled cells move less than this in one round (in "
                   "the model's scaled units).")
@device_option
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def command(data, model, output, label_column, id_column, max_iter, tol, device, quiet):
    """Fill the missing cells of DATA by iterating the autoencoder's reconstruction.

    Empty and NaN cells start at the model's "nothing known" (the training
    means of its columns; 0 for a model of [0, 1] data such as pixels) and
    then take the reconstruction's values, round after round, while the
    known cells stay fixed. Each row keeps the round whose reconstruction
    best matches its known cells. Known cells, the header and the label/id
    columns are written back as they were; integer columns get integer
    fills. Pixel tables (0..255) are scaled for a model trained on MNIST and
    back.

    \b
    Example:
      aekit impute digits_with_gaps.csv --model dae.safetensors -o filled.csv
    """
    check_output_path(output, data, model)
    from .denoise import resolve_model

    est = resolve_model(model, device=device)
    filled, rows = run(data, est, output, label_column, id_column, max_iter, tol)
    if not quiet:
        click.echo(f"filled {filled} cells in {rows} rows", err=True)


def run(data, est, output, label_column, id_column, max_iter, tol):
    import contextlib
    import sys

    import numpy as np

    from ..atomic import atomic_open
    from ..errors import DataError
    from ..imputation import autoencoder_of, impute
    from ..tabular import CsvTable, looks_like_pixels

    ae = autoencoder_of(est)
    table = CsvTable(data, label_column=label_column, id_column=id_column, allow_missing=True)
    if table.n_features != ae.n_features_in_:
        raise DataError(f"{data} has {table.n_features} feature columns but the model expects "
                        f"{ae.n_features_in_}")
    unit = getattr(ae, "scaling_", "unit") == "unit"
    pixels = None
    n_filled = n_rows = 0
    with contextlib.ExitStack() as stack:
        f = sys.stdout if str(output) == "-" else stack.enter_context(
            atomic_open(output, "w", newline="", encoding="utf-8"))
        for chunk in table.chunks():
            X = chunk.X
            if unit:
                if pixels is None:
                    pixels = looks_like_pixels(X)
                factor = 255.0 if pixels else 1.0
                lo, hi = np.nanmin(X, initial=0), np.nanmax(X, initial=0)
                if lo < 0 or hi > factor:
                    raise DataError(
                        f"{data}: values from {lo:g} to {hi:g} but this model was trained on "
                        + ("pixels 0..255" if pixels else "values in [0, 1]"))
            else:
                factor = 1.0
            missing = np.isnan(X)
            out = impute(ae, X / factor, max_iter=max_iter, tol=tol) * factor
            integral = _integral_columns(X, missing)
            fills = np.where(missing & integral, np.round(out), out)
            X = np.where(missing, fills, X)
            n_filled += int(missing.sum())
            n_rows += int(missing.any(axis=1).sum())
            _write(f, table, X, chunk.carried, header=chunk.first_row == 1)
    return n_filled, n_rows


def _integral_columns(X, missing):
    """Columns whose known cells are all whole numbers (their fills get rounded)."""
    import numpy as np

    known = np.where(missing, 0.0, X)
    return np.all(known == np.round(known), axis=0) & (~missing).any(axis=0)


def _write(f, table, X, carried, header):
    import pandas as pd

    feature_pos = {c: j for j, c in enumerate(table.feature_idx)}
    carried_pos = dict(zip(table.carried_idx, table.carried_names))
    df = pd.DataFrame({c: X[:, feature_pos[c]] if c in feature_pos
                       else carried[carried_pos[c]].to_numpy() for c in range(table.n_columns)})
    df.to_csv(f, header=table.columns if (header and table.has_header) else False, index=False,
              float_format="%.15g", lineterminator="\n")
