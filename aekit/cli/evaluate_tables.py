"""`aekit evaluate tables`: protocol T, the detector beside PCA and IsolationForest."""

import os

import click

from .options import IMAGE_SUFFIXES, check_output_kind, check_output_path, device_option, write_json

METHODS = ("aekit", "pca", "iforest")


@click.command()
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--methods", default=",".join(METHODS), show_default=True,
              help="Comma-separated: aekit (AnomalyDetector() defaults), pca "
              "(AnomalyDetector(method='pca')), iforest (scikit-learn's IsolationForest).")
@click.option("--tables", help="Only these tables (comma-separated file stems, e.g. 38_thyroid).")
@click.option("--plot", type=click.Path(dir_okay=False), default="tables_auroc.png",
              show_default=True, help="PNG: every table's AUROC per method.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False),
              help="Also write the figures (AUROC, AP, ranks, times per table) as JSON.")
@click.option("--seed", type=int, default=0, show_default=True, help="random_state of the "
              "detectors.")
@device_option
def command(folder, methods, tables, plot, json_out, seed, device):
    """Protocol T: anomaly detection on real tables (ADBench's classical tables).

    FOLDER holds `.npz` tables with `X` and `y` (1 = anomaly) [default: $AEKIT_TABLES].
    Each table over 50,000 rows is cut to 50,000 (stratified), split 70/30 (stratified,
    seed 42); each detector is fitted on the 70% with its anomalies (labels unused) and
    scores the 30%. Prints AUROC and average precision per table, the means, each
    method's mean rank and wins, and the times; draws every table's AUROC.

    \b
    Examples:
      aekit evaluate tables ../shared/data/adbench --json tables.json
      aekit evaluate tables ../shared/data/adbench --methods aekit,iforest --tables 38_thyroid
    """
    folder = folder or os.environ.get("AEKIT_TABLES")
    if not folder:
        raise click.UsageError("give FOLDER (a folder of ADBench .npz tables) or set "
                               "AEKIT_TABLES")
    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(METHODS))
    if unknown or not chosen:
        raise click.BadParameter(f"unknown method(s) {', '.join(unknown)}; use "
                                 f"{', '.join(METHODS)}", param_hint="--methods")
    for out in (plot, json_out):
        check_output_path(out)
    check_output_kind(plot, IMAGE_SUFFIXES, "PNG pictures")
    from ..evaluation.tables import LABELS, dot_plot, protocol_t

    def progress(table, method, auroc, seconds):
        click.echo(f"{table:<24} {method:<8} AUROC {auroc:6.2f} %  ({seconds:.1f} s)", err=True)

    result = protocol_t(folder, chosen, tables.split(",") if tables else None, seed, device,
                        progress=progress)
    click.echo(result.table())
    click.echo("methods: " + "; ".join(f"{m} = {LABELS[m]}" for m in chosen))
    dot_plot(result, plot)
    click.echo(f"wrote {plot}", err=True)
    if json_out:
        write_json(json_out, result.to_dict())
