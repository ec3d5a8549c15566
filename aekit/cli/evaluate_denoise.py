"""`aekit evaluate denoise`: protocol D, the model's PSNR beside median filter and PCA."""

import click

from .options import (
    IMAGE_SUFFIXES, IntRange, check_output_kind, check_outputs, data_dir_option,
    device_option, digit_model, model_option, show_results, SEED)

NOISES = ("gaussian:0.5", "masking:0.25", "saltpepper:0.1")


@click.command()
@model_option(default_help="the bundled mnist-denoiser")
@click.option("--baselines-only", is_flag=True, help="Measure the baselines without a model.")
@data_dir_option
@click.option("--noise", "noises", multiple=True, type=click.Choice(NOISES),
              help="Run only this noise (repeatable) [default: all three].")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the test noise.")
@click.option("--limit", type=IntRange(min=1),
              help="Use the first N test images only: a quick check, not protocol D.")
@click.option("--train-limit", type=IntRange(min=100),
              help="Fit the PCA baseline on the first N training images only (a quick check).")
@click.option("--picture", type=click.Path(dir_okay=False), default="denoise_grid.png",
              show_default=True, help="PNG grid: clean | noisy | median | PCA | model.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False),
              help="Also write the figures as JSON.")
@click.option("--images", is_flag=True,
              help="Protocol D2 instead: photos (scikit-image's held-out five) beside BM3D, "
                   "NL-means, TV, wavelet and median; --model defaults to photo-denoiser.")
@click.option("--sigma", "sigmas", multiple=True, type=IntRange(1, 255),
              help="With --images: this noise sigma of 255 only (repeatable) [default: 15, 25, 50].")
@click.option("--colour", is_flag=True, help="With --images: the colour images, with CBM3D.")
@click.option("--clipped-only", is_flag=True,
              help="With --images: only the clipped 8-bit protocol (not the unclipped one).")
@device_option
def command(model, baselines_only, data_dir, noises, seed, limit, train_limit, picture, json_out,
            images, sigmas, colour, clipped_only, device):
    """Protocol D: denoising PSNR on the 10,000 MNIST test images (D2 with --images).

    Corrupts the test images with gaussian noise 0.5, masking 0.25 and
    salt-and-pepper 0.1 (a fixed seed), then measures the PSNR (dB, peak 1,
    mean per image) of the noisy input, a 3x3 median filter, projection onto
    PCA with 64 components (fitted on the clean training images) and the
    model. Prints one table and writes a picture grid.

    With --images, protocol D2 (docs/protocols.md): PSNR and SSIM on five
    held-out photos at sigma 15, 25 and 50, unclipped and clipped to 8 bits,
    beside the noisy input, a 3x3 median, scikit-image's TV, wavelet and
    NL-means denoisers and BM3D (skipped, and said so, without the bm3d package).

    \b
    Examples:
      aekit evaluate denoise --model dae.safetensors
      aekit evaluate denoise --baselines-only
      aekit evaluate denoise --images --picture d2.png --json d2.json
    """
    if baselines_only and model:
        raise click.UsageError("--baselines-only measures the baselines without a model: "
                               "leave out --model, or --baselines-only")
    if images:  # protocol D2 (issue 25)
        from .evaluate_denoise_images import run

        run(model, device, tuple(sigmas) or (15, 25, 50), colour, not clipped_only,
            picture, json_out, seed, baselines_only)
        return
    if sigmas or colour or clipped_only:
        raise click.UsageError("--sigma, --colour and --clipped-only apply to --images")
    from ..datasets import load_mnist_pair
    from ..evaluation.denoise import REFERENCES, picture as draw, protocol_d
    from ..loading import load

    check_outputs((("--picture", picture), ("--json", json_out)), model)
    check_output_kind(picture, IMAGE_SUFFIXES, "PNG pictures")
    est = None if baselines_only else digit_model(
        load(model or "mnist-denoiser", device=device), model or "mnist-denoiser",
        "evaluate denoise measures")
    X, _, X_test, _ = load_mnist_pair(data_dir, train_limit, limit)
    if limit or train_limit:
        click.echo("note: --limit/--train-limit make this a quick check, not protocol D", err=True)
    result = protocol_d(est, X, X_test, noises=noises or NOISES, seed=seed,
                        log=lambda line: click.echo(line, err=True))
    show_results(result, REFERENCES, draw, picture, json_out,
                 str(model) if model else (None if baselines_only else "bundled"))
