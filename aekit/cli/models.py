"""`aekit models`: the bundled pretrained models."""

import click


@click.command()
def command():
    """List the models bundled with aekit, where they are, and the figures they measured.

    Their names work wherever a model file is accepted (`--model mnist-denoiser`,
    `aekit info mnist-detector`); `aekit denoise` and `aekit detect` use them when
    --model is omitted, and Python reads them with `aekit.load_pretrained(NAME)`.
    """
    from ..pretrained import catalogue

    for name, text, path, figures in catalogue():
        click.echo(f"{name}\n  {text}")
        click.echo(f"  file: {path}" if path else "  (not installed)")
        if figures:
            shown = ", ".join(f"{k}: {_readable(v)}" for k, v in figures.items())
            click.echo(f"  measured: {shown}")


def _readable(value):
    """A stored figure for a person: numbers to 4 significant digits, lists and dicts
    spelled out without Python's brackets."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_readable(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(_readable(v) for v in value)
    return str(value)
