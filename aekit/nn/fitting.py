"""Training one network on a numpy array, and running a trained one over a large array.

What every estimator needs of the torch side, in one place: seeding, the
validation split, the progress bar, resuming (:func:`fit_network`), and batched
inference on the model's device in float32 or float64 (:func:`run_in_batches`).
"""

import copy
import math
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

INFERENCE_BATCH = 4096


@dataclass
class Resume:
    """Where an interrupted fit continues: the network's tensors and the trainer's state
    (as :meth:`aekit.nn.training.Trainer.state_dict` gives them)."""

    net: dict
    trainer_tensors: dict
    trainer_meta: dict


@dataclass
class FitResult:
    net: object  # the trained AutoencoderNet, in eval mode, on the device
    history: dict  # per epoch: train_loss, val_loss, lr
    summary: dict = field(default_factory=dict)  # epochs, stopped early, best loss, times...


def split_rows(n, validation_fraction, seed):
    """``(train, validation)`` row indices: a seeded random share held out (none if that
    would leave no training row)."""
    n_val = int(round(n * validation_fraction))
    if n - n_val < 1:
        n_val = 0
    order = np.random.RandomState(seed % 2**32).permutation(n)
    return order[n_val:], order[:n_val]


def fit_network(Xs, config, train, *, noise=None, clip=True, device="cpu",
                validation_fraction=0.1, verbose=0, callback=None, resume=None):
    """Train a new :class:`~aekit.nn.network.AutoencoderNet` on the scaled rows ``Xs``.

    Parameters
    ----------
    Xs : ndarray of shape (n_samples, n_features)
        Rows already scaled for the network (:mod:`aekit.preprocessing`).
    config : ModelConfig
    train : TrainConfig
        Its ``seed`` drives the initialisation, the validation split and every
        random draw of training; the same seed gives the same network.
    noise : Noise or MixedNoise or None
        Corruption of the training inputs (denoising); targets stay clean.
    clip : bool
        Bound corrupted inputs to [0, 1] (data scaled into [0, 1]).
    device : str
    validation_fraction : float in [0, 1)
        Rows held out to monitor early stopping (0: the training loss is monitored).
    verbose : int
        1 shows a progress bar on stderr (on rank 0 of a distributed run).
    callback : callable or None
        ``callback(trainer, report)`` after every epoch (:class:`~aekit.nn.training.Trainer`,
        :class:`~aekit.nn.training.EpochReport`): checkpoints, logs.
    resume : Resume or None
        Continue an interrupted fit from its checkpoint.

    Returns
    -------
    FitResult
    """
    import torch

    from .network import AutoencoderNet
    from .training import Trainer, World

    world = World()
    seed = int(world.from_rank0(train.seed, "cpu")) if world.active else train.seed
    train_idx, val_idx = split_rows(len(Xs), validation_fraction, seed)
    devices = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
    start = time.perf_counter()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        net = AutoencoderNet(config)
        trainer = Trainer(net, train, device, noise=noise, clip=clip)
        if resume is not None:
            trainer.net.load_state_dict({k: torch.as_tensor(v) for k, v in resume.net.items()})
            trainer.load_state_dict(resume.trainer_tensors, resume.trainer_meta)
        # without a validation split the rows need no gather: the trainer shuffles anyway
        rows = Xs if len(val_idx) == 0 and Xs.flags.writeable else Xs[train_idx]
        X_train = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
        X_val = torch.from_numpy(np.ascontiguousarray(Xs[val_idx], dtype=np.float32))
        bar = EpochBar(train.epochs, trainer.epoch) if verbose and trainer.is_main else None
        try:
            trainer.fit(X_train, X_val if len(val_idx) else None,
                        callback=_chain(bar and bar.update, callback))
        finally:
            if bar:
                bar.close()
    net = trainer.net
    if world.size > 1:  # a plain network again (SyncBatchNorm layers are for training only)
        plain = AutoencoderNet(config).to(device)
        plain.load_state_dict(net.state_dict())
        net = plain.eval()
    summary = {
        "epochs": trainer.epoch,
        "stopped_early": trainer.stopped_early,
        "best_loss": trainer.best_loss if math.isfinite(trainer.best_loss) else None,
        "monitored": "validation" if len(val_idx) else "training",
        "n_train": int(len(train_idx)),
        "n_validation": int(len(val_idx)),
        "batch_size": train.batch_size,
        "seconds": round(time.perf_counter() - start, 2),
        "device": str(device),
        "seed": seed,
        "noise": str(noise) if noise else None,
    }
    if world.size > 1:
        summary["processes"] = world.size
    return FitResult(net, trainer.history, summary)


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


def map_batches(net, fn, A, device):
    """Yield ``(start, fn(net, batch) as a numpy array)`` over the rows of ``A`` in batches
    on ``device``: what does not fit in memory at once (e.g. reconstructions, to be
    scored batch by batch) is never built whole.

    float32 input runs in float32 (fast); float64 input runs through a float64 copy
    of the network, so that results do not depend on how the rows are split into
    calls (scikit-learn's invariance checks).
    """
    import torch

    dtype = np.float64 if A.dtype == np.float64 else np.float32
    net = network_in(net, dtype)
    with torch.inference_mode():
        for s in range(0, len(A), INFERENCE_BATCH):
            chunk = torch.from_numpy(np.ascontiguousarray(A[s : s + INFERENCE_BATCH], dtype))
            yield s, fn(net, chunk.to(device)).cpu().numpy()


def run_in_batches(net, fn, A, device, width):
    """``fn(net, batch)`` over the rows of ``A``, concatenated: an array of ``len(A)``
    rows of ``width`` columns (see :func:`map_batches`)."""
    dtype = np.float64 if A.dtype == np.float64 else np.float32
    out = [y for _, y in map_batches(net, fn, A, device)]
    return np.concatenate(out) if out else np.zeros((0, width), dtype=dtype)


def reconstruct(net, t):
    """The network's reconstruction of a batch (for :func:`map_batches`)."""
    return net.reconstruct(t)


def predict_missing(net, t):
    """A masked network's prediction of every cell of a batch from the cells that are not
    NaN (for :func:`map_batches`)."""
    return net.predict(t, t.isnan())


def surprise(net, t):
    """A masked network's surprise at each feature of a batch (for :func:`map_batches`)."""
    return net.surprise(t)


def _chain(*callbacks):
    callbacks = [c for c in callbacks if c]
    if not callbacks:
        return None

    def call(trainer, report):
        for c in callbacks:
            c(trainer, report)

    return call


class EpochBar:
    """A tqdm bar over epochs showing the training and validation loss and the rate."""

    def __init__(self, epochs, initial=0):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=epochs, initial=initial, unit="epoch", desc="training",
                        dynamic_ncols=True, leave=True)

    def update(self, trainer, r):
        post = {"loss": f"{r.train_loss:.4g}"}
        if not math.isnan(r.val_loss):
            post["val"] = f"{r.val_loss:.4g}"
        post["lr"] = f"{r.lr:.2g}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)

    def close(self):
        self.bar.close()
