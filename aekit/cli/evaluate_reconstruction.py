"""`aekit evaluate reconstruction`: protocol R."""

import click

from ..params import LR_SCHEDULES
from .options import (FloatRange, IntList, IntRange, ModelArg, data_dir_option,
                      device_option, digit_model, SEED)


@click.command()
@data_dir_option
@click.option("-m", "--model", type=ModelArg(),
              help="Evaluate this trained model (a file, or a bundled model's name: `aekit "
                   "models`) instead of fitting one; the options from --code-size to "
                   "--validation-fraction are then unused (--limit is PCA's).")
@click.option("--code-size", type=IntRange(min=1), default=30, show_default=True)
@click.option("--hidden", type=IntList(1), default="1000,500,250", show_default=True)
@click.option("--epochs", type=IntRange(min=1), default=40, show_default=True)
@click.option("--batch-size", type=IntRange(min=1), default=128, show_default=True)
@click.option("--lr", type=FloatRange(min=0, min_open=True), default=1e-3, show_default=True)
@click.option("--lr-schedule", type=click.Choice(LR_SCHEDULES), default="plateau",
              show_default=True)
@click.option("--batch-norm/--no-batch-norm", default=False, show_default=True)
@click.option("--validation-fraction", type=FloatRange(0, 1, max_open=True), default=0.1,
              show_default=True,
              help="Held out for early stopping; 0 trains on all 60,000 images (with onecycle).")
@click.option("--limit", type=IntRange(min=1), help="Fit on the first N training images only.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@device_option
def command(data_dir, model, code_size, hidden, epochs, batch_size, lr, lr_schedule, batch_norm,
            validation_fraction, limit, seed, device):
    """Protocol R: SSE per MNIST test image of the autoencoder and of PCA, same k.

    Fits on the 60,000 training images (the whole protocol takes minutes).
    """
    from .. import load
    from ..autoencoder import Autoencoder
    from ..evaluation.reconstruction import reconstruction

    if model:
        est = digit_model(load(model, device=device), model, "evaluate reconstruction "
                          "measures", reconstruction=True)
        code_size = est.net_.config.code_size
    if limit is not None and limit < code_size:
        raise click.UsageError(f"--limit {limit} leaves fewer images than the {code_size} "
                               "components PCA is compared at (the code size)")
    if not model:
        est = Autoencoder(code_size=code_size, hidden=hidden, noise=None, epochs=epochs,
                          batch_size=batch_size, lr=lr, lr_schedule=lr_schedule,
                          batch_norm=batch_norm,
                          validation_fraction=validation_fraction, random_state=seed,
                          device=device, verbose=1)
    result = reconstruction(est, data_dir=data_dir, limit=limit, model_path=model)
    click.echo(result.table())
