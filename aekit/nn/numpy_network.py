"""A dense autoencoder's forward pass in numpy alone: no torch, no scikit-learn.

`aekit detect` on a CPU spends longer importing torch (~4.5 s on a 2-core machine)
than scoring 100,000 rows. A dense network in evaluation mode is a few matrix
products (batch norm folds into them, dropout does nothing), so this module runs
it with numpy's BLAS instead. :func:`dense_layout` names the tensors of
:class:`aekit.nn.network.AutoencoderNet` for a dense config; a test holds the two
to each other, and others hold this network's outputs to torch's.
"""

import numpy as np

from .masking import (early_map_is_valid, mask_weights, on_two_values, scoring_masks,
                      spreads_are_valid, two_values_are_valid, with_early)

BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default, which aekit's networks use
ROWS_AT_ONCE = 4096  # rows a masked network scores at once: its temporaries stay small
TINY_RATIO = np.float32(1e-30)  # below it, a surprise is computed the exact way (_surprise_of)
EARLY = "early."  # the prefix of an early network's tensors (AutoencoderNet.early)
# far values overflow float32 to inf (infinitely surprising) or NaN, as in torch: no warnings
_QUIET = dict(over="ignore", invalid="ignore", divide="ignore")


def dense_layout(config):
    """The tensors of a dense AutoencoderNet and the order of its layers.

    Returns ``(shapes, layers)``: ``shapes`` maps each tensor name (as in the torch
    network's ``state_dict``) to its shape; ``layers`` lists
    ``(stack, linear index, batch-norm index or None, ReLU after?)`` in the order
    of :func:`aekit.nn.network.mlp`.
    """
    shapes, layers = {}, []
    for stack, sizes in (("encoder", [config.input_width, *config.hidden, config.code_size]),
                         ("decoder", [config.code_size, *config.decoder_hidden,
                                      config.output_width])):
        i = 0
        for j, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            linear, norm = i, None
            shapes[f"{stack}.{i}.weight"], shapes[f"{stack}.{i}.bias"] = (n_out, n_in), (n_out,)
            i += 1
            last = j == len(sizes) - 2
            if not last:
                if config.batch_norm:
                    norm = i
                    for k in ("weight", "bias", "running_mean", "running_var"):
                        shapes[f"{stack}.{i}.{k}"] = (n_out,)
                    shapes[f"{stack}.{i}.num_batches_tracked"] = ()
                    i += 1
                i += 1  # ReLU
                if config.dropout > 0:
                    i += 1
            layers.append((stack, linear, norm, not last))
    if config.mask_spread:
        shapes["mask_spread"] = (config.score_masks,)
    if config.two_valued:
        shapes["two_values"] = (2, config.n_features)
    if config.early_masks:  # an early network of the same layout (its layers run apart)
        early, _ = dense_layout(config.early_config())
        shapes.update({f"{EARLY}{k}": shape for k, shape in early.items()})
        shapes["early_map"] = (2,)
    return shapes, layers


def check_dense_tensors(config, tensors):
    """Whether ``tensors`` (name -> numpy array) are exactly a dense network of ``config``:
    the same names and shapes, floating weights, finite values."""
    shapes, _ = dense_layout(config)
    if set(tensors) != set(shapes):
        return False
    for k, shape in shapes.items():
        v = tensors[k]
        floating = np.issubdtype(v.dtype, np.floating)
        if v.shape != shape or floating == k.endswith("num_batches_tracked"):
            return False
        own = k[len(EARLY):] if k.startswith(EARLY) else k  # (an early network's, alike)
        if floating and not np.isfinite(v).all() or (own == "mask_spread"
                                                     and not spreads_are_valid(v)) or (
                own == "two_values" and not two_values_are_valid(v, config.n_features)) or (
                k == "early_map" and not early_map_is_valid(v)):
            return False
    return True


class NumpyNetwork:
    """A dense autoencoder in evaluation mode, in float32 numpy, batch norm folded in.

    ``tensors`` maps the torch network's ``state_dict`` names to numpy arrays
    (as :func:`check_dense_tensors` accepts them).
    """

    def __init__(self, config, tensors):
        if config.arch != "dense":
            raise ValueError("only dense networks run in numpy")
        self.config = config
        self.sigmoid_output = config.output == "sigmoid"
        self.masked = config.objective == "masked"
        if self.masked:
            self.score_masks = scoring_masks(config.n_features, config.score_masks,
                                             config.score_design, config.held_at_zero)
            self.mean_weights = mask_weights(self.score_masks)
            self.surprise_weights = mask_weights(
                self.score_masks, tensors["mask_spread"] if config.mask_spread else None)
            self.two_values = np.asarray(tensors["two_values"], np.float32) \
                if config.two_valued else None
            self.early = None
            if config.early_masks:
                self.early = NumpyNetwork(config.early_config(), {
                    k[len(EARLY):]: v for k, v in tensors.items() if k.startswith(EARLY)})
                self.early_map = np.asarray(tensors["early_map"], np.float32)
        _, layout = dense_layout(config)
        exact = []  # float64 (stack, weight (in, out), bias, relu), batch norm folded in
        for stack, i, norm, relu in layout:
            w = tensors[f"{stack}.{i}.weight"].astype(np.float64)
            b = tensors[f"{stack}.{i}.bias"].astype(np.float64)
            if norm is not None:
                t = {k: tensors[f"{stack}.{norm}.{k}"].astype(np.float64)
                     for k in ("weight", "bias", "running_mean", "running_var")}
                s = t["weight"] / np.sqrt(t["running_var"] + BATCH_NORM_EPS)
                w, b = w * s[:, None], (b - t["running_mean"]) * s + t["bias"]
            exact.append((stack, w.T, b, relu))
        self.layers = [_float32(layer) for layer in exact]
        if self.masked:
            self._scoring_layers(exact)

    def _scoring_layers(self, exact):
        """What scoring a masked network runs (see :meth:`_over_score_masks`), each layer
        as ``(weight (out, in), bias (out, 1), relu)`` for features-first blocks: per
        scoring mask, the features it shows and its first layer's weights for them alone
        (the mask's own input folded into the bias, as
        AutoencoderNet.mixture_output_at), and the last layer's rows for the hidden
        features' mixture outputs alone; between them the other layers, the code's two
        linear maps composed into one where the config says so (:func:`_fold_code`).
        Exact up to float32 rounding."""
        c, d = self.config, self.config.n_features
        body = _fold_code(exact[:-1]) if c.scoring_composes_code() else exact[:-1]
        (_, w1, b1, relu1), self.body = body[0], [_features_first(layer) for layer in body[1:]]
        _, w, b, _ = exact[-1]
        self.mask_first, self.mask_outputs = [], []
        two = self.two_values[0] < self.two_values[1] if self.two_values is not None \
            else np.zeros(d, dtype=bool)
        for hidden in self.score_masks:
            shown = np.flatnonzero(~hidden)
            self.mask_first.append((shown, _features_first(
                ("encoder", w1[shown], b1 + w1[d:][shown].sum(axis=0), relu1))))
            # the two-valued features first (as AutoencoderNet._mask_columns): slices
            cols = np.r_[np.flatnonzero(hidden & two), np.flatnonzero(hidden & ~two)]
            rows = (np.arange(3 * c.components)[:, None] * c.n_features + cols).reshape(-1)
            self.mask_outputs.append((cols, _features_first(("decoder", w[:, rows], b[rows],
                                                              False))))

    def scoring_multiply_adds(self):
        """Multiply-adds per row of a masked network's scoring (its early network's too):
        per scoring mask, its first layer (the shown features), the body and the last
        layer's rows for the hidden features."""
        own = sum(first[1].size + sum(layer[1].size for layer in self.body) + last[1].size
                  for (_, first), (_, last) in zip(self.mask_first, self.mask_outputs))
        return own + (self.early.scoring_multiply_adds() if self.early is not None else 0)

    def _forward(self, h, stacks):
        return _through(h, [layer for layer in self.layers if layer[0] in stacks])

    def _input(self, X):
        """The network's input: the rows, and for a masked network which features it is
        shown (all of them; scoring shows each mask's: :meth:`_scoring_layers`)."""
        X = np.asarray(X, dtype=np.float32)
        if not self.masked:
            return X
        return np.concatenate([X, np.ones_like(X)], axis=1)

    def encode(self, X):
        """Codes (n, code_size) of float32 rows X (n, n_features) in the scaled space."""
        return self._forward(self._input(X), ("encoder",))

    def reconstruct(self, X):
        """Reconstructions (n, n_features) of float32 rows X in the model's scaled space
        (a masked network's: each feature's predicted mean, averaged over the scoring
        masks that hide it)."""
        if self.masked:
            return self._over_score_masks(X, self._mixture_mean, self.mean_weights)
        h = self._forward(self._input(X), ("encoder", "decoder"))
        if self.sigmoid_output:  # 1 / (1 + exp(-h)), in place; exp overflows to inf -> 0
            np.negative(h, out=h)
            with np.errstate(over="ignore"):
                np.exp(h, out=h)
            h += 1
            np.reciprocal(h, out=h)
        return h

    def output(self, X, kind="reconstruction"):
        """What scores are computed from (the engine protocol, :mod:`aekit.nn.engine`):
        reconstructions, or for ``kind="surprise"`` a masked network's surprise.

        A value so far from the training rows that the arithmetic overflows float32 gives
        inf (infinitely surprising), or NaN where it cannot give even that, as torch
        does; numpy's warnings about it are not passed on (`aekit detect` counts the rows
        it could not score: :func:`aekit.table_detection.detect_table`)."""
        with np.errstate(**_QUIET):
            return self.surprise(X) if kind == "surprise" else self.reconstruct(X)

    # -- masked networks (see aekit.nn.masking and AutoencoderNet.surprise_of) ---------
    def surprise(self, X):
        """A masked network's surprise at each feature (n, n_features): the score's parts
        (as :meth:`aekit.nn.network.AutoencoderNet.surprise` gives them)."""
        own = self._over_score_masks(X, self._surprise_at, self.surprise_weights)
        if self.early is None:
            return own
        return with_early(own, self.early.surprise(X), self.early_map)

    def _over_score_masks(self, X, per_mask, weights):
        """``per_mask(output, xt, cols)`` at the features ``cols`` each scoring mask hides,
        weighed by ``weights`` (n_masks, n_features) and summed over the masks; a block of
        rows at a time, so that the temporaries stay small.

        Each block runs features first: its rows' transpose ``xt`` (n_features, rows)
        goes through the layers as ``weight @ xt``, so that the mixture output for the
        hidden features, (3, C, k, rows), holds each component's values for a feature
        in one contiguous run, and numpy's elementwise loops run on whole contiguous
        arrays. Rows first, the same arithmetic ran on runs of k values (a mask's hidden
        features), and took 1.3-1.4 times as long (BENCHMARKS.md, "Features first")."""
        total = np.zeros(np.shape(X)[::-1], dtype=np.float32)
        for rows, k, xt, cols, out in self._each_mask(X):
            total[:, rows][cols] += per_mask(out, xt, cols) * weights[k, cols, None]
        return np.ascontiguousarray(total.T)

    def _each_mask(self, X):
        """``(rows, k, xt, cols, out)`` for each block of rows of ``X`` and each scoring
        mask ``k`` in turn: the block's rows (a slice), their transpose ``xt``
        (n_features, rows, float32), the features ``cols`` the mask hides and its mixture
        output for them, ``out`` (3, C, len(cols), rows)."""
        X = np.asarray(X, dtype=np.float32)
        c = self.config
        for s in range(0, len(X), ROWS_AT_ONCE):
            xt = np.ascontiguousarray(X[s:s + ROWS_AT_ONCE].T)
            for k, ((shown, first), (cols, last)) in enumerate(zip(self.mask_first,
                                                                    self.mask_outputs)):
                out = _through(xt[shown], [first, *self.body, last], features_first=True)
                yield (slice(s, s + xt.shape[1]), k, xt, cols,
                       out.reshape(3, c.components, len(cols), -1))

    def mask_surprise(self, X):
        """Each scoring mask's mean surprise over the features it hides, for float32 rows
        ``X`` (n, n_features) in the scaled space: (n, n_masks), float32, in nats, as
        :meth:`aekit.nn.network.AutoencoderNet.mask_surprise` gives it (what a fit
        measures the mask spreads on: :func:`aekit.nn.masking.mask_spreads`)."""
        Q = np.empty((len(X), len(self.score_masks)), dtype=np.float32)
        with np.errstate(**_QUIET):
            for rows, k, xt, cols, out in self._each_mask(X):
                Q[rows, k] = self._surprise_at(out, xt, cols).mean(axis=0)
        return Q

    def _mixture(self, out):
        """Weight logits, locations and scales of ``out``, a mixture output for some
        features, (3, C, k, rows)."""
        raw = out[2]
        # softplus, stable: max(raw, 0) + log1p(exp(-|raw|))
        scale = np.abs(raw)
        np.negative(scale, out=scale)
        np.exp(scale, out=scale)
        _log1p(scale)
        scale += np.maximum(raw, 0)
        scale += np.float32(self.config.scale_floor)
        return out[0], out[1], scale

    def _mixture_mean(self, out, xt, cols):
        logits, loc, _ = self._mixture(out)
        return (_softmax(logits) * loc).sum(axis=0)

    def _surprise_at(self, out, xt, cols):
        """AutoencoderNet.surprise_at in numpy, features first (``out`` (3, C, k, rows),
        ``xt`` (n_features, rows); gives (k, rows)): :meth:`_surprise_of`, and at the
        two-valued features holding one of their values, :meth:`_side_surprise`; each
        element computed once, by the rule that applies to it (``out`` is overwritten)."""
        two = self.two_values[0, cols] < self.two_values[1, cols] \
            if self.two_values is not None else ()
        m = int(np.count_nonzero(two))
        if not m:  # no two-valued feature here (most tables)
            return self._surprise_of(out, xt[cols])
        if two[:m].all():  # the two-valued features first (as the masks' columns come)
            some, rest = slice(0, m), slice(m, None)
        else:
            some, rest = np.flatnonzero(two), np.flatnonzero(~two)
        surprise = np.empty((len(cols), xt.shape[1]), dtype=np.float32)
        low, high = self.two_values[:, cols[some], None]
        values = xt[cols[some]]
        on_value = on_two_values(values, low, high)
        off = None if on_value.all() else self._surprise_of(out[:, :, some], values)
        surprise[some] = self._side_surprise(out[:, :, some], values, (low + high) / 2)
        if off is not None:  # a value off both (never in the training rows)
            surprise[some] = np.where(on_value, surprise[some], off)
        if m < len(cols):
            surprise[rest] = self._surprise_of(out[:, :, rest], xt[cols[rest]])
        return surprise

    def _side_surprise(self, out, target, threshold):
        """AutoencoderNet.side_surprise in numpy, features first (``out`` (3, C, k, rows)
        is overwritten; ``target`` (k, rows), ``threshold`` (k, 1))."""
        logits, loc, scale = self._mixture(out)
        u = np.subtract(threshold, loc)
        u /= scale
        np.copyto(u, -u, where=~(target > threshold))
        if self.config.output == "gaussian":
            from scipy.special import log_ndtr  # (scipy comes with scikit-learn)

            log_tail = log_ndtr(-u).astype(np.float32)
        else:  # Laplace: P(E >= u) = exp(-u) / 2 for u >= 0, 1 - exp(u) / 2 below
            log_tail = np.where(u >= 0, np.float32(np.log(0.5)) - u,
                                _log1p(np.float32(-0.5) * np.exp(np.clip(u, -30, 0))))
        logits -= _logsumexp(logits)
        log_tail += logits
        surprise = _logsumexp(log_tail)
        np.negative(surprise, out=surprise)
        return surprise

    def _surprise_of(self, out, target):
        """AutoencoderNet.surprise_of in numpy, features first: the surprise (k, rows) at
        values ``target`` (k, rows) of the mixtures ``out`` (3, C, k, rows), which is
        left as it is.

        The surprise is -log(sum_c w_c exp(-t_c) / s_c) - log scale_floor, with w the
        softmax of the logits, s_c the scales and t_c the distance in scales (|v - loc|
        / s for Laplace, ((v - loc) / s)^2 / 2 for Gaussian). It is computed as
        min_c t_c - log(sum_c e_c q_c / sum_c e_c), with e_c the exponentiated logits
        less their largest and q_c = exp(min t - t_c) scale_floor / s_c (each at most 1,
        so nothing overflows): no log of each scale is taken (four exp or log per
        component instead of five, about 5% of the engine's time; BENCHMARKS.md,
        "Features first"). Where the ratio falls below :data:`TINY_RATIO` (the nearest
        component's weight below about 1e-30: float32 would lose digits, or reach 0), or
        is NaN (a value so far out that every distance overflowed), :meth:`_exact_surprise`
        computes the element instead."""
        _, loc, scale = self._mixture(out)
        t = self._distance(target, loc, scale)
        scale /= np.float32(self.config.scale_floor)  # in floors, at least 1: q_c <= 1
        nearest = _over_components(np.minimum, t)
        logits = out[0]
        top = _over_components(np.maximum, logits)
        weights, mixed = np.zeros_like(top), np.zeros_like(top)
        e, q = np.empty_like(top), np.empty_like(top)
        for c in range(len(logits)):
            np.subtract(logits[c], top, out=e)
            np.exp(e, out=e)
            weights += e
            np.subtract(nearest, t[c], out=q)
            np.exp(q, out=q)
            q /= scale[c]
            q *= e
            mixed += q
        mixed /= weights
        # (NaN where every distance overflowed: computed the exact way too)
        at = None if mixed.min() >= TINY_RATIO else np.nonzero(~(mixed >= TINY_RATIO))
        if at is not None:
            mixed[at] = 1  # (computed below)
        np.log(mixed, out=mixed)
        np.subtract(nearest, mixed, out=mixed)
        if at is not None:
            mixed[at] = self._exact_surprise(out[:, :, at[0], at[1]], target[at])
        return mixed

    def _distance(self, target, loc, scale):
        """The distance of values ``target`` from each component, in its scales (a new
        array, the shape of ``loc``): |v - loc| / s for Laplace, ((v - loc) / s)^2 / 2 for
        Gaussian: the component's negative log density less its log scale."""
        t = np.subtract(target, loc)
        if self.config.output == "gaussian":
            t /= scale
            t *= t
            t *= np.float32(0.5)
        else:
            np.abs(t, out=t)
            t /= scale
        return t

    def _exact_surprise(self, out, target):
        """The surprise as AutoencoderNet.surprise_of computes it (``out`` (3, C, ...),
        ``target`` (...); ``out`` is overwritten): -logsumexp(log_softmax(logits) -
        distance - log scale) - log scale_floor over the mixture's components (the logits
        normalised first, as torch does, so that large logits lose no precision)."""
        logits, loc, scale = self._mixture(out)
        z = self._distance(target, loc, scale)
        np.log(scale, out=scale)
        z += scale
        logits -= _logsumexp(logits)  # a view of out, which is not read again
        np.subtract(logits, z, out=z)
        surprise = _logsumexp(z)
        np.negative(surprise, out=surprise)
        surprise -= np.float32(np.log(self.config.scale_floor))
        return surprise


def _float32(layer):
    stack, w, b, relu = layer
    return stack, np.ascontiguousarray(w, dtype=np.float32), b.astype(np.float32), relu


def _features_first(layer):
    """A layer ``(stack, weight (in, out), bias, relu)`` (float64) for features-first
    blocks (:func:`_through`): weight (out, in) and bias (out, 1), float32."""
    stack, w, b, relu = layer
    return (stack, np.ascontiguousarray(w.T, dtype=np.float32),
            b.astype(np.float32)[:, None], relu)


def _fold_code(layers):
    """``layers`` (float64 ``(stack, weight (in, out), bias, relu)``) with the encoder's
    last layer and the decoder's first composed into one (the code is linear: no
    activation after the encoder), as
    :meth:`~aekit.nn.config.ModelConfig.scoring_composes_code` decides."""
    j = max(i for i, layer in enumerate(layers) if layer[0] == "encoder")
    (_, w1, b1, _), (s2, w2, b2, relu2) = layers[j], layers[j + 1]
    return [*layers[:j], (s2, w1 @ w2, b1 @ w2 + b2, relu2), *layers[j + 2:]]


def _through(h, layers, features_first=False):
    """Rows ``h`` through ``layers``, each ``(stack, weight (in, out), bias, relu)``; or,
    ``features_first``, transposed rows (features, rows) through layers as
    :func:`_features_first` gives them."""
    for _, w, b, relu in layers:
        h = w @ h if features_first else h @ w
        h += b
        if relu:
            np.maximum(h, 0, out=h)
    return h


def _log1p(e):
    """log(1 + e) in place, to float32 rounding, for finite float32 ``e`` >= -0.5 (what
    its callers pass: softplus's exp(-|r|) in (0, 1], the Laplace tail's -exp(u) / 2 in
    [-0.5, 0); +inf would give NaN): log(u) of u = 1 + e as rounded, plus (e - (u - 1))
    / u, the rounding's share to first order (e itself where u rounds to 1). numpy's
    float32 log1p runs an element at a time where its log runs on whole vectors: this
    takes about a third of log1p's time."""
    u = e + np.float32(1)
    e -= u - np.float32(1)  # u - 1 is exact (Sterbenz)
    e /= u
    np.log(u, out=u)
    e += u
    return e


def _over_components(reduce, a):
    """``a`` (C, ...) reduced over its first axis (a mixture's components) by ``reduce``
    (np.maximum, np.minimum): a component at a time, each a contiguous array."""
    top = a[0].copy()
    for c in range(1, len(a)):
        reduce(top, a[c], out=top)
    return top


def _logsumexp(a):
    """log(sum(exp(a))) over axis 0 (a mixture's components, (C, ...)): a component at
    a time, each a contiguous array; -inf where every component is -inf (as torch's
    logsumexp gives: a value so far out that its distance overflowed is infinitely
    surprising, not NaN)."""
    top = _over_components(np.maximum, a)
    np.copyto(top, 0, where=top == -np.inf)
    s = np.zeros_like(top)
    e = np.empty_like(top)
    for c in range(len(a)):
        np.subtract(a[c], top, out=e)
        np.exp(e, out=e)
        s += e
    with np.errstate(divide="ignore"):  # log(0): -inf, as above
        np.log(s, out=s)
    s += top
    return s


def _softmax(a):
    return np.exp(a - _logsumexp(a))
