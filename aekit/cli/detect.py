"""`aekit detect`: score every row of a table and flag the anomalies."""

import math

import click

from .options import (
    TABLE_SUFFIXES, Contamination, FloatRange, IntRange, categorical_option, check_output_kind,
    check_output_path, check_report_folder, device_option, echo_notes, model_option,
    roles_as_in_training, table_options)

DEFAULT_MODEL = "mnist-detector"


@click.command()
@click.argument("data", nargs=-1, required=True)
@model_option(default_help=f"the bundled {DEFAULT_MODEL}")
@click.option("-c", "--contamination", type=Contamination(),
              help="Flag this share of rows (0 < C <= 0.5) as the training data would be "
              "flagged: the threshold is the (1 - C) quantile of the training scores; auto: "
              "scores far out on the training scores' own scale (3 robust standard "
              "deviations of their logarithm) [default: a detector's own threshold, else "
              "0.01].")
@click.option("-t", "--threshold", type=FloatRange(min=0),
              help="Flag rows whose anomaly_score exceeds this value.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              show_default=True, help="Output table: CSV ('-' for stdout), or Parquet for a "
              ".parquet name.")
@click.option("--explain", "explain", type=IntRange(min=0), default=0, show_default=True,
              metavar="K", help="Add the K features with the largest errors to each row.")
@table_options
@categorical_option("Check that the model reads this column as categories (one-hot), as "
                    "`aekit train --categorical` makes it: how a model reads its columns is "
                    "set when it is trained, so a column it reads as numbers is refused, in "
                    "one line; repeatable.")
@click.option("--normal-label", "normal_labels", multiple=True,
              help="Label value(s) of normal rows, for the AUROC (repeatable) [default: 0 of "
              "a 0/1 label; for a model trained on some MNIST digits, those digits].")
@click.option("--report", type=click.Path(file_okay=False),
              help="Write pictures here: the score histogram with the threshold, and the "
              "ROC curve when a label column is given.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Score on this running dask.distributed scheduler (e.g. tcp://host:8786); "
              "several files are scored on a local Dask cluster without it.  Needs "
              "`pip install \"aekit[dask]\"`.")
@click.option("--workers", type=IntRange(min=1),
              help="Worker processes of the local Dask cluster [default: the cores, at most 4].")
@device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary lines.")
def command(data, model, contamination, threshold, output, explain, categorical, normal_labels,
            report, scheduler, workers, device, quiet, **table):
    """Score each row of DATA (CSV, gzip-compressed CSV or Parquet tables) and flag
    anomalous rows.

    The score is the model's error on the row (higher = more anomalous): its
    reconstruction error, or for a masked table model (what `aekit train
    --data` builds for most tables) its surprise at each feature given the
    others, each mask of features judged against its spread on the training
    rows. Output: one row per input row, in order, with `anomaly_score` and
    `is_anomaly` (0/1), the label/id columns carried through and, with
    --explain K, the K features with the largest errors (`top1_feature`,
    `top1_error`, ...; a text, true/false or categorical column counts as one,
    named by the row's own value, e.g. `channel=web`, `status=404`). Columns are matched to the model's
    features by name (any order; missing or unexpected ones are refused, naming
    them); a
    headerless file is taken in order. Pixel rows in 0..255 are scaled to
    [0, 1] for image models. The table is read in chunks, so it may be larger
    than memory. A summary (rows scored, rows flagged, threshold, and the AUROC
    when a 0/1 label column is given) goes to stderr. On a CPU, dense models
    run in numpy, which spares PyTorch's start-up.

    Several files (or a quoted glob such as 'data/*.parquet') are scored in parallel on
    a Dask cluster: local worker processes, or --scheduler's. Their output rows come in
    file and row order, with `file` and `row` (1-based in its file) first, so that
    every input row appears exactly once even when a worker dies and its work is
    retried; Parquet files are split by row group.

    \b
    Examples:
      aekit detect samples/mnist_rows.csv --label-column anomaly -o scores.csv
      aekit train --data samples/transactions.csv --label-column is_fraud -o tx.safetensors
      aekit detect samples/transactions.csv -m tx.safetensors --label-column is_fraud --explain 2
      aekit detect 'flows/*.parquet' -m flows.safetensors --id-column flow_id -o scores.parquet
    """
    from ..distributed import expand_inputs
    from .options import table_kwargs

    if contamination is not None and threshold is not None:
        raise click.UsageError("give --contamination or --threshold, not both")
    if threshold is not None and not math.isfinite(threshold):
        raise click.BadParameter(f"{threshold} is not a finite number", param_hint="--threshold")
    files = ["-"] if list(data) == ["-"] else expand_inputs(data)
    twice = [f for f in dict.fromkeys(map(str, data)) if list(map(str, data)).count(f) > 1]
    if twice and not quiet:
        click.echo(f"note: {twice[0]} is given more than once; each file is scored once",
                   err=True)
    check_output_path(output, *files, model)
    check_output_kind(output, TABLE_SUFFIXES, "tables")
    check_report_folder(report)
    table, note = roles_as_in_training(table, model or DEFAULT_MODEL, files[0])
    if note and not quiet:
        click.echo(f"note: {note}", err=True)
    if len(files) == 1 and not scheduler:
        from ..errors import WidthError

        try:
            return run(files[0], model or DEFAULT_MODEL, output, contamination, threshold,
                       explain, table_kwargs(table), normal_labels, report, device, quiet,
                       categorical)
        except WidthError as e:
            if model:
                raise
            from .options import in_flags

            raise click.ClickException(
                f"{in_flags(e)}: with no --model, the bundled {DEFAULT_MODEL} scores it, for "
                f"rows of 28x28 digit pixels; give -m MODEL, e.g. one of `aekit train --data "
                f"{files[0]}`") from None
    if explain or report or "-" in files:
        raise click.UsageError("--explain, --report and stdin are for a single table, not "
                               "for several files or a --scheduler")
    from .detect_many import run_many

    run_many(files, model or DEFAULT_MODEL, output, contamination, threshold,
             table_kwargs(table), normal_labels, scheduler, workers, device, quiet, categorical)


def run(data, model, output, contamination, threshold, explain, table, normal_labels, report,
        device, quiet, categorical=()):
    from ..labels import AnomalyLabels, auroc_report
    from ..reports import write_report
    from ..scorer import Scorer
    from ..table_detection import detect_table, rows_per_chunk
    from ..tables import open_table
    from ..tables.writers import TableWriter
    from .options import check_categorical, counted, flag_wording

    scorer = Scorer(model, device=device)
    source = open_table(data, **table)
    check_categorical(categorical, scorer.schema, source, model)
    source.chunksize = rows_per_chunk(source.n_columns)
    echo_notes(source, quiet)
    labels = AnomalyLabels(normal_labels, scorer.digits, flag_wording) \
        if table["label_column"] else None
    bar = None if quiet else _progress_bar()
    with TableWriter(output) as writer:
        summary = detect_table(source, scorer, writer, contamination, threshold, explain,
                               keep_scores=report is not None, labels=labels,
                               progress=None if bar is None else bar.update)
    if bar is not None:
        bar.close()
    labelled, line = auroc_report(labels, summary.scores)
    if not quiet:
        n, m = summary.rows, summary.flagged
        scale = "; pixels 0..255 scaled to [0, 1]" if summary.pixels else ""
        click.echo(f"scored {counted(n, 'row')}, flagged {m} ({100.0 * m / max(n, 1):.2f}%) "
                   f"with threshold {summary.threshold:.6g} ({summary.how}){scale}", err=True)
        if summary.note:
            click.echo(f"note: {summary.note}", err=True)
        if line:
            click.echo(line if labelled is not None else f"note: {line}", err=True)
    if report:
        for p in write_report(report, summary, labelled, scorer.rule.score_type):
            if not quiet:
                click.echo(f"wrote {p}", err=True)


def _progress_bar():
    import sys

    from tqdm.auto import tqdm

    return tqdm(unit=" rows", desc="scoring", file=sys.stderr, disable=None, dynamic_ncols=True,
                leave=False)
