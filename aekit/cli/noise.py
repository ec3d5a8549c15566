"""`aekit noise IMG`: corrupt an image with the noise models training uses."""

import click
import numpy as np

from .options import SEED, FloatRange, IMAGE_SUFFIXES, check_output_kind, check_output_path


@click.command()
@click.argument("image", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--kind", type=click.Choice(["gaussian", "masking", "saltpepper"]), required=True,
              help="gaussian: add SIGMA * N(0, 1); masking: set a share P of pixels to paper; "
                   "saltpepper: set a share P to ink or paper.")
@click.option("--level", type=FloatRange(min=0), required=True,
              help="SIGMA for gaussian, the share P (0..1) for masking and saltpepper.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), required=True,
              help="Output PNG ('-' for stdout).")
@click.option("--seed", type=SEED, default=None,
              help="Seed of the noise, for a reproducible result [default: random].")
def command(image, kind, level, output, seed):
    """Add noise to IMAGE and write it as a greyscale PNG of the same size.

    The noise is the one `aekit train --noise KIND:LEVEL` trains with and
    `aekit evaluate denoise` measures, applied to the pixels in [0, 1] with
    the ink light (dark-on-light images are turned over for it and back), so
    that "masking" means missing ink on any paper.

    \b
    Example:
      aekit noise digit.png --kind gaussian --level 0.5 -o noisy.png --seed 0
    """
    from ..nn.noise import parse_noise

    try:
        noise = parse_noise(f"{kind}:{np.format_float_positional(level, trim='-')}")
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--level") from None
    check_output_path(output, image)
    check_output_kind(output, IMAGE_SUFFIXES, "PNG images")
    add_noise(image, noise, output, seed)


def add_noise(image, noise, output, seed=None):
    from ..denoising import add_noise as corrupt
    from ..images import read_image, write_png

    notes = []  # what reading one grey picture left out: colour, transparency, bit depth
    write_png(corrupt(read_image(image, notes=notes), noise, seed), output)
    for line in notes:
        click.echo(f"note: {line}", err=True)
    if str(output) != "-":
        click.echo(str(output))
