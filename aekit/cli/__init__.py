"""The ``aekit`` command line: one command per verb, each in its own module.

Commands check their options (click) and call the library for the work. They are
imported only when run, and none imports torch at module level, so ``aekit
--help`` stays fast. :class:`LazyGroup` serves the top level and ``aekit
evaluate`` alike.
"""

import contextlib
import importlib
import importlib.util
import os
import warnings

import click

from .. import __version__

PYTHON_SHOWWARNING = warnings.showwarning

# name -> (module, one-line help shown by `aekit --help` without importing it)
COMMANDS = {
    "train": ("aekit.cli.train", "Train an autoencoder on MNIST, a table or a folder of images."),
    "denoise": ("aekit.cli.denoise", "Clean noisy images: digits and photos (PNG/JPEG/TIFF/BMP)."),
    "detect": ("aekit.cli.detect", "Score each row of a table and flag anomalies."),
    "encode": ("aekit.cli.encode", "Extract the learned features (codes) of a table's rows."),
    "impute": ("aekit.cli.impute", "Fill missing cells of a table with the autoencoder."),
    "sample": ("aekit.cli.sample", "Draw new digits or table rows from a VAE."),
    "interpolate": ("aekit.cli.interpolate", "Decode the path between two digits with a VAE."),
    "noise": ("aekit.cli.noise", "Add noise to an image (to make test inputs)."),
    "evaluate": ("aekit.cli.evaluate", "Run the evaluation protocols against baselines."),
    "info": ("aekit.cli.info", "Show what a model file holds."),
    "models": ("aekit.cli.models", "List the bundled pretrained models."),
}


class LazyGroup(click.Group):
    """A group whose commands are modules imported only when run.

    ``commands``: name -> (module holding ``command``, one-line help); ``section``:
    the heading of the list in ``--help``.
    """

    def __init__(self, *args, commands=None, section="Commands", **kwargs):
        super().__init__(*args, **kwargs)
        self.commands_table = COMMANDS if commands is None else commands
        self.section = section

    def list_commands(self, ctx):
        return [n for n, (mod, _) in self.commands_table.items() if _module_exists(mod)]

    def get_command(self, ctx, name):
        if name not in self.commands_table or not _module_exists(self.commands_table[name][0]):
            return None
        return importlib.import_module(self.commands_table[name][0]).command

    def format_commands(self, ctx, formatter):
        rows = [(n, self.commands_table[n][1]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section(self.section):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        from ..errors import ParameterError

        try:
            return super().invoke(ctx)
        except OneLineUsageError:
            raise
        except click.UsageError as e:  # bad options or input paths: one line, like other errors
            raise OneLineUsageError(e) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except ParameterError as e:  # options that cannot go together: a usage error
            if os.environ.get("AEKIT_DEBUG"):
                raise
            raise OneLineUsageError(click.UsageError(user_message(e))) from None
        except KeyboardInterrupt as e:
            stopped = isinstance(e, Terminated)
            click.echo("Terminated." if stopped else "Interrupted.", err=True)
            ctx.exit(143 if stopped else 130)
        except BrokenPipeError:
            # the reader went away (`aekit models | head`): stop quietly, as Unix tools do;
            # stdout now points at /dev/null so that Python's exit-time flush cannot fail
            import sys

            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(141)
        except Exception as e:  # one line for the user; the traceback on request
            if os.environ.get("AEKIT_DEBUG"):
                raise
            raise click.ClickException(user_message(e)) from None


class OneLineUsageError(click.UsageError):
    """A usage error shown as one line on stderr (click's default adds the usage and a hint).

    Scripts and people alike read the last line; the usage text is one
    ``--help`` away, which the line names when the problem is not a bad value.
    """

    def __init__(self, error):
        super().__init__(error.format_message(), error.ctx)
        self.hint = not isinstance(error, click.BadParameter) and error.ctx is not None

    def show(self, file=None):
        hint = f" (see '{self.ctx.command_path} --help')" if self.hint else ""
        click.echo(f"Error: {self.format_message()}{hint}", file=file, err=file is None,
                   color=self.ctx.color if self.ctx else None)


def user_message(e):
    """One line for the user about an exception; the parameters an aekit error names are
    worded as this command line's flags."""
    from ..errors import Worded
    from .options import in_flags

    text = in_flags(e)
    text = text.strip().splitlines()[0] if text.strip() else ""
    if isinstance(e, (Worded, ValueError)):
        return text or type(e).__name__
    if isinstance(e, MemoryError):
        return "out of memory: try a smaller --batch-size or a smaller input"
    if isinstance(e, OSError):
        name = f": {e.filename}" if getattr(e, "filename", None) else ""
        return f"{e.strerror or text}{name}"
    return f"unexpected error: {type(e).__name__}: {text} (set AEKIT_DEBUG=1 for a traceback)"


def _module_exists(name):
    return importlib.util.find_spec(name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aekit")
def cli():
    """aekit: autoencoders for denoising images, finding anomalies and learning features.

    \b
    Quick start (bundled models, no download needed):
      aekit denoise samples/noisy_7.png
      aekit detect samples/mnist_rows.csv --label-column anomaly
    Run `aekit COMMAND --help` for the options of each command.
    """
    warnings.showwarning = show_warning


def show_warning(message, category, filename, lineno, file=None, line=None):
    """A library warning as one line on stderr ("warning: ..."), without the source line
    Python shows by default (set AEKIT_DEBUG=1 for the usual form)."""
    if os.environ.get("AEKIT_DEBUG"):
        return PYTHON_SHOWWARNING(message, category, filename, lineno, file, line)
    from .options import in_flags

    text = in_flags(message)
    text = text.strip().splitlines()[0] if text.strip() else category.__name__
    click.echo(f"warning: {text}", err=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `timeout`, a job scheduler, `kill`) as a Ctrl-C: what is being written is
    removed, and a training run keeps its checkpoint, where the signal's default would
    stop Python at once and leave a half-written temporary file."""


def _terminated(signum, frame):
    raise Terminated


def main(argv=None):
    import signal

    with contextlib.suppress(ValueError):  # (only the main thread may set a handler)
        signal.signal(signal.SIGTERM, _terminated)
    cli.main(args=argv, prog_name="aekit")

