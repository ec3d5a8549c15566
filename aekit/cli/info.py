"""`aekit info MODEL`: what a model file holds."""

import click


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
def command(model):
    """Print a model file's estimator, architecture, training summary and figures."""
    from ..serialization import describe

    click.echo(describe(model))
