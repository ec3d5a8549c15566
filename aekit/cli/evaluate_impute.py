"""`aekit evaluate impute`: filling missing pixels, the model beside mean and PCA."""

import click

from .options import (
    IMAGE_SUFFIXES, IntRange, check_output_kind, check_outputs, data_dir_option,
    device_option, digit_model, model_option, write_json, SEED)

PATTERNS = ("random25", "block10")


@click.command()
@model_option(default_help="the bundled mnist-denoiser")
@click.option("--baselines-only", is_flag=True, help="Measure the baselines without a model.")
@data_dir_option
@click.option("--pattern", "patterns", multiple=True, type=click.Choice(PATTERNS),
              help="random25 (25% of pixels) or block10 (a 10x10 block); repeatable "
                   "[default: both].")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the missing-pixel masks.")
@click.option("--limit", type=IntRange(min=1),
              help="Use the first N test images only (a quick check).")
@click.option("--train-limit", type=IntRange(min=100),
              help="Fit the PCA baseline on the first N training images only (a quick check).")
@click.option("--pca-components", type=IntRange(min=1),
              help="Fix PCA's number of components [default: the best of 8, 16, 32, 64 on "
                   "held-out training images, per pattern].")
@click.option("--picture", type=click.Path(dir_okay=False), default="impute_grid.png",
              show_default=True, help="PNG grid: clean | missing | mean | PCA | model.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False),
              help="Also write the figures as JSON.")
@device_option
def command(model, baselines_only, data_dir, patterns, seed, limit, train_limit, pca_components,
            picture, json_out, device):
    """RMSE of filled-in pixels on the 10,000 MNIST test images.

    Two patterns of missing pixels (fixed seed): 25% of the pixels at random,
    and a 10x10 block placed at random over the digit's area. Compares each
    pixel's training mean, iterative PCA imputation (fitted on the clean
    training images; its number of components chosen on held-out training
    images) and the model's iterative imputation (the same
    loop as `aekit impute`). Prints one table and writes a picture grid.

    \b
    Example:
      aekit evaluate impute --model dae.safetensors
    """
    from ..datasets import load_mnist_pair
    from ..evaluation.impute import picture as draw, protocol_impute
    from ..loading import load

    check_outputs((("--picture", picture), ("--json", json_out)), model)
    check_output_kind(picture, IMAGE_SUFFIXES, "PNG pictures")
    est = None if baselines_only else digit_model(
        load(model or "mnist-denoiser", device=device), model or "mnist-denoiser",
        "evaluate impute measures")
    X, _, X_test, _ = load_mnist_pair(data_dir, train_limit, limit)
    result = protocol_impute(est, X, X_test, patterns=patterns or PATTERNS, seed=seed,
                             pca_components=pca_components,
                             log=lambda line: click.echo(line, err=True))
    click.echo(result.table())
    if limit or train_limit:
        click.echo("note: --limit/--train-limit make this a quick check, not protocol D's "
                   "imputation", err=True)
    draw(result, picture)
    click.echo(f"wrote {picture}", err=True)
    if json_out:
        doc = result.to_dict()
        doc["model"] = str(model) if model else (None if baselines_only else "bundled")
        write_json(json_out, doc)
