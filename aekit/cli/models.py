"""`aekit models`: the bundled pretrained models."""

import click


@click.command()
def command():
    """List the models bundled with aekit, with the figures they measured.

    They are used by `aekit denoise` and `aekit detect` when --model is omitted,
    and from Python by `aekit.load_pretrained(NAME)`.
    """
    from ..pretrained import catalogue

    for name, text, figures in catalogue():
        click.echo(f"{name}\n  {text}")
        if figures:
            shown = ", ".join(f"{k}: {v}" for k, v in figures.items())
            click.echo(f"  measured: {shown}")
        else:
            click.echo("  (not installed)")
