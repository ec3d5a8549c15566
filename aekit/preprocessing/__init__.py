"""What a model expects of its inputs: the input schema (:mod:`.schema`) and how a table's
columns become numbers (:mod:`.columns`). See :class:`InputSchema` for the rules every
entry point applies."""

from .columns import ColumnEncoding, to_matrix
from .schema import (InputSchema, check_float32_range, check_number_columns, checked_input,
                     checked_rows, has_text_columns, looks_like_pixels)

__all__ = ["ColumnEncoding", "InputSchema", "check_float32_range", "check_number_columns",
           "checked_input", "checked_rows", "has_text_columns", "looks_like_pixels", "to_matrix"]
