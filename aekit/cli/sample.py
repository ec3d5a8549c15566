"""`aekit sample`: new digits (a PNG grid) or synthetic table rows from a VAE."""

import click

from .options import (
    IMAGE_SUFFIXES, TABLE_SUFFIXES, IntRange, check_output_kind, check_output_path,
    device_option, model_option, SEED)


MAX_GRID_PIXELS = 50_000_000  # a digit grid's size, at most (a PNG that viewers open)


@click.command()
@model_option(default_help="mnist-vae")
@click.option("-n", "--n-samples", "n", type=IntRange(1, 1_000_000), default=64,
              show_default=True,
              help="How many samples (a digit grid: at most 50 megapixels, 13,806 digits "
                   "at --zoom 2).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="A PNG grid for a digit model [default: samples.png]; CSV ('-' for "
                   "stdout, the default) or Parquet (.parquet) rows for a table model.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the draws: the same seed gives the same samples.")
@click.option("--draw/--mean", default=None,
              help="Draw each value from the decoder's distribution, or give its mean "
                   "[default: the mean (pixel probabilities) for digits, draws for tables].")
@click.option("--zoom", type=IntRange(1, 16), default=2, show_default=True,
              help="Digit grids: each pixel drawn as ZOOM x ZOOM pixels.")
@device_option
def command(model, n, output, seed, draw, zoom, device):
    """Draw new samples from a variational autoencoder (`aekit train --objective vae`).

    Codes are drawn from the prior N(0, I) and decoded. A digit model (28x28
    images, such as the bundled mnist-vae) writes a PNG grid of the samples;
    a table model writes rows with the training table's columns, text columns
    as categories, and columns that held only whole numbers in training as
    integers.

    \b
    Examples:
      aekit sample -n 64 -o samples.png --seed 1
      aekit sample -m table_vae.safetensors -n 1000 -o synthetic.csv
    """
    from ..generation import grid_shape, is_image_model, sample_table, tile

    vae = load_vae(model or "mnist-vae", device)
    mean = None if draw is None else not draw
    image = is_image_model(vae)
    output = output or ("samples.png" if image else "-")
    check_output_path(output, model)
    if image:
        from ..images import write_png

        check_output_kind(output, IMAGE_SUFFIXES, "PNG pictures of digits")
        height, width = grid_shape(n, zoom=zoom)
        if height * width > MAX_GRID_PIXELS:
            raise click.UsageError(
                f"-n {n:,} digits at --zoom {zoom} make a {width:,} x {height:,} picture, over "
                f"{MAX_GRID_PIXELS // 10**6} megapixels (lower -n or --zoom, or draw more "
                "grids with other --seed values)")
        write_png(tile(vae.sample(n, random_state=seed, mean=mean), zoom=zoom), output)
    else:
        from ..tables.writers import TableWriter

        if click.get_current_context().get_parameter_source("zoom") == \
                click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError(f"--zoom draws digit grids; {model} is a table model, whose "
                                   "samples are rows: leave it out")
        check_output_kind(output, TABLE_SUFFIXES, "tables")
        with TableWriter(output) as w:
            w.write(sample_table(vae, n, seed, mean))
    if output != "-":
        click.echo(f"wrote {n} samples to {output}", err=True)


def load_vae(model, device):
    """The VAE ``model`` names (a file or a bundled name); a usage error for another model."""
    from ..loading import load

    vae = load(model, device=device)
    if not hasattr(vae, "sample"):
        raise click.UsageError(f"{model} is not a variational autoencoder; `aekit train "
                               "--objective vae` makes one")
    return vae
