"""`aekit train`: fit an autoencoder on MNIST (or a table) and save it."""

from pathlib import Path

import click

import functools

from ..nn.config import ARCHS, LR_SCHEDULES, OPTIMIZERS
from ..design import TRAIN_OBJECTIVES
from ..params import (LIKELIHOOD_CHOICES, AutoencoderParams, DenoisingParams, DetectorParams,
                      VAEParams, help_text)
from .options import (
    SEED, FloatRange, IntList, IntRange, NoiseSpec, categorical_option, check_output_kind,
    check_output_path, check_report_folder, data_dir_option, flag_wording, param_option,
    table_options)

# the estimators `aekit train` fits (aekit.training_job.estimator_for), whose defaults --help
# shows side by side
KINDS = [("", AutoencoderParams), ("with --noise", DenoisingParams),
         ("with --data or --digits", DetectorParams), ("with --objective vae", VAEParams)]
option = functools.partial(param_option, kinds=KINDS)


@click.command()
@data_dir_option
@click.option("--data", "data_path", type=click.Path(exists=True, allow_dash=True),
              help="Train on a table (CSV, '-' for stdin, or Parquet) instead of MNIST.")
@table_options
@categorical_option(help_text(DetectorParams, "categorical", flag_wording)
                    + " Each a column of the --data table, by name (or 0-based number, as "
                    "for --id-column); repeatable. The model file keeps how it reads "
                    "each column: `aekit detect` reads a new table's alike (a code never "
                    "seen in training by the column's unseen slot, status=(unseen)).")
@click.option("--digits", type=IntList(0, 9, unique=True),
              help="Train on these MNIST classes only, e.g. 1,7.")
@click.option("--limit", type=IntRange(min=2),
              help="Use only the first N training rows (at least 2: one row has no spread).")
@option("--code-size", type=IntRange(min=1))
@option("--hidden", type=IntList(1))
@option("--objective", type=click.Choice(TRAIN_OBJECTIVES),
        help_prefix="vae: a variational autoencoder (a generative model: `aekit sample`). ")
@option("--likelihood", type=click.Choice(LIKELIHOOD_CHOICES))
@option("--beta", type=FloatRange(min=0, min_open=True))
@option("--warmup", type=FloatRange(min=0))
@option("--iw-samples", type=IntRange(min=1))
@option("--arch", type=click.Choice(ARCHS))
@option("--channels", type=IntList(1))
@click.option("--noise", type=NoiseSpec(), default=None,
              help="Train a denoising autoencoder with this input corruption: "
              "gaussian:SIGMA, masking:P, dropout:P, saltpepper:P or block:S (an SxS hole); "
              "join several with + to draw one per image.  [default: none: a plain "
              "autoencoder on MNIST, a detector with --data or --digits]")
@option("--epochs", type=IntRange(min=1))
@option("--batch-size", type=IntRange(min=1))
@option("--lr", type=FloatRange(min=0, min_open=True))
@option("--lr-schedule", type=click.Choice(LR_SCHEDULES))
@option("--optimizer", type=click.Choice(OPTIMIZERS))
@option("--momentum", type=FloatRange(0, 1, max_open=True))
@option("--weight-decay", type=FloatRange(min=0))
@option("--dropout", type=FloatRange(0, 1, max_open=True))
@option("--batch-norm/--no-batch-norm", name="batch_norm")
@option("--validation-fraction", type=FloatRange(0, 1, max_open=True))
@option("--patience", type=IntRange(min=0))
@option("--lr-patience", type=IntRange(min=0))
@option("--trim", type=FloatRange(0, 0.5, max_open=True))
@click.option("--images", type=click.Path(exists=True, file_okay=False),
              help="Train a blind photo denoiser on the images under this folder (PNG, JPEG, "
                   "TIFF, BMP; recursively) instead: see the description above.")
@click.option("--validation-images", type=click.Path(exists=True, file_okay=False),
              help="With --images: validate on this folder's images [default: a share of "
                   "--images' files, --validation-fraction, 0.1].")
@click.option("--patch-size", type=IntRange(8, 512),
              help="With --images: side of the training patches, pixels. [default: 48]")
@click.option("--patches", type=IntRange(min=1),
              help="With --images: training patches drawn from the images. [default: 8000]")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Random seed: the same seed on the same machine gives the same model.")
@click.option("--device", default=None,
              help="auto (a CUDA GPU when there is one), cpu, cuda, cuda:N.  [default: auto]")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="model.safetensors",
              show_default=True, help="Where to write the model (safetensors).")
@click.option("--checkpoint", type=click.Path(dir_okay=False),
              help="Checkpoint written after every epoch, removed once the model is saved "
                   "[default: OUTPUT with .ckpt.safetensors].")
@click.option("--resume", type=click.Path(exists=True, dir_okay=False),
              help="Continue an interrupted run from its checkpoint, with the checkpoint's own "
                   "data and settings (give neither).")
@click.option("--report", type=click.Path(file_okay=False),
              help="Write pictures here: loss curves and inputs vs reconstructions.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def command(**opts):
    """Train an autoencoder and save it as a safetensors model file.

    \b
    Examples:
      aekit train --epochs 20 -o mnist.safetensors
      aekit train --noise gaussian:0.5 --epochs 20 -o denoiser.safetensors
      aekit train --noise gaussian:0.5 --arch conv --epochs 15 -o conv.safetensors
      aekit train --digits 3 -o three.safetensors        # for `aekit detect`
      aekit train --data samples/transactions.csv --label-column is_fraud -o tx.safetensors
      aekit train --images photos/ --noise gaussian:0-0.2 -o photos.safetensors

    Without --noise it trains a plain autoencoder (features, reconstruction); with
    --noise, a denoising one (a larger network by default); with --data (a table)
    or --digits, an anomaly detector for `aekit detect`, which `aekit.load` gives
    back as an AnomalyDetector. A detector's options not given are chosen from the
    data as AnomalyDetector() chooses them (their defaults below say how: the
    objective, the network's size and, for a masked model, --trim), and a note
    says what was chosen.
    With --images DIR it trains a blind denoiser of photos and scans (the
    network the bundled photo-denoiser was first trained as) on random patches,
    with --noise gaussian:0-0.22 by default (sigma drawn from 0 to 56 of 255 per
    patch; gaussian:0.1 is sigma 25.5 of 255), and prints the validation PSNR of
    the noisy input, the model and a classical wavelet denoiser at sigma 15, 25
    and 50.
    Progress (epoch, training and validation loss) goes to stderr; the last line
    says how the model did at what it was trained for (on MNIST's test images:
    the reconstruction error beside PCA's, or for a denoiser the PSNR on noisy
    images). An interrupted run (Ctrl-C) keeps its last checkpoint: continue it
    with `aekit train --resume CHECKPOINT`. Launched with `torchrun
    --nproc_per_node N -m aekit train ...`, it trains data-parallel (DDP).
    """
    out = Path(opts["output"])
    from .train_images import is_image_checkpoint

    if opts["images"] or (opts["resume"] and is_image_checkpoint(opts["resume"])):
        return _train_images(opts, out)  # issue 25: a photo denoiser
    for o in ("validation_images", "patch_size", "patches"):
        if opts[o] is not None:
            raise click.UsageError(f"--{o.replace('_', '-')} applies to --images")
    ckpt = _checked_outputs(opts, out, opts["data_path"], "data")
    if opts["arch"] == "conv" and opts["hidden"]:
        raise click.UsageError("--hidden sizes the dense layers; with --arch conv use --channels")
    if opts["arch"] != "conv" and opts["channels"]:
        raise click.UsageError("--channels applies to --arch conv")
    if opts["data_path"] and opts["digits"]:
        raise click.UsageError("--digits applies to MNIST, not to --data tables")
    table_only = [o for o in ("label_column", "id_columns", "ignore_columns", "sep", "decimal",
                              "header", "categorical") if opts[o] not in (None, ())]
    if table_only and not opts["data_path"] and not opts["resume"]:
        raise click.UsageError(f"--{table_only[0].replace('_', '-').rstrip('s')} applies to "
                               "--data tables, not to MNIST")
    from .train_run import run

    run(opts, out, ckpt)


def _checked_outputs(opts, out, inputs, what):
    """The checkpoint path, once the output and checkpoint are checked against ``inputs``
    and, on --resume, no setting but those a resumed run may change was given."""
    ckpt = Path(opts["checkpoint"]) if opts["checkpoint"] else _default_checkpoint(out)
    if opts["resume"] and not opts["checkpoint"]:
        ckpt = Path(opts["resume"])
    check_output_path(out, inputs, opts["resume"])
    check_output_path(ckpt, inputs)
    check_output_kind(out, (".safetensors",), "model files")
    check_report_folder(opts["report"])
    if ckpt.resolve() == out.resolve():
        raise click.UsageError("--checkpoint and --output must be different files")
    if opts["resume"]:
        context = click.get_current_context()
        given = [p.opts[0] for p in context.command.params if p.name not in RESUME_OPTIONS
                 and context.get_parameter_source(p.name) == click.core.ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"--resume continues with the checkpoint's own {what} and "
                                   f"settings; drop {', '.join(given)}")
    return ckpt


def _train_images(opts, out):
    ckpt = _checked_outputs(opts, out, opts["images"], "images")
    from .train_images import run

    run(opts, out, ckpt)


# what may change when a run is resumed (the rest is the checkpoint's)
RESUME_OPTIONS = {"resume", "output", "checkpoint", "device", "quiet", "report", "data_dir"}


def _default_checkpoint(out):
    name = out.name[: -len(".safetensors")] if out.name.endswith(".safetensors") else out.name
    return out.with_name(name + ".ckpt.safetensors")
