"""`aekit evaluate denoise --images`: protocol D2, photos, beside BM3D and scikit-image."""

import click

from .options import IMAGE_SUFFIXES, check_output_kind, check_outputs, show_results


def run(model, device, sigmas, colour, unclipped, picture, json_out, seed, baselines_only=False):
    """Protocol D2 for the ImageDenoiser ``model`` (a path or bundled name; default
    photo-denoiser; none with ``baselines_only``), printing the table and writing
    ``picture`` (and ``json_out``)."""
    from ..evaluation.denoise_images import PROTOCOLS, REFERENCES, picture as draw, protocol_d2
    from ..loading import load
    from .denoise_photos import PHOTO_MODEL, is_photo_model

    check_outputs((("--picture", picture), ("--json", json_out)), model)
    check_output_kind(picture, IMAGE_SUFFIXES, "PNG pictures")
    est = None if baselines_only else load(model or PHOTO_MODEL, device=device)
    if est is not None and not is_photo_model(est):
        raise click.UsageError(f"--images measures an image denoiser (like {PHOTO_MODEL}); "
                               f"{model} is a {type(est).__name__} of 28x28 digits")
    protocols = PROTOCOLS if unclipped else ("clipped",)
    result = protocol_d2({"aekit": est.denoise} if est else {}, sigmas=sigmas, protocols=protocols,
                         colour=colour, seed=seed, log=lambda line: click.echo(line, err=True))
    show_results(result, REFERENCES, draw, picture, json_out,
                 None if baselines_only else str(model or PHOTO_MODEL))
    return result
