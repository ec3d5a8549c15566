"""Running a trained torch network over numpy arrays: the torch scoring engine.

An *engine* is what turns rows in a model's scaled space into what its scores are
computed from (:mod:`aekit.scores`): ``engine.output(Xs, kind)`` gives, per row and
feature, the reconstruction (``kind="reconstruction"``) or a masked network's surprise
(``kind="surprise"``). :class:`TorchEngine` runs an
:class:`~aekit.nn.network.AutoencoderNet` batch by batch on its device;
:class:`~aekit.nn.numpy_network.NumpyNetwork` is the same engine in numpy alone (for
`aekit detect` without torch), and :class:`aekit.pca_model.PCAModel` the linear one.
:class:`NumpyEngine` runs the numpy one on every core, and :func:`measuring_engine`
decides which engine a fit measures its own network with. Tests hold the engines'
outputs to each other.
"""

import copy
import weakref

import numpy as np

INFERENCE_BATCH = 4096

_DOUBLE_NETS = weakref.WeakKeyDictionary()


def network_in(net, dtype):
    """``net`` in eval mode, or a cached float64 copy of it for float64 data."""
    net.eval()
    if dtype != np.float64:
        return net
    copy_ = _DOUBLE_NETS.get(net)
    if copy_ is None:
        copy_ = copy.deepcopy(net).double().eval()
        _DOUBLE_NETS[net] = copy_
    return copy_


class TorchEngine:
    """A trained network applied to numpy arrays on ``device``, a batch at a time.

    float32 rows run in float32 (fast); float64 rows run through a float64 copy of the
    network, so that results do not depend on how the rows are split into calls
    (scikit-learn's invariance checks). Outputs are numpy arrays of that dtype.
    ``dtype=np.float32`` runs every row in float32, the precision the network trained
    in, at about half the time of float64 on a CPU: how a fit measures its network
    where numpy cannot (:func:`measuring_engine`).
    """

    def __init__(self, net, device="cpu", dtype=None):
        self.net, self.device, self.dtype = net, device, dtype

    def _dtype(self, A):
        if self.dtype is not None:
            return np.dtype(self.dtype).type
        return np.float64 if A.dtype == np.float64 else np.float32

    def map_batches(self, fn, A):
        """Yield ``(start, fn(net, batch) as a numpy array)`` over the rows of ``A``."""
        import torch

        dtype = self._dtype(A)
        net = network_in(self.net, dtype)
        with torch.inference_mode():
            for s in range(0, len(A), INFERENCE_BATCH):
                rows = np.ascontiguousarray(A[s:s + INFERENCE_BATCH], dtype)
                if not rows.flags.writeable:  # (a caller's read-only array: torch warns)
                    rows = rows.copy()
                yield s, fn(net, torch.from_numpy(rows).to(self.device)).cpu().numpy()

    def run(self, fn, A, width):
        """``fn(net, batch)`` over the rows of ``A``, concatenated: ``len(A)`` rows of
        ``width`` columns."""
        dtype = self._dtype(A)
        out = [y for _, y in self.map_batches(fn, A)]
        return np.concatenate(out) if out else np.zeros((0, width), dtype=dtype)

    def output(self, Xs, kind="reconstruction"):
        """What scores are computed from (n, n_features): reconstructions, or for
        ``kind="surprise"`` a masked network's surprise at each feature."""
        if kind == "surprise":
            return self.run(lambda net, t: net.surprise(t), Xs, Xs.shape[1])
        return self.reconstruct(Xs)

    def reconstruct(self, Xs):
        """Reconstructions (n, n_features) of scaled rows (a masked network's: each
        feature predicted from the others, averaged over its scoring masks)."""
        return self.run(lambda net, t: net.reconstruct(t), Xs, self.net.config.n_features)

    def mask_surprise(self, Xs):
        """A masked network's mean surprise per scoring mask (n, n_masks), as
        :meth:`~aekit.nn.network.AutoencoderNet.mask_surprise` gives it."""
        return self.run(lambda net, t: net.mask_surprise(t), Xs, self.net.config.score_masks)

    def encode(self, Xs):
        """Codes (n, code_size) of scaled rows."""
        return self.run(lambda net, t: net.encode(t), Xs, self.net.config.code_size)

    def decode(self, Z):
        """Reconstructions (n, n_features) of codes."""
        return self.run(lambda net, t: net.decode(t), Z, self.net.config.n_features)

    def predict_missing(self, Xs):
        """A masked network's prediction of every cell from the cells that are not NaN."""
        return self.run(lambda net, t: net.predict(t, t.isnan()), Xs, Xs.shape[1])


class NumpyEngine:
    """A trained dense network's numpy twin (:class:`~aekit.nn.numpy_network.NumpyNetwork`,
    float32, the engine of `aekit detect`), each call's rows split across ``cores`` CPUs
    (:func:`aekit.concurrency.across_cores`; None: all this process may use): ``output``
    and ``mask_surprise`` as :class:`TorchEngine` gives them, to float32 rounding."""

    def __init__(self, network, cores=None):
        self.network, self.cores = network, cores

    def output(self, Xs, kind="reconstruction"):
        from ..concurrency import across_cores

        return across_cores(lambda part: self.network.output(part, kind), Xs, self.cores)

    def mask_surprise(self, Xs):
        from ..concurrency import across_cores

        return across_cores(self.network.mask_surprise, Xs, self.cores)


def measuring_engine(net, device):
    """The engine a fit measures its own network with (:func:`aekit.nn.fitting.fit_network`:
    the trim's ranking, the mask spreads, the early network's map, the score quantiles),
    in float32 as the network trained: on a CPU, a dense network's
    :class:`NumpyEngine` on as many cores as torch's threads (``torch.get_num_threads()``:
    ``OMP_NUM_THREADS``, ``torch.set_num_threads``), 1.4-2 times as fast there as torch
    (BENCHMARKS.md, "A fit measures its network in float32, in numpy"); otherwise a
    float32 :class:`TorchEngine`."""
    import torch

    from .network import AutoencoderNet
    from .numpy_network import NumpyNetwork, check_dense_tensors

    if torch.device(device).type == "cpu" and type(net) is AutoencoderNet \
            and net.config.arch == "dense":
        tensors = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
        if check_dense_tensors(net.config, tensors):
            return NumpyEngine(NumpyNetwork(net.config, tensors), torch.get_num_threads())
    return TorchEngine(net, device, np.float32)
