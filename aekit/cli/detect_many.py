"""`aekit detect` on several files or a Dask scheduler (the work is aekit.distributed's)."""

import importlib.util

import click


def run_many(files, model, output, contamination, threshold, table, normal_labels, scheduler,
             workers, device, quiet, categorical=()):
    from ..distributed import detect_files
    from ..labels import AnomalyLabels, auroc_report
    from ..scorer import Scorer
    from ..tables.writers import TableWriter
    from ..tables import open_table
    from .options import check_categorical, counted, flag_wording

    if importlib.util.find_spec("dask") is None or \
            importlib.util.find_spec("distributed") is None:
        raise click.ClickException('several files are scored with Dask: pip install '
                                   '"aekit[dask]" (or give one file)')
    scorer = Scorer(model, device=device)  # the model checked, and its threshold resolved
    if categorical:
        check_categorical(categorical, scorer.schema, open_table(files[0], **table), model)
    limit, how = scorer.rule.threshold_for(contamination, threshold)
    label = table["label_column"]
    labels = AnomalyLabels(normal_labels, scorer.digits, flag_wording) if label else None
    scores = []
    bar = None
    if not quiet:
        from tqdm.auto import tqdm

        bar = tqdm(unit=" rows", desc="scoring", disable=None, dynamic_ncols=True, leave=False)

    def on_frame(frame):
        if labels is not None:
            labels.add(frame[label])
            scores.append(frame["anomaly_score"].to_numpy())
        if bar is not None:
            bar.update(len(frame))

    with TableWriter(output) as writer:
        rows, flagged = detect_files(files, model, writer, table, limit, scheduler, workers,
                                     "cpu" if device == "auto" else device, on_frame)
    if bar is not None:
        bar.close()
    if quiet:
        return
    click.echo(f"scored {counted(rows, 'row')} of {len(files)} files, flagged {flagged} "
               f"({100.0 * flagged / max(rows, 1):.2f}%) with threshold {limit:.6g} ({how})",
               err=True)
    if labels is not None:
        import numpy as np

        labelled, line = auroc_report(labels, np.concatenate(scores) if scores else [])
        if line:
            click.echo(line if labelled is not None else f"note: {line}", err=True)
