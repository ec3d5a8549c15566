"""A dense autoencoder's forward pass in numpy alone: no torch, no scikit-learn.

`aekit detect` on a CPU spends longer importing torch (~4.5 s on a 2-core machine)
than scoring 100,000 rows. A dense network in evaluation mode is a few matrix
products (batch norm folds into them, dropout does nothing), so this module runs
it with numpy's BLAS instead. :func:`dense_layout` names the tensors of
:class:`aekit.nn.network.AutoencoderNet` for a dense config; a test holds the two
to each other, and others hold this network's outputs to torch's.
"""

import numpy as np

from .masking import mask_weights, scoring_masks, spreads_are_valid

BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default, which aekit's networks use
ROWS_AT_ONCE = 4096  # rows a masked network scores at once: its temporaries stay small


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
        if floating and not np.isfinite(v).all() or (k == "mask_spread"
                                                     and not spreads_are_valid(v)):
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
                                             config.score_design)
            self.mean_weights = mask_weights(self.score_masks)
            self.surprise_weights = mask_weights(
                self.score_masks, tensors["mask_spread"] if config.mask_spread else None)
        _, layout = dense_layout(config)
        self.layers = []
        for stack, i, norm, relu in layout:
            w = tensors[f"{stack}.{i}.weight"].astype(np.float64)
            b = tensors[f"{stack}.{i}.bias"].astype(np.float64)
            if norm is not None:
                t = {k: tensors[f"{stack}.{norm}.{k}"].astype(np.float64)
                     for k in ("weight", "bias", "running_mean", "running_var")}
                s = t["weight"] / np.sqrt(t["running_var"] + BATCH_NORM_EPS)
                w, b = w * s[:, None], (b - t["running_mean"]) * s + t["bias"]
            self.layers.append((stack, np.ascontiguousarray(w.T, dtype=np.float32),
                                b.astype(np.float32), relu))
        if self.masked:  # per scoring mask: the features it hides, and the last layer's
            # weights for their mixture outputs alone (see AutoencoderNet.mixture_output_at)
            c, (_, w, b, _) = config, self.layers[-1]
            self.mask_outputs = []
            for hidden in self.score_masks:
                cols = np.flatnonzero(hidden)
                rows = (np.arange(3 * c.components)[:, None] * c.n_features + cols).reshape(-1)
                self.mask_outputs.append((cols, np.ascontiguousarray(w[:, rows]), b[rows]))

    def _forward(self, h, stacks):
        return _through(h, [layer for layer in self.layers if layer[0] in stacks])

    def _input(self, X, hidden=None):
        """A masked network's input: the rows with the ``hidden`` features zeroed, then
        which features it is shown."""
        X = np.asarray(X, dtype=np.float32)
        if not self.masked:
            return X
        keep = np.ones_like(X) if hidden is None else (~hidden).astype(np.float32)
        return np.concatenate([X * keep, np.broadcast_to(keep, X.shape)], axis=1)

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
        reconstructions, or for ``kind="surprise"`` a masked network's surprise."""
        return self.surprise(X) if kind == "surprise" else self.reconstruct(X)

    # -- masked networks (see aekit.nn.masking and AutoencoderNet.surprise_of) ---------
    def surprise(self, X):
        """A masked network's surprise at each feature (n, n_features): the score's parts
        (as :meth:`aekit.nn.network.AutoencoderNet.surprise` gives them)."""
        return self._over_score_masks(X, self._surprise_of, self.surprise_weights)

    def _over_score_masks(self, X, per_mask, weights):
        """``per_mask(output, rows, cols)`` at the features ``cols`` each scoring mask
        hides, weighed by ``weights`` (n_masks, n_features) and summed over the masks; a
        block of rows at a time, so that the temporaries stay small."""
        X = np.asarray(X, dtype=np.float32)
        total = np.zeros(X.shape, dtype=np.float32)
        c, body = self.config, self.layers[:-1]
        for s in range(0, len(X), ROWS_AT_ONCE):
            x = X[s:s + ROWS_AT_ONCE]
            part = total[s:s + len(x)]
            for hidden, (cols, w, b), weight in zip(self.score_masks, self.mask_outputs,
                                                    weights):
                out = _through(self._input(x, hidden[None, :]), body) @ w
                out += b
                part[:, cols] += per_mask(out.reshape(len(x), 3, c.components, len(cols)),
                                          x, cols) * weight[cols]
        return total

    def _mixture(self, out):
        """Weight logits, locations and scales of ``out``, a mixture output for some
        features, (n, 3, C, k)."""
        raw = out[:, 2]
        # softplus, stable: max(raw, 0) + log(1 + exp(-|raw|))
        scale = np.maximum(raw, 0) + np.log1p(np.exp(-np.abs(raw))) + np.float32(
            self.config.scale_floor)
        return out[:, 0], out[:, 1], scale

    def _mixture_mean(self, out, x, cols):
        logits, loc, _ = self._mixture(out)
        return (_softmax(logits) * loc).sum(axis=1)

    def _surprise_of(self, out, x, cols):
        logits, loc, scale = self._mixture(out)
        log_p = logits - _logsumexp(logits)
        z = (x[:, None, cols] - loc) / scale
        log_p -= 0.5 * z * z if self.config.output == "gaussian" else np.abs(z)
        log_p -= np.log(scale / np.float32(self.config.scale_floor))
        return -_logsumexp(log_p)[:, 0]


def _through(h, layers):
    """Rows ``h`` through ``layers``, each ``(stack, weight (in, out), bias, relu)``."""
    for _, w, b, relu in layers:
        h = h @ w
        h += b
        if relu:
            np.maximum(h, 0, out=h)
    return h


def _logsumexp(a):
    """log(sum(exp(a))) over axis 1, kept as a length-1 axis."""
    top = a.max(axis=1, keepdims=True)
    return top + np.log(np.exp(a - top).sum(axis=1, keepdims=True))


def _softmax(a):
    return np.exp(a - _logsumexp(a))
