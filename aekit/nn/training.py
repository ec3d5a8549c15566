"""The training loop: mini-batches, early stopping, learning-rate schedules, checkpoints.

Separate from the network (:mod:`aekit.nn.network`) and from the estimators. Every
epoch draws its randomness (shuffle, dropout, input noise) from a seed derived from
``(seed, epoch)`` alone, so a run resumed from an epoch checkpoint follows exactly
the path of an uninterrupted run.

Data-parallel training (``torchrun``) uses PyTorch's DistributedDataParallel: when
a ``torch.distributed`` process group is initialised, every rank draws the same
permutation, takes its share of each global batch (the global batch is what
``batch_size`` says, as in a single process), and DDP averages the gradients. The
loss of each rank is scaled so that the average equals the single-process loss of
the whole batch; validation losses and early-stopping decisions are taken from rank
0, so every rank stops at the same epoch. Without batch norm or dropout the result
is the single-process model (to float rounding). On GPUs batch norm becomes
SyncBatchNorm, whose statistics cover the global batch (the single-process model
again); PyTorch runs SyncBatchNorm on GPUs only, so on CPUs each process normalises
with the statistics of its own share of the batch. References: Smith & Topin, "Super-convergence",
2017 (the one-cycle schedule).
"""

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ModelFileError, TrainingError
from .config import TrainConfig
from .masking import draw_masks
from .optimizers import PlateauSchedule, make_optimizer


def one_cycle_lr(peak, progress, warmup=0.15, start_div=25.0, final_div=1e4):
    """Learning rate at ``progress`` (0..1) through training, one-cycle style.

    Cosine warm-up from peak/25 to the peak over the first 15% of the steps,
    then cosine annealing to peak/(25 * 10^4). With a fixed budget of epochs the
    large early steps explore and the small late ones settle: in our MNIST
    runs this reached in 6 epochs what a constant rate reached in 12.
    """
    low, end = peak / start_div, peak / start_div / final_div
    if progress < warmup:
        return low + (peak - low) * (1 - math.cos(math.pi * progress / warmup)) / 2
    t = min(1.0, (progress - warmup) / (1 - warmup))
    return end + (peak - end) * (1 + math.cos(math.pi * t)) / 2


def cosine_lr(peak, progress, final=0.01):
    """Learning rate at ``progress`` (0..1) through training: cosine annealing from
    ``peak`` to ``peak * final`` (Loshchilov & Hutter, "SGDR", ICLR 2017, one cycle,
    no restart)."""
    low = peak * final
    return low + (peak - low) * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0))) / 2


def scheduled_lr(cfg, progress):
    """The rate of a schedule that is a function of the step alone ("onecycle",
    "cosine") at ``progress`` (0..1); None for "plateau" (driven by the losses)."""
    if cfg.lr_schedule == "onecycle":
        return one_cycle_lr(cfg.lr, progress)
    if cfg.lr_schedule == "cosine":
        return cosine_lr(cfg.lr, progress)
    return None


def epoch_seed(seed, epoch):
    """The seed of one epoch's random draws: a function of (seed, epoch) alone."""
    return (int(seed) * 1_000_003 + int(epoch) * 7919 + 17) % (2**63 - 1)


def batch_starts(n, batch_size, smallest=2):
    """Where each mini-batch of ``n`` rows starts. A last batch of fewer than ``smallest``
    rows joins the one before (batch norm cannot train on a single row: with batch norm
    in a distributed run, each process needs two rows of every batch)."""
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] < smallest:
        starts.pop()
    return starts


def rank_share(start, stop, rank, world_size):
    """The rows ``[lo, hi)`` of the global batch ``[start, stop)`` that ``rank`` trains on:
    contiguous parts whose sizes differ by at most one, in rank order."""
    size = stop - start
    base, extra = divmod(size, world_size)
    lo = start + rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def has_batch_norm(net):
    return any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.SyncBatchNorm))
               for m in net.modules())


@dataclass
class EpochReport:
    """What a training callback receives after each epoch."""

    epoch: int  # 1-based, epochs completed so far
    epochs: int
    train_loss: float
    val_loss: float  # NaN when there is no validation set
    lr: float
    seconds: float
    improved: bool


class World:
    """This process's place in a ``torch.distributed`` run (rank 0 of 1 without one)."""

    def __init__(self):
        import torch.distributed as dist

        self.active = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.active else 0
        self.size = dist.get_world_size() if self.active else 1

    def sum(self, value, device):
        """The sum over ranks of a float."""
        if not self.active:
            return float(value)
        import torch.distributed as dist

        t = torch.tensor([float(value)], dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return float(t.item())

    def from_rank0(self, value, device):
        """Rank 0's value of a float, on every rank."""
        return float(self.array_from_rank0(np.array([float(value)]), device)[0])

    def array_from_rank0(self, a, device):
        """Rank 0's float64 array (of the same shape on every rank), on every rank."""
        if not self.active:
            return a
        import torch.distributed as dist

        t = torch.as_tensor(np.ascontiguousarray(a, dtype=np.float64)).to(device)
        dist.broadcast(t, src=0)
        return t.cpu().numpy()


class Trainer:
    """Fits ``net`` on float32 tensors already scaled the way the network expects.

    ``noise`` (a :class:`aekit.nn.noise.Noise` or None) corrupts the inputs of each
    training batch; targets stay clean. A masked network (:mod:`aekit.nn.masking`)
    is shown each batch with masks drawn for it and trained on what they hide.
    ``clip`` bounds corrupted values to [0, 1].
    Inside a ``torch.distributed`` process group the network is wrapped in
    DistributedDataParallel (see the module's notes).
    """

    def __init__(self, net, cfg: TrainConfig, device, noise=None, clip=True, objective=None):
        self.world = World()
        self.device = torch.device(device)
        self.net = net.to(self.device)
        self.batch_norm = has_batch_norm(net)
        self.model = self.net  # what the batches go through: the net, or DDP around it
        if self.world.size > 1:
            from torch.nn.parallel import DistributedDataParallel

            # batch statistics over the global batch need SyncBatchNorm, which PyTorch runs
            # on GPUs only; on CPUs each process normalises with its share of the batch
            # (and DDP gives every process rank 0's running statistics)
            if self.device.type == "cuda" and self.batch_norm:
                self.net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net).to(self.device)
            ids = [self.device.index or 0] if self.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.net, device_ids=ids)
        self.cfg = cfg
        self.noise = noise
        self.masked = getattr(net.config, "objective", None) == "masked"
        self.held = getattr(net.config, "held_at_zero", ())  # hidden in every row
        # a training objective of its own (e.g. :class:`aekit.nn.vae.VAEObjective`):
        # ``batch_loss(model, inputs, gen, progress, target)`` (inputs with this trainer's
        # noise, if any, and their clean rows), ``validation_inputs(X, gen)`` and
        # ``validation_loss(net, inputs, hidden)``; or None: the network's ``loss`` of its
        # output against the clean rows
        self.objective = objective
        self.clip = clip
        self.optimizer = make_optimizer(self.net.parameters(), cfg.optimizer, cfg.lr,
                                        cfg.momentum, cfg.weight_decay)
        self.scheduler = PlateauSchedule(self.optimizer, cfg.lr_factor, cfg.lr_patience)
        self.epoch = 0
        self.best_loss = math.inf
        self.best_state = None
        self.bad_epochs = 0
        self.history = {"train_loss": [], "val_loss": [], "lr": []}
        self.stopped_early = False
        # the caller's place in a longer job (e.g. the second fit of a trimmed one), kept
        # in checkpoints: JSON-able ``stage`` and tensors ``stage_tensors``
        self.stage, self.stage_tensors = {}, {}
        # when the job began (time.perf_counter(); the caller may set an earlier one):
        # checkpoints record the seconds since, and a resumed trainer's clock is set back
        # by them, so that a resumed job's time counts the part up to its last checkpoint
        self.job_start = time.perf_counter()

    # -- the loop ---------------------------------------------------------
    def fit(self, X_train, X_val=None, callback=None):
        """Train until ``cfg.epochs`` or early stopping; restore the best weights.

        ``callback(trainer, report)`` (an :class:`EpochReport`) runs after every
        epoch, on every rank; :attr:`is_main` tells rank 0.
        """
        X_train = X_train.to(self.device, torch.float32).contiguous()
        if X_val is not None and len(X_val) == 0:
            X_val = None
        if X_val is not None:
            X_val = X_val.to(self.device, torch.float32).contiguous()
            X_val_in, val_hidden = self._fixed_noise(X_val)
        while self.epoch < self.cfg.epochs and not self.stopped_early:
            start = time.perf_counter()
            train_loss = self._train_one_epoch(X_train, self.epoch)
            if not math.isfinite(train_loss):
                decay = self.cfg.weight_decay > 0  # (a large one diverges too)
                raise TrainingError(
                    f"training loss became {train_loss} in epoch {self.epoch + 1}: "
                    "lower the learning rate ({lr})"
                    + (" or the weight decay ({weight_decay})" if decay else "")
                    + " or check the data for extreme values",
                    params=("lr", "weight_decay") if decay else ("lr",))
            val_loss = math.nan
            if X_val is not None:
                val_loss = self.world.from_rank0(self.evaluate(X_val_in, X_val, val_hidden),
                                                 self.device)
            improved = self._end_epoch(train_loss, val_loss)
            if callback is not None:
                callback(self, EpochReport(
                    self.epoch, self.cfg.epochs, train_loss, val_loss,
                    self.history["lr"][-1], time.perf_counter() - start, improved))
        if self.best_state is not None:
            self.net.load_state_dict(self.best_state)
        self.net.eval()
        return self

    @property
    def is_main(self):
        """True on the process that reports and writes files (rank 0, or the only one)."""
        return self.world.rank == 0

    def _end_epoch(self, train_loss, val_loss):
        """Schedule, early stopping and history after an epoch; returns whether it improved."""
        monitored = train_loss if math.isnan(val_loss) else val_loss
        if self.cfg.lr_schedule == "plateau":
            self.scheduler.step(monitored)
        improved = not math.isfinite(self.best_loss) or (
            monitored < self.best_loss - 1e-4 * abs(self.best_loss)
        )
        if improved:
            self.best_loss = monitored
            self.best_state = copy.deepcopy(self.net.state_dict())
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
            # a one-cycle or cosine run is defined by its length: it always reaches the anneal
            if self.cfg.lr_schedule == "plateau" and self.bad_epochs > self.cfg.patience:
                self.stopped_early = True
        self.epoch += 1
        self.history["train_loss"].append(train_loss)
        self.history["val_loss"].append(val_loss)
        self.history["lr"].append(self.optimizer.param_groups[0]["lr"])
        return improved

    def _train_one_epoch(self, X, epoch):
        seed = epoch_seed(self.cfg.seed, epoch)
        torch.manual_seed(seed)  # dropout draws from the global generator
        gen = torch.Generator(device=self.device).manual_seed(seed)
        perm = torch.cat([torch.randperm(len(X), generator=gen, device=self.device)
                          for _ in range(self.cfg.epoch_repeats)])
        X = X[perm]  # one gather per epoch, then contiguous slices
        n = len(X)
        rank, world = self.world.rank, self.world.size
        starts = batch_starts(n, self.cfg.batch_size, 2 * world if self.batch_norm else 2)
        self.net.train()
        total = torch.zeros((), device=self.device)
        for i, s in enumerate(starts):
            # a function of the step alone, so a resumed run follows the same rates
            lr = scheduled_lr(self.cfg, (epoch + i / len(starts)) / self.cfg.epochs)
            if lr is not None:
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
            e = starts[i + 1] if i + 1 < len(starts) else n
            lo, hi = rank_share(s, e, rank, world)
            target, hidden = X[lo:hi], None
            # noise and masks are drawn for the whole global batch on every rank, so that
            # each rank's rows get what a single process would give them
            if self.noise:
                inputs = self.noise.apply(X[s:e], gen, clip=self.clip)[lo - s:hi - s]
            else:
                inputs = target
            if self.masked:
                hidden = draw_masks(e - s, X.shape[1], gen, self.device, self.held)[lo - s:hi - s]
            # the sum over this rank's rows, scaled so that DDP's average over ranks is the
            # mean over the global batch
            if self.objective is not None:
                loss = self.objective.batch_loss(self.model, inputs, gen,
                                                 epoch + (i + 1) / len(starts), target)
            else:
                loss = self.net.loss(self.model(inputs, hidden), target, "sum", hidden)
            loss = loss * (world / (e - s))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * ((e - s) / world)
        return self.world.sum(float(total), self.device) / n

    def _fixed_noise(self, X):
        """The validation rows' inputs and masks: drawn once, the same every epoch."""
        gen = torch.Generator(device=self.device).manual_seed(epoch_seed(self.cfg.seed, -1))
        if self.objective is not None:
            return self.objective.validation_inputs(X, gen)
        inputs = X if self.noise is None else self.noise.apply(X, gen, clip=self.clip)
        hidden = draw_masks(len(X), X.shape[1], gen, self.device, self.held) \
            if self.masked else None
        return inputs, hidden

    @torch.inference_mode()
    def evaluate(self, X_in, X_target, hidden=None, batch_size=4096):
        """The loss per row of ``X_in`` against ``X_target`` (the network in eval mode);
        a masked network is shown what ``hidden`` does not hide."""
        self.net.eval()
        total = 0.0
        for s in range(0, len(X_in), batch_size):
            part = slice(s, s + batch_size)
            h = None if hidden is None else hidden[part]
            if self.objective is not None:
                total += float(self.objective.validation_loss(self.net, X_in[part], h))
                continue
            total += float(self.net.loss(self.net(X_in[part], h), X_target[part], "sum", h))
        return total / len(X_in)

    # -- checkpoints ------------------------------------------------------
    def state_dict(self):
        """Everything needed to continue: ``(tensors, meta)``, a flat dict of tensors and
        a JSON-able dict."""
        tensors = {}
        meta = {
            "epoch": self.epoch,
            "epoch_repeats": self.cfg.epoch_repeats,
            "best_loss": self.best_loss if math.isfinite(self.best_loss) else None,
            "bad_epochs": self.bad_epochs,
            "stopped_early": self.stopped_early,
            "history": self.history,
            "seconds": round(time.perf_counter() - self.job_start, 2),
            "scheduler": {
                k: v for k, v in self.scheduler.state_dict().items() if not k.startswith("_")
                or k == "_last_lr"
            },
        }
        opt = self.optimizer.state_dict()
        meta["optimizer_param_groups"] = opt["param_groups"]
        for pid, state in opt["state"].items():
            for key, value in state.items():
                t = value if torch.is_tensor(value) else torch.tensor(value)
                tensors[f"optim.{pid}.{key}"] = t.detach().cpu().contiguous()
        if self.best_state is not None:
            for k, v in self.best_state.items():
                tensors[f"best.{k}"] = v.detach().cpu().contiguous()
        if self.stage:
            meta["stage"] = self.stage
        tensors.update({f"stage.{k}": v.cpu().contiguous() for k, v in self.stage_tensors.items()})
        return tensors, meta

    def load_state_dict(self, tensors, meta):
        """Continue from :meth:`state_dict`'s ``(tensors, meta)`` (tensors may be numpy).

        Raises :class:`~aekit.errors.ModelFileError` when the checkpoint's epochs drew each
        row another number of times than this trainer's (a checkpoint without the count,
        written before aekit counted it, drew each row once): its epochs, and so the
        epochs planned, meant something else."""
        repeats, now = meta.get("epoch_repeats", 1), self.cfg.epoch_repeats
        if repeats != now:
            raise ModelFileError(
                f"the checkpoint's epochs drew each training row {repeats} "
                f"time{'s' if repeats != 1 else ''}, this version's draw each {now} "
                f"time{'s' if now != 1 else ''} (this version sizes the epochs of small "
                "tables otherwise): it cannot be resumed; train afresh")
        tensors = {k: torch.as_tensor(v) for k, v in tensors.items()}
        self.epoch = int(meta["epoch"])
        self.job_start -= float(meta.get("seconds", 0))  # (the caller's start, set back)
        self.best_loss = math.inf if meta["best_loss"] is None else float(meta["best_loss"])
        self.bad_epochs = int(meta["bad_epochs"])
        self.stopped_early = bool(meta["stopped_early"])
        self.history = {k: list(v) for k, v in meta["history"].items()}
        state = {}
        for name, t in tensors.items():
            if name.startswith("optim."):
                _, pid, key = name.split(".", 2)
                state.setdefault(int(pid), {})[key] = t
        # (the optimiser places each tensor, and updates in make_optimizer's way, not in an
        # older checkpoint's)
        self.optimizer.load_state_dict({"state": state,
                                        "param_groups": meta["optimizer_param_groups"]})
        self.scheduler.load_state_dict(meta["scheduler"])
        best = {k[5:]: t.to(self.device) for k, t in tensors.items() if k.startswith("best.")}
        self.best_state = best or None
