"""Errors a user can act on. The CLI turns each into one line on stderr."""


class AekitError(Exception):
    """Base class for problems with the user's input (files, options, data)."""


class DataError(AekitError, ValueError):
    """Input data that cannot be used: unreadable, malformed, wrong shape."""


class ModelFileError(AekitError, ValueError):
    """A model file that is not a valid aekit model."""


class TrainingError(AekitError, RuntimeError):
    """Training could not continue (e.g. the loss became NaN)."""
