"""Option types and helpers shared by several commands (no torch here)."""

import click


class IntList(click.ParamType):
    """A comma-separated list of integers: ``512,256``."""

    name = "N,N,..."

    def __init__(self, minimum=None, maximum=None):
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value, param, ctx):
        if isinstance(value, (tuple, list)):
            return tuple(value)
        try:
            out = tuple(int(v) for v in str(value).split(",") if v.strip() != "")
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of integers", param, ctx)
        if not out:
            self.fail("give at least one number", param, ctx)
        for v in out:
            if (self.minimum is not None and v < self.minimum) or (
                self.maximum is not None and v > self.maximum
            ):
                self.fail(f"{v} is outside {self.minimum}..{self.maximum}", param, ctx)
        return out


class NoiseSpec(click.ParamType):
    name = "KIND:LEVEL"

    def convert(self, value, param, ctx):
        from ..noise import parse_noise

        try:
            parse_noise(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)
        return value


def device_option(f):
    return click.option(
        "--device", default="auto", show_default=True,
        help="auto (a CUDA GPU when there is one), cpu, cuda, cuda:N.",
    )(f)


def data_dir_option(f):
    return click.option(
        "--data-dir", type=click.Path(file_okay=False), default=None,
        help="Folder holding the four MNIST IDX files (default: $AEKIT_DATA, then the "
        "user cache, downloading there if needed).",
    )(f)


def check_output_path(out, *inputs):
    """Refuse an output that would overwrite an input or land in a missing folder."""
    import os
    from pathlib import Path

    if out is None or str(out) == "-":
        return
    out_p = Path(out)
    for i in inputs:
        if i is None or str(i) == "-":
            continue
        try:
            if out_p.exists() and os.path.samefile(out_p, i):
                raise click.ClickException(f"output {out} is the input file; choose another name")
        except OSError:
            pass
        if out_p.resolve() == Path(i).resolve():
            raise click.ClickException(f"output {out} is the input file; choose another name")
    if out_p.is_dir():
        raise click.ClickException(f"output {out} is a folder; give a file name")
    parent = out_p.parent if str(out_p.parent) else Path(".")
    if not parent.is_dir():
        raise click.ClickException(f"output folder does not exist: {parent}")
