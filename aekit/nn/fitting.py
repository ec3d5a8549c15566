"""Training one network on a numpy array: what every estimator needs of the torch side
for a fit, in one place: seeding, the validation split, the progress bar, resuming, and
trimming (:func:`fit_network`). Running a trained network is :mod:`aekit.nn.engine`'s job.
"""

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import AekitWarning, warn


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
    kept: object = None  # the row indices the second fit of a trimmed fit trained on
    # the final network's mean surprise (its "nll" score, float64) of the training rows it
    # was measured on (aekit.thresholds.quantile_rows(n_samples, seed)), when the fit
    # measured it: a masked network with mask spreads or an early network
    surprise: object = None


def split_rows(n, validation_fraction, seed):
    """``(train, validation)`` row indices: a seeded random share held out (none if that
    would leave no training row)."""
    n_val = int(round(n * validation_fraction))
    if n - n_val < 1:
        n_val = 0
    order = np.random.RandomState(seed % 2**32).permutation(n)
    return order[n_val:], order[:n_val]


def fit_network(Xs, config, train, *, noise=None, clip=True, device="cpu",
                validation_fraction=0.1, verbose=0, callback=None, resume=None,
                trim=0.0, trim_by_value=False, score_type=None, network=None,
                objective=None, early_epochs=1, early_weight=0.5, first_fit_epochs=None):
    """Train a new :class:`~aekit.nn.network.AutoencoderNet` (or the network ``network``
    builds) on the scaled rows ``Xs``.

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
        Continue an interrupted fit from its checkpoint (in either fit of a trimmed one).
    trim : float in [0, 0.5), default=0.0
        Share of the rows left out of a second fit: the network is fitted on all rows,
        the ``floor(trim * n_samples)`` rows it scores highest (in float32, as every
        measurement of a fit: :func:`aekit.nn.engine.measuring_engine`) are set aside,
        and a new network (same seed) is fitted on the others, so that anomalies in the
        training rows are not learned as normal (data refinement: Yoon et al.,
        "Self-supervise, refine, repeat", TMLR 2022). 0: one fit; one fit too when no
        row would be left out or fewer than 2 would be left to train on. The second
        fit's checkpoints hold a 0/1 mask of the rows it keeps
        (``trainer.stage_tensors["kept"]``), so a resumed run keeps the same rows.
    trim_by_value : bool, default=False
        With ``config.two_valued``: the trim leaves out at most its share of the rows
        holding each value of each two-valued feature (a category's rows, a flag's),
        going down the first fit's ranking and passing over a row that would take one
        beyond it (:func:`rows_left_out`), so that the refit still learns the rare
        categories. A rare category adds its own surprise (-log of its share) to every
        row holding it, so an unstratified trim leaves out most of its rows, and the
        refit, never shown them, scores them as anomalies (BENCHMARKS.md, "Tables with
        categories: a Bernoulli surprise and a trim within each value").
    score_type : str or None
        The anomaly score (:mod:`aekit.scores`) the first fit ranks the rows by; needed
        when ``trim > 0``.
    first_fit_epochs : int or None, default=None
        The epochs of a trimmed fit's first fit (None: ``train.epochs``, as the second's).
    network : callable or None
        ``network(config, rows)``: a new network for ``config`` (rows: the training rows,
        for a data-dependent start), built under the fit's seed; None: an
        :class:`~aekit.nn.network.AutoencoderNet`. Such networks train in one process.
    objective : object or None
        The trainer's objective (:class:`aekit.nn.training.Trainer`); None: the network's
        loss.
    early_epochs : int, default=1
        With ``config.early_masks``: the network keeps a copy of itself as the first fit
        (of a trimmed fit; the only one otherwise) was after this many epochs, its early
        network (:meth:`aekit.nn.network.AutoencoderNet.surprise`). Checkpoints written
        after it hold it (``trainer.stage_tensors["early.*"]``), so a resumed run keeps
        the same. When the fit ends before, or either network's scores do not vary over
        the training rows, the network holds none (its config's ``early_masks`` is 0).
    early_weight : float, default=0.5
        What the early network's robust z-scores among the training rows are multiplied
        by before the larger is taken (:func:`aekit.nn.masking.early_map`).

    Returns
    -------
    FitResult
        Its ``surprise``: with ``config.mask_spread`` or ``config.early_masks``, the
        final network's mean surprise (its "nll" anomaly score, float64) of each of the
        training rows ``aekit.thresholds.quantile_rows(n_samples, seed)`` picks, measured
        once for the spreads, the early map and the score quantiles alike, else None. Its
        ``summary["trim"]`` (when ``trim > 0``): the share, the rows left out and the
        first fit's epochs; ``history`` is the final fit's, ``summary["n_train"]``
        counts the rows that fit trained on.

    Raises
    ------
    ValueError
        ``resume`` is of a trimmed fit and ``trim`` is 0 (or the other way round), or
        its kept rows do not match the ``n_samples`` rows of ``Xs``.
    aekit.errors.TrainingError
        The loss became NaN or infinite.
    """
    from ..scores import score_rows
    from .engine import measuring_engine
    from .training import World

    world = World()
    seed = int(world.from_rank0(train.seed, device)) if world.active else train.seed
    start = time.perf_counter()
    stage, kept = _resumed_stage(resume, trim, len(Xs))
    spread = getattr(config, "mask_spread", False)  # (a VAE's config has none)
    early = EarlySnapshot(early_epochs, resume) if getattr(config, "early_masks", 0) else None
    fitted = replace(config, mask_spread=False, early_masks=0) if spread or early \
        else config  # what trains: the spreads are measured on the last network alone,
    # so no checkpoint holds them; the early network is a snapshot, held apart till the end
    values = None  # two-valued features: measured on every row, before either fit
    if getattr(config, "two_valued", False):
        from .masking import two_values

        values = world.array_from_rank0(two_values(Xs).astype(np.float64), device)
    first = None
    if trim > 0 and kept is None:  # the first fit ranks the rows by the unweighed surprise
        # (a fit that cannot leave any row out is the only one: it trains in full)
        short = first_fit_epochs is not None and _count_left_out(
            len(Xs), trim, validation_fraction, seed)
        first_train = replace(train, epochs=int(first_fit_epochs)) if short else train
        first = _train(Xs, fitted, first_train, seed, device, noise, clip, validation_fraction,
                       verbose, callback, resume, {"fit": 1, "of": 2}, "training", start,
                       two_values=values, early=early)
        scores = score_rows(measuring_engine(first.net, device), Xs, score_type)
        kept = _kept_rows(scores, trim, world, device, validation_fraction, seed,
                          (Xs, values) if trim_by_value and values is not None else None)
        stage = {"fit": 2, "of": 2, "left_out": int(len(Xs) - len(kept)),
                 "first_fit_epochs": first.epoch}
        resume, start = None, first.job_start  # (set back if the first fit was resumed)
    if first is not None and len(kept) == len(Xs) and first_train.epochs == train.epochs:
        trainer, rows = first, Xs
    else:
        rows = Xs if kept is None else Xs[kept]
        trainer = _train(rows, fitted, train, seed, device, noise, clip, validation_fraction,
                         verbose, callback, resume, stage, "refit" if kept is not None
                         else "training", start, kept=kept, n_all=len(Xs),
                         custom=(network, objective), two_values=values, early=early)
    net = trainer.net
    if early and early.tensors is None:  # the fit ended before the snapshot: none is held
        if resume is not None or stage.get("fit") == 2:
            warn(UserWarning("the checkpoint holds no early network (it was written before "
                             "aekit kept one): the model scores without it"))
        config, early = replace(config, early_masks=0), None
    if world.size > 1 or spread or early:  # a plain network of config (SyncBatchNorm layers
        # are for training only), with its spreads and its early network, measured next
        net = _plain_network(net, config, device, early)
    measured = _measured_rows(Xs, seed) if spread or early else None
    surprise = None  # the final network's mean surprise of the measured rows
    if spread:
        surprise = _measure_mask_spread(net, measured, world, device)
    if early:
        net, surprise = _measure_early_network(net, measured, world, device, early_weight,
                                               surprise)
    summary = _summary(trainer, train, seed, device, noise, world)
    if trim > 0:
        summary["trim"] = _trim_summary(trim, stage, len(Xs), validation_fraction, seed)
    return FitResult(net, trainer.history, summary,
                     kept if trim > 0 and stage.get("left_out") else None, surprise)


def _trim_summary(trim, stage, n, validation_fraction, seed):
    """A trimmed fit's ``summary["trim"]`` (its share, the rows left out, the first fit's
    epochs), warning when it left none out of ``n`` rows, and why."""
    if stage["left_out"]:
        return {"share": float(trim), "left_out": int(stage["left_out"]),
                "first_fit_epochs": int(stage["first_fit_epochs"])}
    warn(AekitWarning(
        f"trim {trim:g}: {n} row{'s are' if n != 1 else ' is'} too few to leave any out of a "
        "second fit; fitted once"
        if not _count_left_out(n, trim, validation_fraction, seed)
        else f"trim {trim:g}: every row holds a value few rows share (a category, a flag), "
        f"and no value loses more than {trim:.0%} of its rows to the trim: none was left "
        "out"))
    return {"share": float(trim), "left_out": 0}


def _train(rows, config, train, seed, device, noise, clip, validation_fraction, verbose,
           callback, resume, stage, desc, job_start, kept=None, n_all=None,
           custom=(None, None), two_values=None, early=None):
    """One fit of a new network on ``rows`` (seeded): the :class:`Trainer` after it.
    ``stage`` (and the kept rows as a 0/1 mask over ``n_all``) go into its checkpoints,
    and the seconds since ``job_start`` (``time.perf_counter()`` when the job began);
    ``custom``: :func:`fit_network`'s ``(network, objective)``; ``two_values``: the
    network's (with ``config.two_valued``; :func:`aekit.nn.masking.two_values`);
    ``early``: the :class:`EarlySnapshot` this fit takes, or carries in its checkpoints."""
    import torch

    from .network import AutoencoderNet
    from .training import Trainer

    train_idx, val_idx = split_rows(len(rows), validation_fraction, seed)
    devices = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        build, objective = custom
        part = rows if len(val_idx) == 0 and rows.flags.writeable else rows[train_idx]
        net = AutoencoderNet(config) if build is None else build(config, part)
        if two_values is not None:
            net.two_values.copy_(torch.as_tensor(two_values, dtype=torch.float32))
        trainer = Trainer(net, train, device, noise=noise, clip=clip, objective=objective)
        trainer.stage, trainer.job_start = stage, job_start
        if kept is not None:
            mask = np.zeros(n_all, dtype=np.uint8)
            mask[kept] = 1
            trainer.stage_tensors = {"kept": torch.from_numpy(mask)}
        if early is not None:
            early.carry(trainer)
        if resume is not None:
            trainer.net.load_state_dict({k: torch.as_tensor(v) for k, v in resume.net.items()})
            trainer.load_state_dict(resume.trainer_tensors, resume.trainer_meta)
        # without a validation split the rows need no gather: the trainer shuffles anyway
        X_train = torch.from_numpy(np.ascontiguousarray(part, dtype=np.float32))
        X_val = torch.from_numpy(np.ascontiguousarray(rows[val_idx], dtype=np.float32))
        bar = EpochBar(train.epochs, trainer.epoch, desc) \
            if verbose and trainer.is_main else None
        try:
            trainer.fit(X_train, X_val if len(val_idx) else None,
                        callback=_chain(bar and bar.update, early and early.take, callback))
        finally:
            if bar:
                bar.close()
    trainer.n_train, trainer.n_validation = int(len(train_idx)), int(len(val_idx))
    return trainer


def _plain_network(net, config, device, early=None):
    """A new :class:`~aekit.nn.network.AutoencoderNet` of ``config`` holding ``net``'s
    tensors (those of a network without spreads: the spreads stay to be measured) and
    the :class:`EarlySnapshot` ``early``'s as its early network (with
    ``config.early_masks``; its spreads and map stay to be measured too)."""
    from .network import AutoencoderNet

    plain = AutoencoderNet(config).to(device)
    state = net.state_dict()
    if config.mask_spread:
        state["mask_spread"] = plain.mask_spread
    if config.early_masks:
        state.update({f"early.{k}": v for k, v in early.tensors.items()})
        state.update({k: v for k, v in plain.state_dict().items()
                      if k == "early_map" or k == "early.mask_spread"})
    plain.load_state_dict(state)
    return plain.eval()


class EarlySnapshot:
    """The first fit's network after ``epochs`` epochs (:func:`fit_network`'s early
    network): ``tensors`` (its ``state_dict``), None until taken; a resumed run's comes
    from its checkpoint (``stage.early.*``)."""

    def __init__(self, epochs, resume=None):
        self.epochs, self.tensors = int(epochs), None
        if resume is not None:
            import torch

            found = {k[len("stage.early."):]: torch.as_tensor(v)
                     for k, v in resume.trainer_tensors.items() if k.startswith("stage.early.")}
            self.tensors = found or None

    def take(self, trainer, report):
        """The epoch callback of the fits: the first (or only) one takes it after its
        ``epochs``-th epoch."""
        if self.tensors is None and trainer.epoch == self.epochs \
                and trainer.stage.get("fit") != 2:
            self.tensors = {k: v.detach().clone() for k, v in trainer.net.state_dict().items()}
            self.carry(trainer)

    def carry(self, trainer):
        """Put the snapshot, once taken, into ``trainer``'s checkpoints."""
        if self.tensors is not None:
            trainer.stage_tensors.update({f"early.{k}": v for k, v in self.tensors.items()})


def _measure_early_network(net, X, world, device, weight, late=None):
    """Measure ``net``'s early network: its mask spreads and its map onto ``net``'s scores
    (:func:`aekit.nn.masking.early_map`), on the rows ``X`` the spreads are measured on
    (:func:`_measured_rows`; rank 0's on every rank); ``late``: ``net``'s own scores of
    them, when its spreads gave them (:func:`_measure_mask_spread`). Returns ``(net,
    scores)``: ``net``, or the network without it when either's scores do not vary, and
    its anomaly scores of ``X`` (float64)."""
    import torch

    from .engine import TorchEngine
    from .masking import early_map

    early = _measure_mask_spread(net.early, X, world, device)
    if late is None or early is None:  # without spreads: a pass of each network
        engine = TorchEngine(net, device)
        late, early = (engine.run(lambda n, t: fn(n)(t).mean(dim=1, keepdim=True), X,
                                  1)[:, 0].astype(np.float64)
                       for fn in (lambda n: n.own_surprise, lambda n: n.early.surprise))
    mapping = early_map(late, early, weight)
    found = world.array_from_rank0(np.zeros(3) if mapping is None
                                   else np.r_[1.0, mapping].astype(np.float64), device)
    if not found[0]:
        return _without_early(net, device), late
    a, b = np.asarray(found[1:], dtype=np.float32).astype(np.float64)
    with torch.no_grad():
        net.early_map.copy_(torch.as_tensor(found[1:], dtype=torch.float32))
    # each row's score: the larger of its own and the early network's mapped onto it
    # (aekit.nn.masking.with_early)
    return net, np.maximum(late, a * early + b)


def _without_early(net, device):
    """``net`` (holding an early network) as the network of its config without one."""
    from .network import AutoencoderNet

    plain = AutoencoderNet(replace(net.config, early_masks=0)).to(device)
    plain.load_state_dict({k: v for k, v in net.state_dict().items()
                           if not k.startswith("early")})
    return plain.eval()


def _measured_rows(Xs, seed):
    """The rows of ``Xs`` a network's measurements are taken on (its mask spreads, its
    early network's map, the score quantiles): :func:`aekit.thresholds.quantile_rows`'s,
    float32, in their order in ``Xs``."""
    from ..thresholds import quantile_rows

    return np.asarray(Xs[quantile_rows(len(Xs), seed)], dtype=np.float32)


def _measure_mask_spread(net, X, world, device):
    """Set a masked network's ``mask_spread`` from its scoring masks' surprise at the rows
    ``X`` (:func:`_measured_rows`; rank 0's on every rank). Returns the rows' scores by
    the network with its spreads (float64, (n,); None when its config scores without
    them): the mean over the masks of each mask's mean surprise divided by its spread,
    which is what its surprise's mean is (:func:`aekit.nn.masking.mask_weights`)."""
    import torch

    from .engine import measuring_engine
    from .masking import mask_spreads

    Q = measuring_engine(net, device).mask_surprise(X)
    spread = world.array_from_rank0(mask_spreads(Q).astype(np.float64), device)
    with torch.no_grad():
        net.mask_spread.copy_(torch.as_tensor(spread, dtype=torch.float32))
    if not net.config.mask_spread:
        return None
    used = spread.astype(np.float32).astype(np.float64)  # (as the network holds them)
    return (np.asarray(Q, dtype=np.float64) / used).mean(axis=1)


def _resumed_stage(resume, trim, n_rows):
    """``(stage, kept)`` of a resumed fit: the stage its checkpoint was written in, and
    the indices of the rows the second fit keeps (None before the second fit)."""
    if resume is None:
        return {}, None
    stage = dict(resume.trainer_meta.get("stage") or {})
    if bool(stage) != (trim > 0):
        raise ValueError("the checkpoint is of a fit with trim "
                         f"{'> 0' if stage else '= 0'}; resume it with its own trim")
    if stage.get("fit") != 2:
        return stage, None
    mask = np.asarray(resume.trainer_tensors["stage.kept"])
    if len(mask) != n_rows:
        raise ValueError(f"the checkpoint's second fit keeps rows of {len(mask)}, "
                         f"the data has {n_rows}")
    return stage, np.flatnonzero(mask != 0)


def _kept_rows(scores, trim, world, device, validation_fraction, seed, by_value=None):
    """The indices of the rows kept for the second fit: all but the ``floor(trim * n)``
    highest scores (rank 0's scores on every rank, so that all ranks keep the same rows);
    all rows when the second fit would have fewer than 2 to train on. ``by_value``:
    ``(Xs, two_values)`` to leave out rows within each two-valued feature's values
    (:func:`rows_left_out`)."""
    scores = world.array_from_rank0(np.asarray(scores, dtype=np.float64), device)
    n = len(scores)
    n_out = _count_left_out(n, trim, validation_fraction, seed)
    order = np.argsort(scores, kind="stable")
    if by_value is None:
        return np.sort(order[: n - n_out])
    out = rows_left_out(order[::-1], n_out, *by_value, trim)
    return np.setdiff1d(np.arange(n), out)


def _count_left_out(n, trim, validation_fraction, seed):
    """How many of ``n`` rows a trim leaves out of the second fit: ``floor(trim * n)``, or
    0 when the second fit would have fewer than 2 rows to train on."""
    n_out = math.floor(round(trim * n, 9))  # 0.29 * 100 is 28.999999999999996
    return n_out if len(split_rows(n - n_out, validation_fraction, seed)[0]) >= 2 else 0


def rows_left_out(ranked, n_out, Xs, two_values, trim):
    """The rows a trim within values leaves out: going down ``ranked`` (row indices of
    ``Xs``, the highest first-fit score first), the first ``n_out`` rows that leave out
    at most ``floor(trim * m)`` of the ``m`` rows holding either value of each
    two-valued feature (``two_values``, (2, n_features):
    :func:`aekit.nn.masking.two_values`); a row that would take one value beyond that is
    passed over. Fewer than ``n_out`` when the caps bind. Sorted int array."""
    low, high = np.asarray(two_values, dtype=np.float32)
    features = np.flatnonzero(low < high)
    mid = (low[features] + high[features]) / 2
    if not len(features):
        return np.sort(np.asarray(ranked[:n_out], dtype=np.intp))
    n = len(Xs)
    highs = np.zeros(len(features), dtype=np.int64)
    for s in range(0, n, 65536):  # how many rows hold each feature's higher value
        highs += (np.asarray(Xs[s:s + 65536][:, features], np.float32) > mid).sum(axis=0)
    room = np.floor(trim * np.r_[n - highs, highs] + 1e-9).astype(np.int64)
    lower = np.arange(len(features))  # a feature's lower value's group; its higher's is
    out = []                          # this plus the number of features
    for i in ranked:
        if len(out) >= n_out:
            break
        group = lower + len(features) * (np.asarray(Xs[i, features], np.float32) > mid)
        if (room[group] > 0).all():
            room[group] -= 1
            out.append(i)
    return np.sort(np.asarray(out, dtype=np.intp))


def _summary(trainer, train, seed, device, noise, world):
    summary = {
        "epochs": trainer.epoch,
        "stopped_early": trainer.stopped_early,
        "best_loss": trainer.best_loss if math.isfinite(trainer.best_loss) else None,
        "monitored": "validation" if trainer.n_validation else "training",
        "n_train": trainer.n_train,
        "n_validation": trainer.n_validation,
        "batch_size": train.batch_size,
        "max_epochs": train.epochs,
        "epoch_repeats": train.epoch_repeats,
        "seconds": round(time.perf_counter() - trainer.job_start, 2),  # since the job began
        "device": str(device),
        "seed": seed,
        "noise": str(noise) if noise else None,
    }
    if world.size > 1:
        summary["processes"] = world.size
    return summary


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

    def __init__(self, epochs, initial=0, desc="training"):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=epochs, initial=initial, unit="epoch", desc=desc,
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
