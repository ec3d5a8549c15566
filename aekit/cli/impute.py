"""`aekit impute DATA`: fill the empty/NaN cells of a table with an autoencoder."""

import click

from .options import (
    TABLE_SUFFIXES, FloatRange, IntRange, check_output_kind, check_output_path, device_option,
    model_option, table_options)

DEFAULT_MODEL = "mnist-denoiser"


@click.command()
@click.argument("data", type=click.Path(exists=True, allow_dash=True))
@model_option(default_help=f"the bundled {DEFAULT_MODEL}")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), required=True,
              help="Where to write the completed table (CSV, '-' for stdout; Parquet for a "
                   ".parquet name).")
@table_options
@click.option("--max-iter", type=IntRange(min=1), default=50, show_default=True,
              help="At most this many reconstruction rounds.")
@click.option("--tol", type=FloatRange(min=0), default=1e-4, show_default=True,
              help="Stop a row once its filled cells move less than this in one round (in "
                   "the model's scaled units).")
@device_option
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def command(data, model, output, max_iter, tol, device, quiet, **table):
    """Fill the missing cells of DATA with the model.

    Empty and NaN cells start at the model's "nothing known" (the training
    means of its columns; 0 for a model of [0, 1] data such as pixels) and
    then take the reconstruction's values, round after round, while the
    known cells stay fixed; a masked model (what `aekit train --data` builds
    for most tables) predicts them in one pass from the known cells instead. A
    denoising model keeps each row's round whose reconstruction best matches
    its known cells. In a table with text columns, an empty text cell takes the
    category the model finds most likely; other text is written back as it was.
    Known cells, the header and the columns the model does not read (the
    label, ids and columns left out with --ignore-column or at training) are
    written back as they were, in the file's column order (numbers as float64
    reads them, in the shortest form that reads back the same: whole numbers
    beyond 2^53 and long decimals are rounded to 15-17 digits; the file's
    separator and decimal mark kept); columns that held only whole numbers in
    the training rows get whole fills (a Parquet input's integer columns keep
    their types in a Parquet output), other fills 7 significant digits (the
    model computes in float32). Columns are matched to the model's by name.
    Pixel tables (0..255) are scaled for a model trained on MNIST and back.

    \b
    Example:
      aekit impute digits_with_gaps.csv --model dae.safetensors -o filled.csv
    """
    from ..imputation import impute_table
    from ..loading import load
    from ..tables import open_table
    from ..tables.writers import TableWriter
    from .options import counted, refuse_other_jobs, roles_as_in_training, table_kwargs

    check_output_path(output, data, model)
    check_output_kind(output, TABLE_SUFFIXES, "tables")
    est = load(model or DEFAULT_MODEL, device=device)
    refuse_other_jobs(est, model, "impute fills tables")
    refuse_rounds_flags(est, model)
    table, note = roles_as_in_training(table, model or DEFAULT_MODEL, data)
    if note and not quiet:
        click.echo(f"note: {note}", err=True)
    # the whole table comes back: the columns left out too
    source = open_table(data, **table_kwargs(table), carry_ignored=True)
    dialect = {"sep": source.sep, "decimal": source.decimal} if hasattr(source, "sep") else {}
    with TableWriter(output, float_format="%.15g", header=source.has_header,
                     **dialect) as writer:
        filled, rows, pixels, blank = impute_table(source, est, writer, max_iter=max_iter,
                                                   tol=tol)
    if not quiet:
        scale = "; pixels 0..255 scaled to [0, 1] and back" if pixels else ""
        click.echo(f"filled {counted(filled, 'cell')} in {counted(rows, 'row')}{scale}",
                   err=True)
        if blank:
            click.echo(f"note: {counted(blank, 'row')} held no value at all: filled with what "
                       "the model gives for a row it knows nothing of (the same for each)",
                       err=True)
        schema = est.schema_
        names = schema.feature_names or [str(j) for j in range(schema.n_features)]
        empty = [names[j] for j in schema.empty_columns()]
        if empty:
            click.echo(f"note: {', '.join(map(repr, empty))} held no value in the training "
                       "rows: the model knows nothing of "
                       f"{'them' if len(empty) > 1 else 'it'}, and its gaps are left empty",
                       err=True)


def refuse_rounds_flags(est, model):
    """--max-iter and --tol, given for a masked model (which fills in one pass): refused."""
    from ..imputation import fills_in_one_pass

    ctx = click.get_current_context()
    given = [f"--{n.replace('_', '-')}" for n in ("max_iter", "tol")
             if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE]
    if given and fills_in_one_pass(est):
        raise click.UsageError(f"{' and '.join(given)} set the rounds of an iterated fill; "
                               f"{model} is a masked model, which fills in one pass: leave "
                               f"{'them' if len(given) > 1 else 'it'} out")
