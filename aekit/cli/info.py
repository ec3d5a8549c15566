"""`aekit info MODEL`: what a model file holds."""

import click

from .options import ModelArg


@click.command()
@click.argument("model", type=ModelArg())
def command(model):
    """Print a model file's estimator, architecture, input, training summary and figures.

    MODEL is a model file or a bundled model's name (`aekit models`).
    """
    from ..loading import describe

    click.echo(describe(model))
