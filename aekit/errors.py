"""Errors a user can act on. The CLI turns each into one line on stderr."""


class AekitError(Exception):
    """Base class for problems with the user's input (files, options, data)."""


class DataError(AekitError, ValueError):
    """Input data that cannot be used: unreadable, malformed, wrong shape."""


class ModelFileError(AekitError, ValueError):
    """A model file that is not a valid aekit model."""


class TrainingError(AekitError, RuntimeError):
    """Training could not continue (e.g. the loss became NaN)."""


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
