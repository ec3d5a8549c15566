"""`aekit evaluate tables`: protocol T, the detector beside PCA and IsolationForest."""

import os

import click

from .options import (
    IMAGE_SUFFIXES, FloatRange, categorical_option, check_output_kind, check_outputs,
    device_option, flag_of, table_options, write_json, SEED)

METHODS = ("aekit", "pca", "iforest")


@click.command()
@click.argument("source", metavar="[FOLDER | TABLE]", required=False,
                type=click.Path(exists=True))
@click.option("--methods", default=",".join(METHODS), show_default=True,
              help="Comma-separated: aekit (AnomalyDetector() defaults), pca "
              "(AnomalyDetector(method='pca')), iforest (scikit-learn's IsolationForest).")
@click.option("--tables", help="Only these tables of FOLDER (comma-separated file stems, e.g. "
              "38_thyroid).")
@table_options
@categorical_option("TABLE: read this column as categories (one-hot) for every method, "
                    "whatever it holds (numeric codes such as HTTP statuses), as `aekit "
                    "train --categorical` does; repeatable.")
@click.option("--trim", type=FloatRange(0, 0.5, max_open=True),
              help="aekit's trim: the share of training rows its second fit leaves out "
              "[default: the detector's, 0.3]; 0 for a table known to be clean.")
@click.option("--normal-label", "normal_labels", multiple=True,
              help="TABLE: label value(s) of normal rows, every other value an anomaly "
              "(repeatable) [default: a 0/1 label, 1 = anomaly; true/false; anomaly/normal].")
@click.option("--plot", type=click.Path(dir_okay=False), default="tables_auroc.png",
              show_default=True, help="PNG: every table's AUROC per method.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False),
              help="Also write the figures (AUROC, AP, ranks, times per table) as JSON.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="random_state of the "
              "detectors; for a TABLE also the seed of its 70/30 split.")
@device_option
def command(source, methods, tables, categorical, trim, normal_labels, plot, json_out, seed,
            device, **table):
    """Protocol T: anomaly detection on real tables (ADBench's classical tables), or on
    your own labelled TABLE.

    FOLDER holds `.npz` tables with `X` and `y` (1 = anomaly) [default: $AEKIT_TABLES].
    Each table over 50,000 rows is cut to 50,000 (stratified), split 70/30 (stratified,
    seed 42); each detector is fitted on the 70% with its anomalies (labels unused) and
    scores the 30%. Prints AUROC and average precision per table, the means, each
    method's mean rank and wins, and the times; draws every table's AUROC.

    TABLE is a CSV or Parquet file with a label column (--label-column), read as `aekit
    train --data` reads it (text columns one-hot encoded for every method); rows without
    a label are left out. It is measured the same way, its 70/30 split seeded by --seed.

    \b
    Examples:
      aekit evaluate tables ../shared/data/adbench --json tables.json
      aekit evaluate tables ../shared/data/adbench --methods aekit,iforest --tables 38_thyroid
      aekit evaluate tables samples/transactions.csv --label-column is_fraud
      aekit evaluate tables samples/transactions.csv --label-column is_fraud --trim 0
    """
    from .options import table_kwargs

    for value, flag in ((plot, "--plot"), (json_out, "--json")):
        if value == "-":  # stdout holds the results table
            raise click.BadParameter("the results table is written to stdout: give a file",
                                     param_hint=flag)
    source = source or os.environ.get("AEKIT_TABLES")
    if not source:
        raise click.UsageError("give FOLDER (a folder of ADBench .npz tables) or TABLE (a "
                               "labelled CSV or Parquet file), or set AEKIT_TABLES")
    chosen = list(dict.fromkeys(m.strip() for m in methods.split(",") if m.strip()))
    unknown = sorted(set(chosen) - set(METHODS))
    if unknown or not chosen:
        raise click.BadParameter(f"unknown method(s) {', '.join(unknown)}; use "
                                 f"{', '.join(METHODS)}", param_hint="--methods")
    if trim is not None and "aekit" not in chosen:
        raise click.UsageError("--trim is aekit's, and --methods leaves aekit out")
    from pathlib import Path

    tables_in = sorted(Path(source).glob("*.npz")) if Path(source).is_dir() else []
    check_outputs((("--plot", plot), ("--json", json_out)), source, *tables_in)
    check_output_kind(plot, IMAGE_SUFFIXES, "PNG pictures")
    if is_npz_folder(source):
        given = [f for f, v in table.items() if v not in (None, ())] + \
            (["normal_labels"] if normal_labels else []) + \
            (["categorical"] if categorical else [])
        if given:
            raise click.UsageError(f"{flag_of(given[0])} is for a labelled TABLE (CSV or "
                                   "Parquet); the .npz tables of FOLDER hold numbers and "
                                   "their labels in y")
        result = run_folder(source, chosen, tables, seed, device, {"trim": trim})
    else:
        if tables:
            raise click.UsageError("--tables is for a FOLDER of .npz tables, not one TABLE")
        params = {"trim": trim}
        if categorical:
            from .options import categorical_columns

            params["categorical"] = list(categorical_columns(categorical, source,
                                                             table_kwargs(table)))
        result = run_table(source, chosen, seed, device, normal_labels, table_kwargs(table),
                           params)
    report(result, chosen, plot, json_out,
           "ADBench tables" if is_npz_folder(source) else os.path.basename(str(source)))


def is_npz_folder(path):
    """A folder that is not a Parquet dataset: protocol T's folder of .npz tables."""
    from ..tables.parquet_table import is_parquet

    return os.path.isdir(path) and not is_parquet(path)


def progress(table, method, auroc, seconds):
    click.echo(f"{table:<24} {method:<8} AUROC {auroc:6.2f} %  ({seconds:.1f} s)", err=True)


def run_folder(folder, methods, tables, seed, device, params):
    from ..evaluation.tables import protocol_t

    return protocol_t(folder, methods, None if tables is None else
                      [t.strip() for t in tables.split(",") if t.strip()], seed, device,
                      progress=progress, params=params)


def run_table(path, methods, seed, device, normal_labels, table, params):
    from ..evaluation.labelled_table import evaluate_labelled_table
    from .options import in_flags

    return evaluate_labelled_table(path, table.pop("label_column"), methods, seed, device,
                                   normal_labels, progress,
                                   lambda text: click.echo(f"note: {in_flags(text)}", err=True),
                                   params, verbose=1, **table)


def report(result, methods, plot, json_out, title):
    from ..evaluation.tables import dot_plot

    click.echo(result.table())
    click.echo("methods: " + "; ".join(f"{m} = {result.label(m)}" for m in methods))
    dot_plot(result, plot, title)
    click.echo(f"wrote {plot}", err=True)
    if json_out:
        write_json(json_out, result.to_dict())
