"""`aekit interpolate A B`: the decoded path between two digits' codes, as a PNG strip."""

import click

from .options import (
    IMAGE_SUFFIXES, IntRange, check_output_kind, check_output_path, device_option, model_option)


@click.command()
@click.argument("first", type=click.Path(exists=True, dir_okay=False))
@click.argument("second", type=click.Path(exists=True, dir_okay=False))
@model_option(default_help="mnist-vae")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              default="interpolation.png", show_default=True, help="The PNG strip to write.")
@click.option("--steps", type=IntRange(2, 100), default=10, show_default=True,
              help="Decoded images along the path, both ends included.")
@click.option("--zoom", type=IntRange(1, 16), default=2, show_default=True,
              help="Each pixel drawn as ZOOM x ZOOM pixels.")
@device_option
def command(first, second, model, output, steps, zoom, device):
    """Decode the straight path between the codes of two digit images.

    FIRST and SECOND are digit pictures (PNG, JPEG, ...; any size, fitted into
    MNIST's 28x28 frame as `aekit denoise` does). Each is encoded to its
    posterior mean; the strip shows FIRST as the model read it, the decoded
    points of the path (--steps, evenly spaced), then SECOND.

    \b
    Example:
      aekit interpolate samples/digit_3.png samples/digit_8.png -o path.png
    """
    import numpy as np

    from ..generation import interpolation, is_image_model, tile
    from ..images import read_image, to_frame, write_png
    from .sample import load_vae

    check_output_path(output, first, second, model)
    check_output_kind(output, IMAGE_SUFFIXES, "PNG pictures")
    vae = load_vae(model or "mnist-vae", device)
    if not is_image_model(vae):
        raise click.UsageError(f"{model} models table rows, not 28x28 digit images")
    notes = []
    pictures = [read_image(p, notes=notes, with_alpha=True) for p in (first, second)]
    for line in notes:  # colour, transparency, bit depth: what reading them left out
        click.echo(f"note: {line}", err=True)
    _warn_of_non_digits((first, second), pictures, model or "mnist-vae", device)
    a, b = (to_frame(p)[0].reshape(-1) for p, _ in pictures)
    path = interpolation(vae, a, b, steps)
    write_png(tile(np.vstack([a, path, b]), columns=steps + 2, zoom=zoom), output)
    if output != "-":
        click.echo(f"wrote {output}", err=True)


def _warn_of_non_digits(sources, pictures, model, device):
    """Warn of each input the bundled digit model's checks find unlike a digit, when the
    model is the bundled digit VAE (:func:`~aekit.cli.denoise_photos.digit_judge`): its
    path would run between codes that stand for no digit."""
    from .denoise_photos import digit_judge, unlike_digit

    judge = digit_judge(model, device)
    if judge is None:
        return
    for source, (picture, alpha) in zip(sources, pictures):
        unlike, why = unlike_digit(judge, picture, alpha)
        if unlike:
            click.echo(f"warning: {source} does not look like a digit ({why}): the path may "
                       "be meaningless", err=True)
