"""`aekit encode DATA`: the codes (learned features) of each row, as a table."""

import click

from .options import (
    IMAGE_SUFFIXES, TABLE_SUFFIXES, check_output_kind, check_output_path, device_option,
    model_option, table_options)

CHUNK_ROWS = 10_000  # rows read, encoded and written at a time


@click.command()
@click.argument("data", type=click.Path(exists=True, allow_dash=True))
@model_option(required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              show_default=True, help="Where to write the codes: CSV ('-' for stdout), or "
              "Parquet for a .parquet name.")
@table_options
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Also draw a 2-D map of the codes (PNG), coloured by the label column: the "
              "codes themselves for a 2-d code, else their first two principal components.")
@device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def command(data, model, output, plot, device, quiet, **table):
    """Encode each row of a table (CSV or Parquet) with a trained autoencoder.

    The output has one column per code dimension (code_0, code_1, ...), after
    the label and id columns, which are copied through unchanged. Columns are
    matched to the model's features by name. Rows are read and written in
    chunks, so files larger than memory work. Pixel tables with values 0..255
    are divided by 255 for a model trained on MNIST-like [0, 1] images.

    \b
    Examples:
      aekit encode digits.csv --model mnist.safetensors -o codes.csv
      aekit encode digits.csv -m mnist.safetensors --label-column label \\
          -o codes.csv --plot latent.png
      cat table.csv | aekit encode - -m table.safetensors > codes.csv
    """
    from pathlib import Path

    for out in (output, plot):
        check_output_path(out, data, model)
    check_output_kind(output, TABLE_SUFFIXES, "tables")
    check_output_kind(plot, IMAGE_SUFFIXES, "PNG pictures")
    if plot is not None and output != "-" and Path(plot).resolve() == Path(output).resolve():
        raise click.UsageError("--plot and --output must be different files")
    run(data, model, output, plot, device, quiet, table)


def run(data, model, output, plot, device, quiet, table):
    from pathlib import Path

    from ..codes import Reservoir, encode_table, plot_codes
    from ..evaluation.probe import MAX_POINTS
    from ..loading import autoencoder_of, load
    from ..tables import open_table
    from ..tables.writers import TableWriter
    from .options import counted, echo_notes, refuse_other_jobs, roles_as_in_training, table_kwargs

    est = load(model, device=device)
    refuse_other_jobs(est, model, "encode gives rows' codes", generative=False)
    ae = autoencoder_of(est)
    table, note = roles_as_in_training(table, model, data)
    if note and not quiet:
        click.echo(f"note: {note}", err=True)
    source = open_table(data, chunksize=CHUNK_ROWS, **table_kwargs(table))
    sample = Reservoir(MAX_POINTS) if plot else None
    bar = None
    if not quiet:
        from tqdm.auto import tqdm

        bar = tqdm(unit="rows", desc="encoding", dynamic_ncols=True, leave=False, disable=None)
    echo_notes(source, quiet)
    with TableWriter(output) as writer:
        read = encode_table(source, ae, writer, sample,
                            progress=None if bar is None else bar.update)
        if plot and len(sample.Z) < 2:  # (before the output is committed)
            raise click.ClickException(f"--plot maps rows' codes: {data} has "
                                       f"{len(sample.Z)} row; give at least 2, or no --plot")
    if bar is not None:
        bar.close()
    if read.pixels and not quiet:
        click.echo("pixel values 0..255 detected: divided by 255 as for MNIST", err=True)
    if read.note() and not quiet:
        click.echo(f"note: {read.note()}", err=True)
    if plot:
        k = ae.net_.config.code_size
        what = "codes" if k <= 2 else f"first two principal components of the {k}-d codes"
        title = f"{Path(str(data)).name} encoded by {Path(str(model)).name}: {what}"
        if sample.labels is not None:
            title += f", coloured by {source.roles.label_name}"
        plot_codes(sample, plot, title)
        click.echo(f"wrote {plot}", err=True)
    if output != "-" and not quiet:
        k, d = ae.net_.config.code_size, ae.schema_.n_features
        wide = f", more than the table's {d} features" if k > d else ""
        if wide and getattr(ae, "objective_", None) == "masked":
            wide += ": a masked detector's codes; for compact ones train with --objective " \
                "reconstruction"
        click.echo(f"wrote {output} ({counted(k, 'code column')}{wide})", err=True)
