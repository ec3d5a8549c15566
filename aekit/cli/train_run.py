"""`aekit train`'s options turned into a training job (kept apart so that `aekit train
--help` imports no torch); the job itself is :func:`aekit.training_job.train_model`."""

import os
import sys

import click

from .options import exit_interrupted

# the options that are estimator parameters (their defaults are the estimator's own)
PARAMS = ("code_size", "hidden", "arch", "channels", "noise", "epochs", "batch_size", "lr",
          "lr_schedule", "optimizer", "momentum", "weight_decay", "dropout", "batch_norm",
          "validation_fraction", "patience", "lr_patience", "trim", "device", "objective",
          "likelihood", "beta", "warmup", "iw_samples")


def run(opts, out, ckpt):
    from ..errors import TrainingError
    from ..loading import checkpoint_progress, epochs_in_words
    from ..training_job import train_model
    from .options import in_flags

    if opts["resume"]:
        params, data, resume = _resumed(opts)
    else:
        params, data, resume = _fresh(opts)
    rank = int(os.environ.get("RANK", "0"))
    announce = None if resume is None else (lambda: click.echo(
        f"Resuming {opts['resume']} {checkpoint_progress(resume.epoch, resume.fit)}.",
        err=True))
    try:
        result = train_model(data, params, out, ckpt, resume=resume, report=opts["report"],
                             quiet=opts["quiet"], on_start=announce,
                             on_note=lambda line: click.echo(f"note: {in_flags(line)}", err=True),
                             on_plan=lambda plan, X: _say_plan(plan, data.source))
    except KeyboardInterrupt:
        if rank != 0:
            sys.exit(130)
        exit_interrupted(ckpt, out)
    except TrainingError as e:
        from .options import flag_wording

        kept = f"; the last good checkpoint is {ckpt}" if ckpt.exists() else ""
        raise click.ClickException(f"{e.worded(flag_wording)}{kept}") from None
    if result is not None:  # (None: a rank other than 0 of a distributed run: rank 0 reports)
        for p in result.report_paths:
            click.echo(f"wrote {p}", err=True)
        s = result.estimator.training_summary_
        click.echo(f"saved {out} ({epochs_in_words(s)}, {s['seconds']:.0f} s on "
                   f"{s['device']})", err=True)
        click.echo(result.evaluation_line)
    _end_distributed_process()


def _end_distributed_process():
    """Under torchrun, end this process now that its work is done and written: PyTorch
    2.14's DDP on gloo sometimes aborts Python's own shutdown afterwards (SIGABRT,
    "terminate called without an active exception"), and torchrun then reports a run
    whose model was saved as failed. Measured with a plain DDP script on a loaded 2-core
    CPU: 3 and 4 runs of 25 aborted at exit, none of 30 that ended so."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _say_plan(plan, source):
    """The note on what "auto" chose for the data (``source``: "table" or "mnist"), in
    flags."""
    from .options import flag_of, shown_value

    if not plan.chosen:
        return
    # a table's numbers may come as an array (a file without a header): its source says
    what = "table" if source == "table" else "data"
    options = " ".join(f"{flag_of(k)} {shown_value(v)}" for k, v in plan.chosen.items())
    click.echo(f"note: chosen from the {what}'s {plan.schema.n_features} feature columns and "
               f"{plan.n_samples:,} rows: {options}", err=True)


def _fresh(opts):
    from ..design import check_combination
    from ..training_data import TrainingData
    from .options import table_kwargs

    check_combination({k: opts[k] for k in PARAMS if opts.get(k) is not None})  # before reading
    if opts["data_path"]:
        table = table_kwargs(opts)
        data = TrainingData("table", path=str(opts["data_path"]), limit=opts["limit"],
                            label_column=table["label_column"],
                            id_columns=list(table["id_columns"]),
                            ignore_columns=list(table["ignore_columns"]), sep=table["sep"],
                            decimal=table["decimal"], header=table["header"])
    else:
        data_dir = os.path.abspath(opts["data_dir"]) if opts["data_dir"] else None
        data = TrainingData("mnist", digits=list(opts["digits"] or []) or None,
                            limit=opts["limit"], data_dir=data_dir)
    # options left out take the estimator's defaults (aekit.training_job.estimator_for)
    params = {k: opts[k] for k in PARAMS if opts.get(k) is not None}
    params["random_state"] = opts["seed"]
    if opts["categorical"]:
        from .options import categorical_columns

        params["categorical"] = list(categorical_columns(opts["categorical"],
                                                         str(opts["data_path"]), table))
        # the declared columns are read as text, as `aekit detect` reads them (a header's by
        # name, a headerless file's by feature position): a code is then never widened to
        # a float (2**60 and 2**60 + 1 kept apart, "3,5" in a decimal-comma file kept as
        # written)
        data.text_columns = list(params["categorical"])
    return params, data, None


def _resumed(opts):
    from ..checkpoint import read_checkpoint
    from ..errors import AekitError, ModelFileError
    from ..training_data import TrainingData

    ckpt = read_checkpoint(opts["resume"])
    try:
        data = TrainingData.from_json(ckpt.data)
    except ValueError as e:
        raise ModelFileError(f"{opts['resume']} is a damaged training checkpoint ({e})") from None
    if data.source == "table" and data.path == "-":
        raise AekitError("cannot resume a run that read its data from stdin")
    if opts["data_dir"]:
        data.data_dir = os.path.abspath(opts["data_dir"])
    params = {k: v for k, v in ckpt.params.items() if k != "verbose"}
    if opts["device"] not in (None, "auto"):
        params["device"] = opts["device"]
    return params, data, ckpt
