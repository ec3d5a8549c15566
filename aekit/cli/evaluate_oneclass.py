"""`aekit evaluate oneclass`: protocol A, the autoencoder detector beside PCA."""

import click

from .options import (
    IMAGE_SUFFIXES, IntList, IntRange, check_output_kind, check_outputs, data_dir_option,
    device_option, write_json, SEED)


@click.command()
@click.option("--digits", type=IntList(0, 9, unique=True), default=None,
              help="Run only these normal classes, e.g. 2,8 [default: all ten].")
@data_dir_option
@click.option("--roc", "roc_png", type=click.Path(dir_okay=False), default="oneclass_roc.png",
              show_default=True, help="Where to write the ROC curves (PNG).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Also write the figures (AUROC, fit times) as JSON here.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="random_state of the detectors.")
@click.option("--limit", type=IntRange(min=2), default=None,
              help="Train on the first N images of each digit only: a quick check, "
              "not protocol A.")
@click.option("--epochs", type=IntRange(min=1), default=None,
              help="Override the detector's epochs: a quick check, not protocol A.")
@click.option("--no-pca", is_flag=True, help="Skip the PCA baseline.")
@device_option
def command(digits, data_dir, roc_png, json_out, seed, limit, epochs, no_pca, device):
    """Protocol A: one-class MNIST anomaly detection (mean AUROC over the digits).

    For each digit, AnomalyDetector() with its default settings is fitted on
    the training images of that digit only and scores the 10,000 test images;
    the other digits are the anomalies. The PCA reconstruction-error baseline
    (90% of the variance) runs on the same data. Prints the AUROC table per
    digit with the fit times and writes the ROC curves to a PNG.

    \b
    Examples:
      aekit evaluate oneclass                     # all ten digits (minutes)
      aekit evaluate oneclass --digits 2,8 --roc roc_2_8.png
    """
    from ..evaluation.oneclass import REFERENCES, default_detectors, one_class_auroc, roc_figure

    check_outputs((("--roc", roc_png), ("--json", json_out)))
    check_output_kind(roc_png, IMAGE_SUFFIXES, "PNG pictures")
    overrides = {"epochs": epochs} if epochs else {}
    detectors = default_detectors(random_state=seed, device=device, **overrides)
    if no_pca:
        detectors.pop("pca")
    reduced = limit is not None or epochs is not None
    if reduced:
        click.echo("note: --limit/--epochs change the protocol; these figures are a quick "
                   "check, not protocol A", err=True)

    def progress(d, method, auroc, seconds):
        click.echo(f"digit {d}: {method:<11} AUROC {auroc:6.2f} %  (fit {seconds:.1f} s)", err=True)

    result = one_class_auroc(digits=digits, detectors=detectors, data_dir=data_dir,
                             limit=limit, progress=progress)
    result.protocol = not reduced
    click.echo(result.table())
    means = "  ".join(f"{m}: {result.mean_auroc(m):.2f}" for m in result.methods)
    click.echo(f"mean AUROC % over digits {','.join(map(str, result.digits))}: {means}")
    fits = "  ".join(f"{m}: {result.total_fit_seconds(m):.1f} s" for m in result.methods)
    click.echo(f"total fit time: {fits}")
    refs = ", ".join(f"{k} {v}" for k, v in REFERENCES.items())
    click.echo(f"references (mean AUROC %, all ten digits): {refs}")
    roc_figure(result, roc_png)
    click.echo(f"wrote {roc_png}", err=True)
    if json_out:
        write_json(json_out, result.to_dict())
