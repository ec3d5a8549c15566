"""The roles of a table's columns, and the chunks a table is read in."""

from dataclasses import dataclass

import numpy as np

from ..errors import DataError, literal


def same_values_kind(a, b):
    """Whether Arrow types ``a`` and ``b`` hold values of one kind, so that a column of
    ``a`` can be read or written as ``b`` with no value changed: one type, text or bytes
    in either width, integers of either width (a cast refuses a value that does not fit),
    or no values at all (Arrow's null type) in ``a``. Not so: text and numbers ('007'
    and 7), dates and timestamps, time zones."""
    import pyarrow as pa

    text, raw = (pa.string(), pa.large_string()), (pa.binary(), pa.large_binary())
    return a == b or a == pa.null() or (a in text and b in text) or \
        (a in raw and b in raw) or (pa.types.is_integer(a) and pa.types.is_integer(b))


def type_words(t):
    """An Arrow type as messages name it (``text``, ``no values``, ``int64``...)."""
    import pyarrow as pa

    return "text" if t in (pa.string(), pa.large_string()) else \
        "no values" if t == pa.null() else str(t)


@dataclass
class Chunk:
    """Consecutive rows of a table.

    ``features``: the feature columns, a float array (n_rows, n_features; the table's
    ``dtype``, float64 by default) when they all hold numbers, else a DataFrame (named
    as in the file, or by the columns' 0-based numbers in a file without a header; text
    columns as text). ``carried``: a DataFrame of the carried columns (label, ids), or
    None. ``first_row``: the 1-based data row number of its first row.
    """

    features: object
    carried: object
    first_row: int

    def __len__(self):
        return len(self.features)


class ColumnRoles:
    """Which columns are features, which are carried through (a label, ids), which are
    ignored, each named by header name or 0-based column number.

    Attributes: ``feature_idx`` / ``feature_names`` (None without a header),
    ``carried_idx`` / ``carried_names`` (ids first, then the label: the way people
    read an output row; with ``carry_ignored``, the ignored columns between them, for
    an output that gives the whole table back), ``label_name``.

    Raises
    ------
    DataError
        A column is not found (the message lists the table's columns), named twice, or
        no feature column is left (two feature columns of one name:
        :meth:`refuse_duplicate_features`).
    """

    def __init__(self, columns, has_header, source, label=None, ids=(), ignore=(),
                 carry_ignored=False):
        self.columns, self.has_header, self.source = list(columns), has_header, source
        roles = {}
        for role, specs in (("id", list(ids or ())), ("label", [label] if label is not None
                                                       else []), ("ignored", list(ignore or ()))):
            for spec in dict.fromkeys(specs):  # a column named twice counts once
                i = self._index(spec, role)
                if i in roles:
                    raise DataError(f"column {self._name(i)!r} of {source} is named as both "
                                    f"{roles[i]} and {role} column")
                roles[i] = role
        carried = ("id", "ignored") if carry_ignored else ("id",)
        self.carried_idx = [i for i, r in roles.items() if r in carried] + \
            [i for i, r in roles.items() if r == "label"]
        n_ids = sum(r == "id" for r in roles.values())
        self.carried_names = [self._carried_name(i, roles[i], n_ids) for i in self.carried_idx]
        self.label_name = self.carried_names[-1] if label is not None else None
        self.feature_idx = [i for i in range(len(self.columns)) if i not in roles]
        self.feature_names = [self.columns[i] for i in self.feature_idx] if has_header else None
        if not self.feature_idx:
            raise DataError(f"{source} has no feature columns left to use")

    def refuse_duplicate_features(self):
        """Features are matched by name: two feature columns of one name are ambiguous.
        Checked when the rows are read (a table's ``chunks``), not when it is opened: a
        table opened to learn its column names (the roles of training found in it) may
        hold two until those roles leave one out.

        Raises
        ------
        DataError
            Naming the column, its positions, and the parameter that leaves one out.
        """
        names = self.feature_names or []
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            at = [i for i in self.feature_idx if self.columns[i] == twice]
            raise DataError(f"column {literal(repr(twice))} appears {len(at)} times in "
                            f"{literal(self.source)} (columns {', '.join(map(str, at))}): rename "
                            f"one, or leave one out with {{ignore_columns:{at[-1]}}}",
                            params=("ignore_columns",))

    def feature_column(self, spec, role):
        """The feature column ``spec`` names, found as the roles are (its header name, else
        its 0-based number in the file): its name, or in a file without a header its
        0-based position among the feature columns (how a model without names counts
        them). ``role`` names what it is given as, for messages.

        Raises
        ------
        DataError
            The column is not in the table (the message lists its columns), or is not a
            feature (an id, the label, a column left out).
        """
        i = self._index(spec, role)
        if i not in self.feature_idx:
            raise DataError(f"{role} column {str(spec)!r} of {self.source} is given as an id, "
                            "the label or a column to leave out, not as a feature")
        return self.columns[i] if self.has_header else self.feature_idx.index(i)

    def header_name(self, spec, role):
        """The header name of the column ``spec`` names (found as the roles are: by name,
        else by 0-based number), where the file has a header and no other column has
        that name; else ``spec`` as given. What a model file records of a role, so that a
        column given by number at training is found by its name in a file whose columns
        come in another order. ``role`` names what it is given as, for messages.

        Raises
        ------
        DataError
            The column is not in the table.
        """
        if not self.has_header:
            return spec
        name = self.columns[self._index(spec, role)]
        return name if self.columns.count(name) == 1 else spec

    def _index(self, spec, role):
        spec = str(spec)
        if self.has_header and spec in self.columns:
            if self.columns.count(spec) > 1:
                raise DataError(f"{role} column {spec!r} appears {self.columns.count(spec)} "
                                f"times in {self.source}: name it by its 0-based number")
            return self.columns.index(spec)
        if spec.lstrip("-").isdigit():
            i = int(spec)
            if -len(self.columns) <= i < len(self.columns):
                return i % len(self.columns)
        if self.has_header:
            shown = ", ".join(self.columns[:10]) + ("..." if len(self.columns) > 10 else "")
            known = f" (columns: {shown})"
        else:
            known = f" (the file has no header; give a column number 0..{len(self.columns) - 1})"
        raise DataError(f"{role} column {spec!r} not found in {self.source}{known}")

    def _name(self, i):
        return self.columns[i] if self.has_header else str(i)

    def _carried_name(self, i, role, n_ids):
        """The output name of a carried column: its header name, else its role."""
        if self.has_header:
            return self.columns[i]
        if role == "label":
            return "label"
        if role == "ignored":
            return f"column_{i}"
        return "id" if n_ids == 1 else f"id_{i}"

    @property
    def n_features(self):
        return len(self.feature_idx)


class Table:
    """What every table offers, given its ``roles`` (:class:`ColumnRoles`) and ``chunks()``.

    ``dtype``: of a chunk's feature array (float64 by default; numbers are parsed in
    float64 whatever it is). A reader for a model that computes in float32 and
    subtracts nothing from its input may ask for float32 chunks, in half the memory
    (:meth:`aekit.model_input.ModelInput.for_table`).
    """

    dtype = np.float64
    integer_features = {}  # feature name -> Arrow integer type, where a file types columns
    feature_types = {}  # feature name -> Arrow type (a category's values'), where a file types

    @property
    def feature_names(self):
        """The feature columns' names, or None for a headerless file."""
        return self.roles.feature_names

    @property
    def n_features(self):
        return self.roles.n_features

    @property
    def feature_labels(self):
        """The feature columns as a chunk's DataFrame names them: by header name, or by
        0-based column number in a file without a header."""
        return self.roles.feature_names or list(self.roles.feature_idx)

    def column_of(self, error, chunk):
        """The column a :class:`~aekit.errors.CellError` about ``chunk`` names, as people
        know it: a position among an array's feature columns becomes the column's
        header name (or, without a header, its 0-based number in the file)."""
        column = error.column
        if isinstance(chunk.features, np.ndarray) and isinstance(column, (int, np.integer)) \
                and 0 <= column < self.n_features:
            return self.feature_labels[int(column)]
        return column

    def read_all(self):
        """All rows at once: ``(features, carried)`` (see :func:`concat_chunks`)."""
        return concat_chunks(self.chunks(), self.feature_labels)


def concat_chunks(chunks, labels=None):
    """All the rows of ``chunks``: ``(features, carried)``, the features an array when
    every chunk's are, else a DataFrame (arrays given the column ``labels`` the
    DataFrames have); carried a DataFrame or None."""
    import pandas as pd

    parts, carried = [], []
    for ch in chunks:
        parts.append(ch.features)
        if ch.carried is not None:
            carried.append(ch.carried)
    if all(isinstance(p, np.ndarray) for p in parts):
        features = np.concatenate(parts)
    else:
        features = pd.concat([pd.DataFrame(p, columns=labels or range(p.shape[1]))
                              if isinstance(p, np.ndarray) else p for p in parts],
                             ignore_index=True)
    return features, (pd.concat(carried, ignore_index=True) if carried else None)
