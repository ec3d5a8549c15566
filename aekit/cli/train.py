"""`aekit train`: fit an autoencoder on MNIST (or a CSV table) and save it."""

from pathlib import Path

import click

from ..params import ARCHS, LR_SCHEDULES, OPTIMIZERS
from .options import IntList, NoiseSpec, check_output_path, data_dir_option, device_option

QUANTILE_STEPS = 1001  # error percentiles 0, 0.1, ..., 100 stored for `aekit detect`


@click.command()
@data_dir_option
@click.option("--data", "data_csv", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="Train on a numeric CSV table instead of MNIST ('-' for stdin).")
@click.option("--label-column", help="CSV column to leave out of training (name or 0-based number).")
@click.option("--id-column", help="CSV id column to leave out of training.")
@click.option("--digits", type=IntList(0, 9), help="Train on these MNIST classes only, e.g. 1,7.")
@click.option("--limit", type=click.IntRange(min=1), help="Use only the first N training rows.")
@click.option("--code-size", type=click.IntRange(min=1), default=None,
              help="Size of the code (bottleneck).  [default: 32; 128 with --noise]")
@click.option("--hidden", type=IntList(1), default=None,
              help="Encoder hidden layer sizes; the decoder mirrors them.  "
              "[default: 512,256; 1024,512 with --noise]")
@click.option("--arch", type=click.Choice(ARCHS), default=None,
              help="dense: an MLP of --hidden layers; conv: stride-2 convolutions of "
              "--channels filters (square images such as MNIST; a better denoiser).  "
              "[default: dense]")
@click.option("--channels", type=IntList(1), default=None,
              help="Filters of each convolution with --arch conv (each halves the image "
              "side).  [default: 32,64]")
@click.option("--noise", type=NoiseSpec(), default=None,
              help="Train a denoising autoencoder with this input corruption: "
              "gaussian:SIGMA, masking:P, dropout:P, saltpepper:P or block:S (an SxS hole); "
              "join several with + to draw one per image.  [default: none, a plain "
              "autoencoder]")
@click.option("--epochs", type=click.IntRange(min=1), default=50, show_default=True,
              help="Maximum epochs (early stopping may end sooner).")
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True,
              help="Learning rate (the peak rate with --lr-schedule onecycle).")
@click.option("--lr-schedule", type=click.Choice(LR_SCHEDULES), default="plateau",
              show_default=True,
              help="plateau: halve the rate when the validation loss stalls; onecycle: warm "
              "up, then anneal to ~0 by the last epoch (for a fixed epoch budget).")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adam",
              show_default=True)
@click.option("--momentum", type=click.FloatRange(0, 1, max_open=True), default=0.9,
              show_default=True, help="Momentum for sgd and rmsprop.")
@click.option("--weight-decay", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="L2 regularisation.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.0,
              show_default=True)
@click.option("--batch-norm/--no-batch-norm", default=None,
              help="Batch normalisation after each hidden layer.  [default: off; on with --noise]")
@click.option("--validation-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.1,
              show_default=True, help="Share held out for early stopping.")
@click.option("--patience", type=click.IntRange(min=0), default=8, show_default=True,
              help="Epochs without improvement before stopping.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed: the same seed on the same machine gives the same model.")
@device_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="model.safetensors",
              show_default=True, help="Where to write the model (safetensors).")
@click.option("--checkpoint", type=click.Path(dir_okay=False),
              help="Checkpoint written after every epoch [default: OUTPUT with .ckpt.safetensors].")
@click.option("--resume", type=click.Path(exists=True, dir_okay=False),
              help="Continue an interrupted run from its checkpoint (same data and settings).")
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
      aekit train --data table.csv --label-column label -o table.safetensors

    Progress (epoch, training and validation loss) goes to stderr; the last line
    gives the reconstruction error on the MNIST test set (beside PCA's).
    An interrupted run (Ctrl-C) keeps its last checkpoint: continue it with
    `aekit train --resume CHECKPOINT`.
    """
    from .training_run import run_training

    out = Path(opts["output"])
    check_output_path(out, opts["data_csv"], opts["resume"])
    ckpt = Path(opts["checkpoint"]) if opts["checkpoint"] else _default_checkpoint(out)
    if opts["resume"]:
        ckpt = Path(opts["resume"]) if not opts["checkpoint"] else ckpt
    check_output_path(ckpt, opts["data_csv"])
    if ckpt.resolve() == out.resolve():
        raise click.ClickException("--checkpoint and --output must be different files")
    run_training(opts, out, ckpt)


def _default_checkpoint(out):
    name = out.name[: -len(".safetensors")] if out.name.endswith(".safetensors") else out.name
    return out.with_name(name + ".ckpt.safetensors")
