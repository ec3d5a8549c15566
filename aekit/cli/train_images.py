"""`aekit train --images DIR`: train a blind image denoiser on a folder of images.

Kept apart from `aekit train`'s MNIST and table paths (:mod:`aekit.cli.train_run`):
that command only hands over here when --images is given or the checkpoint to resume
is an image denoiser's.
"""

import click

from .options import counted, exit_interrupted

# `aekit train` options that mean something with --images (the rest are refused)
IMAGE_OPTIONS = {"images", "validation_images", "patch_size", "patches", "noise", "channels",
                 "epochs", "batch_size", "lr", "lr_schedule", "patience",
                 "validation_fraction", "seed", "device", "output", "checkpoint", "resume",
                 "quiet", "data_dir", "report"}
DEFAULT_NOISE = "gaussian:0-0.22"


def is_image_checkpoint(path):
    """Whether ``path`` is a model file written by an image denoiser's training."""
    from ..errors import ModelFileError
    from ..model_file import read_model_file
    from ..photo_denoiser import ESTIMATOR

    try:
        doc, _ = read_model_file(path)
    except ModelFileError:
        return False  # the MNIST/table path says what is wrong with it
    return doc.get("estimator") == ESTIMATOR


def check_options(opts):
    """Refuse, naming it, an option given on the command line that --images does not use."""
    ctx = click.get_current_context()
    for p in ctx.command.params:
        if p.name not in IMAGE_OPTIONS and \
                ctx.get_parameter_source(p.name) == click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError(f"{p.opts[0]} does not apply to --images (image denoisers "
                                   "take --noise, --patch-size, --patches, --channels, --epochs, "
                                   "--batch-size, --lr, --lr-schedule, --patience)")
    if opts["report"]:
        raise click.UsageError("--report does not apply to --images: the validation PSNR is "
                               "printed and stored in the model file")
    channels = opts.get("channels") or ()
    if len(channels) > 1:
        raise click.UsageError("--channels with --images takes one number: the channels of "
                               "the network's hidden convolutions")


def params_of(opts):
    """ImageDenoiser parameters from the options given (the rest are its defaults)."""
    params = {"noise": opts["noise"] or DEFAULT_NOISE, "random_state": opts["seed"]}
    names = {"patch_size": "patch_size", "patches": "patches", "epochs": "epochs",
             "batch_size": "batch_size", "lr": "lr", "lr_schedule": "lr_schedule",
             "patience": "patience", "device": "device"}
    params.update({p: opts[o] for o, p in names.items() if opts.get(o) is not None})
    if opts.get("channels"):
        params["features"] = opts["channels"][0]
    return params


def run(opts, out, ckpt):
    """Train (or resume), write the model, print the validation PSNR table."""
    from ..image_training import report_table, train_on_images

    if not opts["resume"]:
        check_options(opts)
    fraction = opts["validation_fraction"] if opts["validation_fraction"] is not None else 0.1
    try:
        den, rows = train_on_images(
            opts["images"], params_of(opts) if not opts["resume"] else None, out, ckpt,
            validation_fraction=fraction, validation_folder=opts["validation_images"],
            resume=opts["resume"], verbose=not opts["quiet"],
            log=lambda line: click.echo(line, err=True))
    except KeyboardInterrupt:
        exit_interrupted(ckpt, out)
    s = den.summary_
    click.echo(f"saved {out} ({counted(s['epochs'], 'epoch')}, {s['seconds']:.0f} s, "
               f"{sum(p.numel() for p in den.net_.parameters()):,} parameters)", err=True)
    for line in report_table(rows) or ["(no validation images: no PSNR to report)"]:
        click.echo(line)
