"""Option types and option groups shared by several commands (no torch here)."""

import click

from ..params import defaults, help_text

# parameters whose flag is not --name-with-dashes
FLAGS = {"id_columns": "--id-column", "ignore_columns": "--ignore-column",
         "normal_labels": "--normal-label", "random_state": "--seed", "root": "--data-dir"}


class IntRange(click.IntRange):
    """click.IntRange, whose error for a cell such as 1.5 reads "is not a valid integer"
    (click's says "integer range")."""

    name = "integer"


# every --seed: the seeds numpy's generators take (0 to 2**32 - 1)
SEED = IntRange(0, 2**32 - 1)


class FloatRange(click.FloatRange):
    """click.FloatRange, whose error for a cell such as "abc" reads "is not a valid
    number" (click's says "float range"), and which refuses "nan" (click lets it through
    any range: NaN compares false with both ends)."""

    name = "number"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a valid number.", param, ctx)
        return number


def counted(n, noun):
    """``"1 row"``, ``"2 rows"``: a count and its noun, singular for one."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def flag_of(name):
    """The flag of the CLI that sets library parameter ``name``."""
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def flag_wording(name, value=None):
    """A library parameter as the command line says it: ``--lr``, ``--objective masked``,
    and for ``None`` the flag left out (:mod:`aekit.errors`' wording)."""
    import shlex

    if value is None:
        return flag_of(name)
    if value == "None":
        return f"no {flag_of(name)}"
    if value in ("True", "False"):  # a --flag/--no-flag pair
        return flag_of(name) if value == "True" else "--no-" + flag_of(name)[2:]
    return f"{flag_of(name)} {shlex.quote(value)}"


class IntList(click.ParamType):
    """A comma-separated list of integers: ``512,256``."""

    name = "N,N,..."

    def __init__(self, minimum=None, maximum=None, unique=False):
        self.minimum, self.maximum, self.unique = minimum, maximum, unique

    def convert(self, value, param, ctx):
        if isinstance(value, (tuple, list)):
            return tuple(value)
        try:
            out = tuple(int(v) for v in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of integers", param, ctx)
        for v in out:
            if self.minimum is not None and v < self.minimum:
                self.fail(f"{v} is below {self.minimum}", param, ctx)
            if self.maximum is not None and v > self.maximum:
                self.fail(f"{v} is above {self.maximum}", param, ctx)
        return tuple(dict.fromkeys(out)) if self.unique else out


class Contamination(click.ParamType):
    """A share in (0, 0.5], or "auto"."""

    name = "C|auto"

    def convert(self, value, param, ctx):
        if str(value).strip().lower() == "auto":
            return "auto"
        try:
            c = float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor auto", param, ctx)
        if not 0 < c <= 0.5:
            self.fail(f"{value} is not in (0, 0.5]", param, ctx)
        return c


class NoiseSpec(click.ParamType):
    name = "KIND:LEVEL"

    def convert(self, value, param, ctx):
        from ..nn.noise import parse_noise

        try:
            parse_noise(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)
        return value


class ModelArg(click.ParamType):
    """A model file that exists, or the name of a bundled model (`aekit models`)."""

    name = "MODEL"

    def convert(self, value, param, ctx):
        from pathlib import Path

        from ..pretrained import MODELS

        p = Path(value)
        if p.is_dir():
            self.fail(f"{value} is a folder, not a model file", param, ctx)
        if not p.exists() and value not in MODELS:
            self.fail(f"model file not found: {value} (nor is it a bundled model: "
                      f"{', '.join(sorted(MODELS))})", param, ctx)
        return value


def model_option(required=False, default_help=None):
    text = "A model file (`aekit train`, `save`), or a bundled model's name (`aekit models`)."
    if default_help:
        text += f"  [default: {default_help}]"
    return click.option("-m", "--model", type=ModelArg(), required=required, help=text)


def shown_value(value):
    """A parameter's value as --help shows it."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "on" if value else "off"
    return "none" if value is None else str(value)


def param_option(*decls, kinds, name=None, type=None, help_prefix="", **kwargs):
    """An option for estimator parameter ``name`` (from the option's name by default):
    default None (the estimator's own), its help from :mod:`aekit.params` and its default
    for each kind of estimator the command fits: ``kinds`` is ``[(when, params class)]``,
    the first one the plain case (``when`` is then ""), e.g. ``[("", AutoencoderParams),
    ("with --noise", DenoisingParams)]``; "auto" is shown with what it becomes
    (:func:`aekit.design.auto_rule`); ``help_prefix`` opens the help text."""
    from ..design import AUTO_NAMES, auto_rule

    name = name or decls[-1].lstrip("-").replace("-", "_").split("/")[0]
    parts = []
    for when, cls in kinds:
        if name not in defaults(cls):  # a parameter only some of the kinds have
            continue
        value = defaults(cls)[name]
        text = shown_value(value)
        if value == "auto" and name in AUTO_NAMES:
            text = f"auto, {auto_rule(name)}"
        if parts and text == parts[0][1]:
            continue
        parts.append((when, text))
    shown = "; ".join(f"{when}: {text}" if when else text for when, text in parts)
    first = next(cls for _, cls in kinds if name in defaults(cls))
    return click.option(*decls, type=type, default=None,
                        help=f"{help_prefix}{help_text(first, name, flag_wording)}  "
                             f"[default: {shown}]",
                        **kwargs)


def table_options(f):
    """--label-column, --id-column, --ignore-column, --sep, --decimal."""
    options = [
        click.option("--label-column", help="Column carried through, not a feature (name or "
                     "0-based number)."),
        click.option("--id-column", "id_columns", multiple=True,
                     help="Column carried through untouched (ids, sites, timestamps; "
                     "a CSV's as the text it holds, so text in a Parquet output); "
                     "repeatable."),
        click.option("--ignore-column", "ignore_columns", multiple=True,
                     help="Column left out (not a feature; impute writes it back, other "
                     "commands leave it out of their output); repeatable."),
        click.option("--sep", type=click.Choice([",", ";", "|", "tab"]), default=None,
                     help="Field separator of a CSV [default: found from the file]."),
        click.option("--decimal", type=click.Choice([".", ","]), default=None,
                     help="Decimal mark of a CSV [default: ',' for ';'-separated files that "
                     "write 20,35, else '.']."),
        click.option("--header/--no-header", default=None,
                     help="Whether a CSV's first line names its columns [default: found from "
                     "the file]."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def table_kwargs(opts):
    """The keyword arguments :func:`aekit.tables.open_table` takes, from table_options."""
    sep = opts.get("sep")
    return {"label_column": opts.get("label_column"), "id_columns": opts.get("id_columns") or (),
            "ignore_columns": opts.get("ignore_columns") or (),
            "sep": "\t" if sep == "tab" else sep, "decimal": opts.get("decimal"),
            "header": opts.get("header")}


def categorical_option(help):
    """--categorical COLUMN, repeatable: ``help`` says what it does for the command."""
    return click.option("--categorical", "categorical", multiple=True, metavar="COLUMN",
                        help=help)


def categorical_columns(columns, path, table):
    """The estimators' ``categorical`` of --categorical ``columns`` of the table at ``path``
    (opened with ``table``, :func:`table_kwargs`): each found as the roles are (a header
    name, else a 0-based number in the file), given as its name, or in a file without a
    header as its position among the feature columns. Stdin's header cannot be read
    twice: its columns go by name, as given, or with --no-header by 0-based number in
    the file (:func:`stdin_feature_position`).

    Raises
    ------
    DataError
        A column that is not in the table, or is not a feature (its message lists them).
    """
    columns = tuple(dict.fromkeys(columns))  # a column given twice counts once
    if path == "-":
        if table.get("header") is False:
            return tuple(dict.fromkeys(stdin_feature_position(c, table) for c in columns))
        return columns
    from ..tables import open_table

    roles = open_table(path, **table).roles
    return tuple(dict.fromkeys(roles.feature_column(c, "--categorical") for c in columns))


def stdin_feature_position(spec, table):
    """The position among the feature columns of column ``spec`` (a 0-based number in the
    file) of headerless stdin, whose other columns (``table``'s label, ids and columns left
    out) are given by number too.

    Raises
    ------
    DataError
        ``spec`` is not a 0-based number, or is one of those other columns.
    """
    from ..errors import DataError

    def number(c):  # a 0-based column number, as the table readers take one; else None
        c = str(c)
        return int(c) if c.isascii() and c.isdigit() else None

    column = number(spec)
    if column is None:
        raise DataError(f"--categorical column {str(spec)!r}: stdin read with --no-header has "
                        "no column names: give the column's 0-based number in the file")
    others = {number(c) for c in (table.get("label_column"), *table.get("id_columns", ()),
                                  *table.get("ignore_columns", ())) if c is not None}
    if column in others:
        raise DataError(f"--categorical column {str(spec)!r} of stdin is given as an id, the "
                        "label or a column to leave out, not as a feature")
    return column - sum(1 for c in others if c is not None and c < column)


def check_categorical(columns, schema, table, model):
    """Refuse --categorical ``columns`` of ``table`` (an opened table) that the model (its
    input ``schema``) does not read as categories: how a model reads its columns is set
    when it is trained, and a detector's scores would silently mean otherwise.

    Raises
    ------
    DataError
        A column that is not a feature of the table.
    click.ClickException
        A column the model does not have, or reads as numbers.
    """
    import shlex

    kinds = schema.encoding.kinds if schema.encoding is not None else \
        ["numeric"] * schema.n_features
    for spec in dict.fromkeys(columns):
        column = table.roles.feature_column(spec, "--categorical")
        if isinstance(column, int):  # a file without a header: taken by position
            j = column
        elif schema.feature_names is None:  # a model without names takes it by position
            j = table.roles.feature_names.index(column)
        else:
            j = schema.feature_names.index(column) if column in schema.feature_names else None
        if j is None or j >= len(kinds):
            raise click.ClickException(f"--categorical {spec}: {model} has no such feature "
                                       "column")
        if kinds[j] != "categorical":
            raise click.ClickException(
                f"{model} reads column {column if isinstance(column, str) else spec!r} as "
                "numbers; how a model reads its columns is set when it is trained: "
                f"aekit train --categorical {shlex.quote(str(spec))}")


def refuse_other_jobs(est, model, job, generative=True):
    """Refuse a loaded model of another job than a command's (``job``: what it does, for
    the message): a photo denoiser, and with ``generative`` a variational autoencoder."""
    from ..photo_denoiser import ImageDenoiser
    from ..variational import VariationalAutoencoder

    other = {ImageDenoiser: "a photo denoiser",
             VariationalAutoencoder: "a variational autoencoder (a generative model)"}
    for cls, what in other.items():
        if isinstance(est, cls) and (generative or cls is not VariationalAutoencoder):
            raise click.ClickException(f"{model} is {what}; {job} with a detector or an "
                                       "autoencoder")


def digit_model(est, model, job, reconstruction=False):
    """A loaded model for a command that works on digits (``job``: what it does, for the
    message): a model of 28x28 pixels that is not generative nor the photo denoiser; with
    ``reconstruction``, the autoencoder that reconstructs them through a code (a
    detector's own). Anything else is refused in one line."""
    from ..anomaly import AnomalyDetector
    from ..autoencoder import Autoencoder
    from ..preprocessing.schema import PIXEL_FEATURES as PIXELS

    refuse_other_jobs(est, model, job)
    if est.n_features_in_ != PIXELS:
        raise click.ClickException(f"{model} is a model of {est.n_features_in_} features, "
                                   f"not of 28x28 digits; {job} with a model of digits "
                                   "(aekit train)")
    if not reconstruction:
        return est
    inner = est.model_ if isinstance(est, AnomalyDetector) else est
    if not isinstance(inner, Autoencoder) or inner.objective_ != "reconstruction":
        what = "PCA" if not isinstance(inner, Autoencoder) else inner.objective_
        raise click.ClickException(f"{model} is a {what} model, not a reconstruction "
                                   f"autoencoder; {job} one (aekit train)")
    return inner


def roles_as_in_training(opts, model, data):
    """``(opts, note)``: table_options with the roles the model's training table gave its
    columns (ids, the label, columns left out) for those this file holds and the flags
    given do not name (the flags need not be repeated at every command; a flag given
    decides its own column, and a label given replaces training's); the note says which
    came from training, else None. A role is found as training found it: by header name,
    else by 0-based number; a headerless file given roles keeps those alone (its features
    are taken by position). Stdin's head is read to learn its columns, then given back
    for the command to read."""
    from ..model_file import training_roles
    from ..pretrained import resolve
    from ..tables import open_table

    roles = training_roles(resolve(model))
    if not roles:
        return opts, None
    source = open_table(data, **table_kwargs(opts))
    if data == "-":
        source.give_back_head()
    names = list(map(str, source.columns)) if source.has_header else []

    def index(spec):  # as aekit.tables.columns.ColumnRoles finds a column, else None
        spec = str(spec)
        if spec in names:
            return names.index(spec)
        if spec.lstrip("-").isdigit() and -source.n_columns <= int(spec) < source.n_columns:
            return int(spec) % source.n_columns
        return None

    named = {index(c) for c in [opts.get("label_column"), *(opts.get("id_columns") or ()),
                                *(opts.get("ignore_columns") or ())] if c is not None}
    if named and not source.has_header:  # taken by position: the roles given, alone
        _check_positions(source, roles)
        return opts, None

    def taken(spec):  # a column of training's roles that this file holds, not named here
        return index(spec) is not None and index(spec) not in named

    added = {"label_column": roles["label_column"] if roles["label_column"] is not None
             and not opts.get("label_column") and taken(roles["label_column"]) else None,
             "id_columns": tuple(c for c in roles["id_columns"] if taken(c)),
             "ignore_columns": tuple(c for c in roles["ignore_columns"] if taken(c))}
    import shlex

    given = [f"{flag_of(k)} {shlex.quote(c)}" for k in ("id_columns", "label_column",
                                                        "ignore_columns")
             for c in ((added[k],) if k == "label_column" else added[k]) if c]
    merged = {"label_column": opts.get("label_column") or added["label_column"],
              "id_columns": (*(opts.get("id_columns") or ()), *added["id_columns"]),
              "ignore_columns": (*(opts.get("ignore_columns") or ()),
                                 *added["ignore_columns"])}
    if not given:
        return opts, None
    return dict(opts, **merged), "columns as in training: " + " ".join(given)


def _check_positions(source, roles):
    """Refuse roles given for a headerless file that make other columns its features than
    training's (roles given by number there): its features are taken by position, so a
    feature given as an id would be scored in another column's place, silently."""
    specs = [c for c in [roles["label_column"], *roles["id_columns"],
                         *roles["ignore_columns"]] if c is not None]
    if source.has_header or not all(c.lstrip("-").isdigit() for c in specs):
        return
    n = source.n_columns
    trained = [i for i in range(n) if i not in {int(c) % n for c in specs}]
    given = list(source.roles.feature_idx)
    if len(trained) == len(given) and trained != given:
        raise click.ClickException(
            f"{source.name} has no header, so its features are taken by position: the model "
            f"was trained on columns {', '.join(map(str, trained))} (0-based), and these "
            f"options make {', '.join(map(str, given))} its features; give the roles of "
            "training (leave them out to take them from the model)")


def echo_notes(table, quiet=False):
    """A table's notes on how it was read (separator, decimal mark, header), on stderr."""
    if not quiet:
        for note in table.notes:
            click.echo(f"note: {in_flags(note)}", err=True)


def in_flags(message):
    """A library message (an error, a warning, a note) with the parameters it names worded
    as this command line's flags."""
    from ..errors import Worded

    return message.worded(flag_wording) if isinstance(message, Worded) else str(message)


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


TABLE_SUFFIXES = ("", ".csv", ".tsv", ".txt", ".parquet", ".pq")
IMAGE_SUFFIXES = (".png",)


def check_output_kind(out, suffixes, what):
    """Refuse an output whose name promises a format aekit does not write (``-o x.csv.gz``
    would be plain CSV, ``-o out.jpg`` a PNG)."""
    from pathlib import Path

    if out is None or str(out) == "-" or Path(out).exists() and not Path(out).is_file():
        return
    suffix = Path(out).suffix.lower()
    if suffix not in suffixes:
        named = ", ".join(s for s in suffixes if s)
        given = f"not {suffix} files" if suffix else "and the name has no suffix: add one"
        raise click.UsageError(f"{out}: aekit writes {what} ({named}), {given}")


def output_folder_problem(out):
    """Why the folder of the output path ``out`` cannot take it (missing, or a file), in
    one line; None when it is a folder."""
    from pathlib import Path

    parent = Path(out).parent if str(Path(out).parent) else Path(".")
    if parent.is_dir():
        return None
    if parent.exists():
        return f"output {out}: {parent} is a file, not a folder"
    return f"output folder does not exist: {parent}"


def check_output_path(out, *inputs):
    """Refuse an output that would overwrite an input or land in a missing folder."""
    import os
    from pathlib import Path

    if out is None or str(out) == "-":
        return
    if not str(out).strip():
        raise click.ClickException("an output name is empty; give a file name")
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
    problem = output_folder_problem(out_p)
    if problem:
        raise click.ClickException(problem)
    from ..atomic import check_writable
    from ..errors import AekitError

    try:
        check_writable(out_p)
    except AekitError as e:
        raise click.ClickException(str(e)) from None


def check_outputs(outputs, *inputs):
    """:func:`check_output_path` for each of a command's ``(flag, path)`` outputs (a path
    None: not written), and refuse two of them that name one file (the second would
    replace the first) and a ``--json`` file not named .json.

    Raises
    ------
    click.ClickException, click.UsageError
        Naming the output and, for two, both flags.
    """
    from pathlib import Path

    seen = {}
    for flag, out in outputs:
        if out is None or str(out) == "-":
            continue
        check_output_path(out, *inputs)
        if flag == "--json":
            check_output_kind(out, (".json",), "JSON")
        key = Path(out).resolve()
        if key in seen:
            raise click.UsageError(f"{seen[key]} and {flag} both name {out}: give each its own "
                                   "file")
        seen[key] = flag


def check_report_folder(folder):
    """Refuse, before any work, a --report folder that cannot be made or written into (a
    file in its path, a folder that takes no new file), found otherwise only after the
    run, whose other outputs would then be written beside an error."""
    from pathlib import Path

    if folder is None:
        return
    made = folder = Path(folder)  # made: the deepest part of its path that exists
    while not made.exists() and made != made.parent:
        made = made.parent
    if not made.is_dir():  # (the folder itself, or a part of its path)
        raise click.ClickException(f"report folder {folder} cannot be made: {made} is a file")
    import os
    import tempfile

    try:  # a folder made and removed where the report's would be
        os.rmdir(tempfile.mkdtemp(prefix=".aekit-report.", dir=made))
    except OSError as e:
        raise click.ClickException(f"report folder {folder} cannot be made in {made}: "
                                   f"{e.strerror or e}") from None


def write_json(path, doc):
    """Write ``doc`` as JSON to ``path`` (atomically) and say so on stderr."""
    import json

    from ..atomic import atomic_open

    with atomic_open(path) as f:
        json.dump(doc, f, indent=1)
    click.echo(f"wrote {path}", err=True)


def show_results(result, references, draw, picture, json_out, model):
    """An evaluation's end: its table and references on stdout, ``draw(result, picture)``,
    and with ``json_out`` the result's ``to_dict()`` with ``"model"`` set to ``model``."""
    click.echo(result.table())
    click.echo(references)
    draw(result, picture)
    click.echo(f"wrote {picture}", err=True)
    if json_out:
        doc = result.to_dict()
        doc["model"] = model
        write_json(json_out, doc)


def exit_interrupted(checkpoint, out):
    """Ctrl-C during training: say which checkpoint was kept and how to continue (under
    torchrun, with torchrun); exit 130."""
    import os
    import sys

    where = f"the checkpoint {checkpoint}" if checkpoint.exists() else \
        "no checkpoint (interrupted in the first epoch)"
    click.echo(f"\nInterrupted; kept {where}.", err=True)
    if checkpoint.exists():
        world = int(os.environ.get("WORLD_SIZE", "1"))  # under torchrun: its processes
        local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))  # (on this node)
        launch = f"torchrun --nproc_per_node {local} -m aekit" if world > 1 else "aekit"
        click.echo(f"Continue with: {launch} train --resume {checkpoint} -o {out}"
                   + (" (on every node, with the same torchrun options)"
                      if world > local else ""), err=True)
    sys.exit(130)
