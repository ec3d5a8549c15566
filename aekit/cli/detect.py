"""`aekit detect`: score every row of a CSV and flag the anomalies."""

import click

from .options import check_output_path, device_option


@click.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-m", "--model", type=click.Path(exists=True, dir_okay=False),
              help="A model from `aekit train` or a saved AnomalyDetector "
              "[default: the bundled MNIST detector, when installed].")
@click.option("-c", "--contamination", type=click.FloatRange(0, 0.5, min_open=True),
              help="Flag this share of rows as the training data would be flagged: the "
              "threshold is the (1 - C) quantile of the training errors "
              "[default: 0.01, or a detector's own threshold].")
@click.option("-t", "--threshold", type=click.FloatRange(min=0),
              help="Flag rows whose anomaly_score exceeds this value.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              show_default=True, help="Output CSV ('-' for stdout).")
@click.option("--explain", "explain", type=click.IntRange(min=0), default=0, show_default=True,
              metavar="K", help="Add the K features with the largest errors to each row.")
@click.option("--label-column", help="Column carried to the output, not scored (name or "
              "0-based number); with --report it also gives the ROC curve.")
@click.option("--id-column", help="Id column carried to the output, not scored.")
@click.option("--normal-label", "normal_labels", multiple=True,
              help="With --report: label value(s) of normal rows (repeatable) "
              "[default: 0 of a 0/1 label; for a model trained on some MNIST digits, those digits].")
@click.option("--report", type=click.Path(file_okay=False),
              help="Write pictures here: the score histogram with the threshold, and the "
              "ROC curve when a label column is given.")
@device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
def command(data, model, contamination, threshold, output, explain, label_column, id_column,
            normal_labels, report, device, quiet):
    """Score each row of DATA (a numeric CSV) and flag anomalous rows.

    The score is the model's reconstruction error (higher = more anomalous).
    Output: one row per input row, in order, with `anomaly_score` and
    `is_anomaly` (0/1), the label/id columns carried through and, with
    --explain K, the K worst-reconstructed features (`top1_feature`,
    `top1_error`, ...). A header row is optional. Pixel rows in 0..255 are
    scaled to [0, 1] for MNIST models. The file is read in chunks, so it may be
    larger than memory. A summary (rows scored, rows flagged, threshold) goes to
    stderr. On a CPU, dense models are run with numpy, which spares PyTorch's
    start-up; convolutional models and GPUs use PyTorch.

    \b
    Examples:
      aekit train --digits 3 -o three.safetensors
      aekit detect digits.csv --model three.safetensors --label-column label -o scores.csv
      aekit detect table.csv --model table.safetensors --contamination 0.05 --explain 3
    """
    if contamination is not None and threshold is not None:
        raise click.UsageError("give --contamination or --threshold, not both")
    check_output_path(output, data, model)
    from .detect_run import resolve_model, run_detect

    scorer = resolve_model(model, device=device)
    run_detect(scorer, data, output=output, contamination=contamination, threshold=threshold,
               explain=explain, label_column=label_column, id_column=id_column,
               normal_labels=normal_labels, report=report, quiet=quiet)
