"""Errors (and warnings) a user can act on. The CLI turns each into one line on stderr.

Library code speaks in parameter names, the command line in flags: a message that tells
the user what to change names the parameter as a field of its template, ``{lr}`` (a
name) or ``{objective:masked}`` (a name and a value), listed in ``params``. Printed
(``str``), the fields read as the library's parameters (``lr``,
``objective='masked'``); :meth:`AekitError.worded` words them otherwise, which is how
the CLI names its own flags (``--lr``, ``--objective masked``)::

    >>> e = TrainingError("lower the learning rate ({lr})", params=("lr",))
    >>> str(e)
    'lower the learning rate (lr)'
    >>> e.worded(lambda name, value: f"--{name}" if value is None else f"--{name} {value}")
    'lower the learning rate (--lr)'
"""

import string

WORDS = ("None", "True", "False")  # values written as they are, not quoted
# the roles of a table's columns are parameters of aekit.tables.open_table and of the
# CLI, not of the estimators: a library user fitting a DataFrame drops the column instead
# (each is worded to stand in a list: "carry them through (label_column, id_columns)")
TABLE_ROLES = {"id_columns": "open_table's id_columns",
               "ignore_columns": "drop it from X",
               "label_column": "open_table's label_column"}


def as_parameter(name, value=None):
    """A parameter as a library user writes it: ``lr``, ``noise=None``, ``arch='dense'``."""
    if value is None:
        return TABLE_ROLES.get(name, name)
    shown = value if value in WORDS or is_number(value) else repr(value)
    return f"{name}={shown}"


def is_number(text):
    """Whether ``text`` reads as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


class _ParameterFields(string.Formatter):
    """Fills ``{name}`` and ``{name:value}`` fields with ``wording(name, value or None)``."""

    def __init__(self, wording):
        self.wording = wording

    def get_value(self, key, args, kwargs):
        return key

    def format_field(self, value, format_spec):
        return self.wording(value, format_spec or None)


def word(template, params=None, wording=as_parameter):
    """``template`` with its parameter fields worded by ``wording(name, value)``. ``params``
    lists them (None: every field of the template); a template without parameters is
    returned as it is (braces and all)."""
    if params is None:
        params = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    return _ParameterFields(wording).format(template) if params else template


def literal(text):
    """``text`` (a user's column name, a value) made safe to put in a template: its braces
    doubled, so that they are not read as parameter fields."""
    return str(text).replace("{", "{{").replace("}", "}}")


class Worded:
    """What errors and warnings with parameter fields share (see the module's notes)."""

    def _set_template(self, message, params):
        self.template, self.params = str(message), tuple(params)
        return word(self.template, self.params)

    def worded(self, wording=as_parameter):
        """The message with its parameters worded by ``wording(name, value or None)``."""
        return word(self.template, self.params, wording)


class AekitError(Worded, Exception):
    """Base class for problems with the user's input (files, options, data).

    ``message`` may name parameters as fields (``{lr}``, ``{noise:None}``), each listed in
    ``params`` (see the module's notes)."""

    def __init__(self, message="", params=()):
        super().__init__(self._set_template(message, params))


class DataError(AekitError, ValueError):
    """Input data that cannot be used: unreadable, malformed, wrong shape."""


class WidthError(DataError):
    """Data with another number of feature columns than the model reads."""


class ModelFileError(AekitError, ValueError):
    """A model file that is not a valid aekit model."""


class TrainingError(AekitError, RuntimeError):
    """Training could not continue (e.g. the loss became NaN)."""


class ParameterError(AekitError, ValueError):
    """Parameters that cannot go together (each named as a field, see the module's notes)."""


class AekitWarning(Worded, UserWarning):
    """A warning that may name parameters as fields, as :class:`AekitError` does."""

    def __init__(self, message="", params=()):
        super().__init__(self._set_template(message, params))


def warn(warning):
    """Issue ``warning`` (a Warning instance) at the user's line: the first caller outside
    the aekit package (what ``warnings.warn``'s ``skip_file_prefixes`` does from Python
    3.12), however deep in aekit it was raised."""
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(warning, stacklevel=level)


class Note(Worded):
    """A line for people about how aekit read something (a table's separator, its header),
    which may name parameters as fields, as :class:`AekitError` does; ``str`` gives it in
    the library's words."""

    def __init__(self, message="", params=()):
        self.text = self._set_template(message, params)

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"Note({self.text!r})"


class CellError(DataError):
    """A bad cell: its row (0-based, among the rows given), its column, and what is wrong.

    Readers that know where the rows came from turn it into a message naming the
    file and line (:meth:`at`).
    """

    def __init__(self, row, column, what):
        self.row, self.column, self.what = int(row), column, what
        super().__init__(f"row {self.row + 1}, column {column!r} {what}")

    def at(self, source, where):
        """The same error as a :class:`DataError` located at ``where`` (e.g. "line 12")."""
        return DataError(f"{source}: {where}, column {self.column!r} {self.what}")
