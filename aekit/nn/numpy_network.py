"""A dense autoencoder's forward pass in numpy alone: no torch, no scikit-learn.

`aekit detect` on a CPU spends longer importing torch (~4.5 s on a 2-core machine)
than scoring 100,000 rows. A dense network in evaluation mode is a few matrix
products (batch norm folds into them, dropout does nothing), so this module runs
it with numpy's BLAS instead. :func:`dense_layout` names the tensors of
:class:`aekit.nn.network.AutoencoderNet` for a dense config; a test holds the two
to each other, and others hold this network's outputs to torch's.
"""

import numpy as np

BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default, which aekit's networks use


def dense_layout(config):
    """The tensors of a dense AutoencoderNet and the order of its layers.

    Returns ``(shapes, layers)``: ``shapes`` maps each tensor name (as in the torch
    network's ``state_dict``) to its shape; ``layers`` lists
    ``(stack, linear index, batch-norm index or None, ReLU after?)`` in the order
    of :func:`aekit.nn.network.mlp`.
    """
    shapes, layers = {}, []
    for stack, sizes in (("encoder", [config.n_features, *config.hidden, config.code_size]),
                         ("decoder", [config.code_size, *config.decoder_hidden, config.n_features])):
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
        if floating and not np.isfinite(v).all():
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

    def _forward(self, h, stacks):
        for stack, w, b, relu in self.layers:
            if stack not in stacks:
                continue
            h = h @ w
            h += b
            if relu:
                np.maximum(h, 0, out=h)
        return h

    def encode(self, X):
        """Codes (n, code_size) of float32 rows X (n, n_features) in the scaled space."""
        return self._forward(np.asarray(X, dtype=np.float32), ("encoder",))

    def reconstruct(self, X):
        """Reconstructions (n, n_features) of float32 rows X in the model's scaled space."""
        h = self._forward(np.asarray(X, dtype=np.float32), ("encoder", "decoder"))
        if self.sigmoid_output:  # 1 / (1 + exp(-h)), in place; exp overflows to inf -> 0
            np.negative(h, out=h)
            with np.errstate(over="ignore"):
                np.exp(h, out=h)
            h += 1
            np.reciprocal(h, out=h)
        return h
