"""Filling missing values with an autoencoder: iterate its reconstruction on the gaps only.

Missing entries start at the model's idea of "nothing known" (0 in its scaled
space: the paper for [0, 1] pixels, as masking noise leaves it in training; the
training mean for standardised columns). Each round the autoencoder
reconstructs the rows; the missing entries take the reconstruction's values
while the known entries stay fixed; rows stop once their fills stop moving.

A plain autoencoder (like PCA) settles on fills that agree with the known
entries, so its last round is kept. A *denoising* autoencoder is trained to
pull inputs toward typical data; iterated to its fixed point, its fills drift
toward a prototype (measured on MNIST: worse than a single round). For it,
every round is scored by how well its reconstruction matches the row's
*known* entries and each row keeps its best-scoring round. The same loop runs
any reconstruction: the PCA baseline of ``aekit evaluate impute`` uses it with
scikit-learn's ``inverse_transform(transform(X))``.

A *masked* model (``objective="masked"``, :mod:`aekit.nn.masking`) needs no rounds: it
was trained to predict hidden features from the others, so the missing cells are
hidden and predicted in one pass from exactly the known ones (each its predicted
mixture's mean). On a table whose columns depend on one another this fills far closer
than iterating (tests/test_masked.py). Models with text columns or missing indicators,
whose network features are not the input columns one to one, iterate instead.

    >>> from aekit.imputation import impute
    >>> X_filled = impute(model, X_with_nans)     # doctest: +SKIP
"""

import numpy as np

from .errors import DataError, literal

MAX_ITER = 50
TOL = 1e-4


def iterative_fill(reconstruct, X, missing, start, max_iter=MAX_ITER, tol=TOL, scale=None,
                   keep="last"):
    """Fill ``X[missing]`` by iterating ``reconstruct`` (rows -> rows).

    ``start`` (one value per column, or an array of X's shape) is the first
    guess. ``keep="last"`` returns each row's last fill; ``keep="best"`` the
    fill of the round whose reconstruction was closest to the row's known
    entries (squared error, divided by ``scale`` per column). A row stops
    once its fills move less than ``tol`` (same units) in a round.
    Returns ``(filled copy of X, rounds run)``.
    """
    if keep not in ("last", "best"):
        raise ValueError(f"keep must be 'last' or 'best', got {keep!r}")
    X = np.array(X, dtype=np.float64, copy=True)
    missing = np.asarray(missing, dtype=bool)
    if missing.shape != X.shape:
        raise ValueError(f"missing mask {missing.shape} does not match X {X.shape}")
    start = np.broadcast_to(np.asarray(start, dtype=np.float64), X.shape)
    X[missing] = start[missing]
    scale = np.ones(X.shape[1]) if scale is None else np.asarray(scale, dtype=np.float64)
    best = X.copy()
    best_err = np.full(len(X), np.inf)
    n_known = np.maximum((~missing).sum(axis=1), 1)
    active = np.flatnonzero(missing.any(axis=1))
    rounds = 0
    while active.size and rounds < max_iter:
        rows, m = X[active], missing[active]
        R = np.asarray(reconstruct(rows.astype(np.float32)), dtype=np.float64)
        diff = (R - rows) / scale
        known_err = np.where(m, 0.0, diff**2).sum(axis=1) / n_known[active]
        moved = np.where(m, np.abs(diff), 0.0).max(axis=1)
        rows[m] = R[m]
        X[active] = rows
        better = known_err < best_err[active] if keep == "best" else np.ones(len(active), bool)
        best[active[better]] = rows[better]
        best_err[active[better]] = known_err[better]
        active = active[moved >= tol]
        rounds += 1
    return best, rounds


def impute(model, X, start=None, max_iter=MAX_ITER, tol=TOL):
    """Fill the NaN cells of ``X`` (n_samples, n_features) with a fitted model.

    ``model``: an :class:`~aekit.Autoencoder` (or an :class:`~aekit.AnomalyDetector`,
    whose reconstruction is used); ``X`` in the model's column order and units.
    ``start``: the first guess per column (default: the model's "nothing known",
    the training means of a standardised model, 0 for a [0, 1] one). A masked
    model predicts the missing cells in one pass from the known ones; otherwise a
    denoising autoencoder keeps each row's best round, a plain one its last (see the
    module's notes). Known cells are returned unchanged, and so are the gaps of a column
    that held no value in the training rows (``schema_.empty_columns()``: the model knows
    nothing of it). Returns a float64 array.

    Raises
    ------
    DataError
        ``X`` is not 2-D, has another number of columns, or holds infinite values.
    """
    from .model_input import arrays_in_model_order

    schema = model.schema_
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise DataError(f"expected a 2-D table, got shape {X.shape}")
    schema.check_width(X.shape[1])
    missing = np.isnan(X)
    if np.isinf(X).any():
        raise DataError("the data holds infinite values; only empty/NaN cells can be filled")
    given, empty = X, schema.empty_columns()
    if empty:  # known to the network as the 0 it trained on; left empty in the result
        X, missing = X.copy(), missing.copy()
        X[:, empty], missing[:, empty] = np.nan_to_num(X[:, empty], nan=0.0), False
    if not missing.any():
        filled = X.copy()
    else:
        start = schema.center.astype(np.float64) if start is None else start
        net = masked_network(model)
        if net is not None:
            filled = _masked_fill(model, net, X, missing, start)
        else:
            keep = "best" if getattr(model, "noise", None) else "last"
            with arrays_in_model_order():
                filled, _ = iterative_fill(model.reconstruct, X, missing, start, max_iter,
                                           tol, schema.scale, keep)
    filled[:, empty] = given[:, empty]  # (their gaps stay NaN)
    return filled


def impute_frame(model, frame, max_iter=MAX_ITER, tol=TOL):
    """Fill the missing cells of a table whose model encodes text columns: ``frame`` (a
    DataFrame in the model's column order) with its missing numbers and its missing
    categories filled, and how many cells were filled. The cells are filled in the
    network's own features (a text column's one-hot features hidden together): a masked
    model predicts them in one pass from the known ones, any other iterates its
    reconstruction; a category takes the one the model finds most likely. Known cells,
    categories never seen in training, and the gaps of a column that held no value in
    the training rows (``schema_.empty_columns()``) are kept as they are."""
    schema, encoding = model.schema_, model.schema_.encoding
    cells = encoding.missing_cells(frame)
    cells[:, schema.empty_columns()] = False  # left empty: the model knows nothing of them
    if not cells.any():
        encoding.encode(frame)  # nothing to fill, but every number checked (CellError)
        return frame.copy(), 0
    hidden = encoding.spread(cells)
    Xs = fill_scaled(model, schema.transform(frame, np.float64), hidden, max_iter, tol)
    decoded = schema.decode(schema.inverse_transform(Xs, np.float64))
    out = frame.copy()
    for j in range(frame.shape[1]):
        rows = np.flatnonzero(cells[:, j])
        if rows.size:
            column = out.iloc[:, j].astype(object)
            column.iloc[rows] = decoded.iloc[rows, j].to_numpy()
            out.isetitem(j, column)
    return out, int(cells.sum())


def fill_scaled(model, Xs, hidden, max_iter=MAX_ITER, tol=TOL):
    """Rows ``Xs`` in the network's scaled space with the features ``hidden`` filled by
    the model: a masked network's one-pass prediction from the rest, else its iterated
    reconstruction from the training mean (0 in that space)."""
    engine = model.engine()
    if fills_in_one_pass(model):
        predicted = engine.predict_missing(np.where(hidden, np.nan, Xs))
        return np.where(hidden, predicted, Xs)
    keep = "best" if getattr(model, "noise", None) else "last"
    # the engine protocol's reconstruction, in the scaled space (PCAModel's own
    # reconstruct takes rows in the input's units)
    filled, _ = iterative_fill(engine.output, Xs, hidden, 0.0, max_iter, tol, keep=keep)
    return filled


def fills_in_one_pass(model):
    """Whether ``model`` (a fitted estimator) fills gaps in one pass, a masked network's
    prediction from the known cells (``max_iter`` and ``tol`` do not apply), rather than
    by rounds of reconstruction."""
    net = _network(model)
    return net is not None and net.config.objective == "masked"


def _network(model):
    """A fitted estimator's (first) network, or None (PCA)."""
    nets = [getattr(model, "net_", None)] + list(getattr(model, "networks_", None) or [])
    return next((n for n in nets if n is not None), None)


def masked_network(model):
    """The masked network of a fitted estimator whose network features are its input
    columns one to one, else None (a reconstruction model, PCA, text columns, missing
    indicators)."""
    encoding = model.schema_.encoding
    if not fills_in_one_pass(model) or (encoding is not None and not encoding.plain):
        return None
    return _network(model)


def _masked_fill(model, net, X, missing, start):
    """The missing cells of ``X`` predicted in one pass from the known ones."""
    schema = model.schema_
    known = np.where(missing, start, X)
    divisor = schema.pixel_divisor(known)
    Xs = np.where(missing, np.nan, schema.transform(known))
    predicted = model.engine().predict_missing(Xs)
    return np.where(missing, schema.inverse_transform(predicted, np.float64, divisor), X)


def impute_table(table, model, writer, max_iter=MAX_ITER, tol=TOL):
    """Fill the empty/NaN cells of every row of ``table`` into ``writer``; returns
    ``(cells filled, rows touched, whether 0..255 pixels were scaled, rows with no value
    at all)`` (those are filled with what the model gives for a row it knows nothing of:
    the same row each time).

    Known cells, the header and the carried columns are written back as they were;
    columns that held only whole numbers in the training rows get whole fills
    (:func:`_whole_columns`), and a Parquet input's integer feature columns keep their
    types in a Parquet output.

    Raises
    ------
    DataError
        The table's columns do not match the model's, or a [0, 1] model gets values
        outside its range.
    """
    from .model_input import ModelInput

    model_input = ModelInput.for_table(table, model.schema_, dtype=np.float64,
                                       allow_missing=True)
    if model.schema_.categorical:
        return _impute_text_table(table, model, writer, model_input, max_iter, tol)
    n_filled = n_rows = n_blank = 0
    for chunk, X in model_input.arrays(table.chunks()):
        _check_range(model.schema_, X, model_input.divisor, table.name)
        missing = np.isnan(X)
        out = impute(model, X, max_iter=max_iter, tol=tol)
        d = model_input.divisor
        integral = _whole_columns(model.schema_, X, d)
        fills = _significant(out * d, missing)
        known = X * d
        if d != 1.0:  # 0..255 pixels came in as whole numbers: undo the division's rounding
            known = np.where(integral, np.round(known), known)
        filled = np.where(missing, np.where(integral, np.round(fills) + 0.0, fills), known)  # no -0
        n_blank += int(missing.all(axis=1).sum())
        missing[:, model.schema_.empty_columns()] = False  # (left empty)
        n_filled += int(missing.sum())
        n_rows += int(missing.any(axis=1).sum())
        text = None if writer.parquet else writer.decimal
        writer.write(_input_types(_table_rows(table, chunk, filled, model_input.order, text),
                                  table, writer))
    return n_filled, n_rows, model_input.pixels, n_blank


def _impute_text_table(table, model, writer, model_input, max_iter, tol):
    """:func:`impute_table` for a model with text columns: numbers and categories filled
    (:func:`impute_frame`), text written back as it was."""
    from .preprocessing.columns import CodeSpelling

    n_filled = n_rows = n_blank = 0
    numeric = [k == "numeric" for k in model.schema_.encoding.kinds]
    spellings = {}  # declared columns: how the file spells their codes, over all chunks
    for chunk, frame in model_input.arrays(table.chunks()):
        with model_input.located(chunk):
            out, filled = impute_frame(model, frame, max_iter, tol)
        missing = model.schema_.encoding.missing_cells(frame)
        n_blank += int(missing.all(axis=1).sum())
        missing[:, model.schema_.empty_columns()] = False  # (left empty)
        n_filled += filled
        n_rows += int(missing.any(axis=1).sum())
        cells = out.to_numpy(dtype=object)
        for j in np.flatnonzero(numeric):
            values = np.asarray(out.iloc[:, j], dtype=np.float64)[:, None]
            gaps = missing[:, [j]]
            fills = _significant(values, gaps)
            if _whole_columns(model.schema_, values, 1.0, [j])[0]:
                fills = np.where(gaps, np.round(fills) + 0.0, fills)
            column = np.where(gaps, fills, values)
            cells[:, j] = (column if writer.parquet else _exact_text(column, writer.decimal))[:, 0]
        for j in _typed_categories(model.schema_.encoding, frame.columns, table):
            spelling = spellings.setdefault(j, CodeSpelling())
            cells[:, j] = _declared_fills(cells[:, j], missing[:, j], frame.columns[j], table,
                                          writer, spelling)
            if not writer.parquet:  # its numbers as the numeric columns' (a Parquet
                # integer column with gaps comes as floats: 200, not 200.0)
                cells[:, j] = _numbers_as_text(cells[:, j], writer.decimal)
        writer.write(_input_types(_table_rows(table, chunk, cells, model_input.order, None),
                                  table, writer))
    return n_filled, n_rows, False, n_blank


def _typed_categories(encoding, names, table):
    """The categorical columns whose fills are written as the input holds the column
    (:func:`_declared_fills`): the declared ones, and those a Parquet file types as
    true/false (a gap in a bool column takes True or False, not the text "True")."""
    import pyarrow as pa

    return [j for j, kind in enumerate(encoding.kinds) if kind == "categorical" and (
        j in encoding.declared or pa.types.is_boolean(table.feature_types.get(
            names[j], pa.null())))]


def _declared_fills(cells, gaps, name, table, writer, spelling):
    """The cells (an object array) of column ``name``, declared categorical, with the
    categories filled at ``gaps`` (text, as the model spells them) written as the input
    holds the column: values of its type where a Parquet file types it as numbers or
    true/false (7.25, True), else text spelled as the column's known cells spell its
    codes, in ``cells`` and in the chunks before (``spelling``, a
    :class:`~aekit.preprocessing.columns.CodeSpelling` kept over the file: "200.0" in a CSV
    that writes its codes so), with the input's decimal mark (7,25 in a decimal-comma
    CSV). A category of a model trained on a decimal-comma CSV ("7,25") is its number
    (:func:`~aekit.preprocessing.columns.code_with_point`), whatever the input's mark.

    Raises
    ------
    DataError
        For a Parquet output: a category that is no value of the column's type (text in a
        column of numbers), which one Parquet column cannot hold beside its numbers.
    """
    import pyarrow as pa

    from .preprocessing.columns import code_with_point
    from .tables.columns import type_words
    from .tables.parquet_table import is_text_type

    spelling.learn(cells[~gaps].tolist())
    rows = np.flatnonzero(gaps)
    if not rows.size:
        return cells
    cells, fills = cells.copy(), [code_with_point(str(c)) for c in cells[rows].tolist()]
    t = table.feature_types.get(name)
    if t is not None and not (pa.types.is_null(t) or is_text_type(t)):
        typed = {}
        for c in dict.fromkeys(fills):
            try:
                typed[c] = pa.scalar(c).cast(t).as_py()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                if writer.parquet:
                    raise DataError(
                        f"{literal(table.name)}: column {literal(repr(str(name)))} holds "
                        f"{type_words(t)}, and the model fills a gap in it with the category "
                        f"{literal(repr(c))}, which is not one: write CSV (a .csv output)"
                    ) from None
                typed[c] = c  # a CSV cell holds text as well
        cells[rows] = [typed[c] for c in fills]
        return cells
    cells[rows] = spelling.spell(fills, getattr(table, "decimal", "."))
    return cells


def _input_types(frame, table, writer):
    """``frame`` with the feature columns a Parquet input types as integers in those types,
    for a Parquet output (a file keeps its schema; fills rounded, within the type's
    range); other outputs as they are."""
    if not writer.parquet or not table.integer_features:
        return frame
    import pandas as pd
    import pyarrow as pa

    frame = frame.copy(deep=False)
    for name, t in table.integer_features.items():
        if name in frame:
            info = np.iinfo(t.to_pandas_dtype())
            values = np.clip(np.round(np.asarray(frame[name], dtype=np.float64)), info.min,
                             info.max)
            frame[name] = pd.array(pa.array(values).cast(t), dtype=pd.ArrowDtype(t))
    return frame


def _numbers_as_text(cells, decimal):
    """An object column's float cells as :func:`_exact_text` writes numbers; other cells
    (text, integers, true/false, gaps) as they are."""
    out = cells.copy()
    at = [i for i, c in enumerate(cells.tolist()) if isinstance(c, float)]
    if at:
        out[at] = _exact_text(np.array([cells[i] for i in at], dtype=np.float64), decimal)
    return out


def _exact_text(X, decimal):
    """Numbers ``X`` as text that reads back as the same float64 (a gap left, NaN: an
    empty cell)."""
    text = ["" if v != v else repr(v) for v in X.ravel().tolist()]
    text = [t[:-2] if t.endswith(".0") else t for t in text]
    if decimal != ".":
        text = [t.replace(".", decimal) for t in text]
    return np.array(text, dtype=object).reshape(X.shape)


def _check_range(schema, X, divisor, source):
    if schema.scaling != "unit":
        return
    lo, hi = np.nanmin(X, initial=0), np.nanmax(X, initial=0)
    if lo < 0 or hi > 1:
        what = "pixels 0..255" if divisor != 1.0 else "values in [0, 1]"
        raise DataError(f"{source}: values from {lo * divisor:g} to {hi * divisor:g} but this "
                        f"model was trained on {what}")


def _significant(values, where, digits=7):
    """``values`` with the cells ``where`` rounded to ``digits`` significant digits (the
    model computes in float32: more digits would be noise)."""
    out = values.copy()
    out[where] = [float(f"{v:.{digits}g}") for v in values[where].tolist()]
    return out


def _whole_columns(schema, X, divisor=1.0, columns=None):
    """Which columns of ``X`` (the model's input columns, or those numbered ``columns``)
    get whole-number fills: every one for 0..255 pixels (``divisor`` > 1) read by a model
    of [0, 1] ones; else those that held only whole numbers in the training rows, as the
    model's encoding records, and none for a model file without that record. Never the
    known cells of the file being filled, which would make a row's fills depend on the
    rows beside it (helper-58: a [0, 1] digit table's fills became 0 or 1 where a column's
    known cells were all 0)."""
    if divisor != 1.0:
        return np.ones(X.shape[1], dtype=bool)
    whole = schema.encoding.whole if schema.encoding is not None else None
    if whole is None:
        return np.zeros(X.shape[1], dtype=bool)
    return np.asarray(whole, dtype=bool)[columns if columns is not None else slice(None)]


def _table_rows(table, chunk, X, order, decimal=None):
    """The rows as the file had them: feature and carried columns in the file's order;
    with ``decimal`` (a CSV's decimal mark) each number as the shortest text that reads
    back as the same float (``repr``), whole numbers without a fraction."""
    import pandas as pd

    if decimal is not None:
        X = _exact_text(X, decimal)
    if order is not None:  # back from the model's column order to the file's
        back = np.empty_like(X)
        back[:, order] = X
        X = back
    roles = table.roles
    feature_pos = {c: j for j, c in enumerate(roles.feature_idx)}
    carried_pos = {c: k for k, c in enumerate(roles.carried_idx)}
    order = sorted(roles.feature_idx + roles.carried_idx)
    # by position: two columns of one name (a feature and a column left out) stay two
    frame = pd.DataFrame({k: X[:, feature_pos[c]] if c in feature_pos else
                          chunk.carried.iloc[:, carried_pos[c]].array
                          for k, c in enumerate(order)})
    frame.columns = [table.columns[c] if table.has_header else str(c) for c in order]
    return frame
