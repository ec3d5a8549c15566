"""Training checkpoints: resumable model files, written after every epoch.

A checkpoint is a model file (:mod:`aekit.model_file`) that also holds the
trainer's state (``training_state`` and ``train.*`` tensors: epoch, optimiser
moments, best weights so far, learning-rate schedule) and, opaque to this module,
what the caller needs to find the same training data again (``data``). Resuming
from it ends with the model an uninterrupted fit gives, since every epoch's random
draws depend on (seed, epoch) alone.

    >>> ae = Autoencoder(random_state=0)                                    # doctest: +SKIP
    >>> ae.fit(X, callback=Checkpointer(ae, "run.ckpt.safetensors"))         # doctest: +SKIP
    >>> ckpt = read_checkpoint("run.ckpt.safetensors")                       # doctest: +SKIP
    >>> Autoencoder(**ckpt.params).fit(X, resume=ckpt.resume)                # doctest: +SKIP
"""

from dataclasses import dataclass

import numpy as np

from .errors import ModelFileError
from .loading import ESTIMATORS
from .model_file import network_tensors, read_model_file, write_model_file
from .nn.fitting import Resume
from .nn.optimizers import PlateauSchedule, check_saved_state
from .preprocessing import InputSchema
from .state import estimator_with_params, networks_from
from .thresholds import ScoreRule

RESUMABLE = ("Autoencoder", "DenoisingAutoencoder", "AnomalyDetector", "VariationalAutoencoder")


class Checkpointer:
    """A ``fit`` callback that writes a resumable checkpoint to ``path`` after every epoch.

    Only the main process (rank 0 of a distributed run) writes; each write is atomic.
    ``data`` (JSON-able) is stored as it is, for the caller to find its data again.
    """

    def __init__(self, estimator, path, data=None):
        self.estimator, self.path, self.data = estimator, path, data

    def __call__(self, trainer, report):
        if not trainer.is_main:
            return
        state_tensors, meta = trainer.state_dict()
        doc, tensors = self.estimator.get_state(
            net=trainer.net, summary=_partial_summary(trainer, meta), history=trainer.history)
        doc["training_state"] = meta
        doc["data"] = self.data
        tensors.update({f"train.{k}": v.numpy() for k, v in state_tensors.items()})
        write_model_file(self.path, doc, tensors)


def _partial_summary(trainer, meta):
    """A checkpoint's summary, for `aekit info`: the epochs so far (of the second fit, after
    the first's, in a trimmed run), the seconds so far and the device."""
    summary = {"epochs": trainer.epoch, "partial": True, "seconds": meta["seconds"],
               "device": str(trainer.device), "epoch_repeats": meta["epoch_repeats"]}
    stage = trainer.stage or {}
    if stage.get("fit") == 2:
        summary["trim"] = {"left_out": stage.get("left_out"),
                           "first_fit_epochs": stage.get("first_fit_epochs")}
    return summary


@dataclass
class Checkpoint:
    estimator: str  # the class name: one of RESUMABLE
    params: dict  # its parameters, as get_params() gave them
    data: object  # what the Checkpointer was given
    epoch: int  # epochs completed
    n_features: int  # of the data it was trained on
    resume: Resume  # for fit(..., resume=)

    @property
    def fit(self):
        """1 or 2: the fit of a trimmed run (``trim > 0``) it was written in; None for a
        run of one fit."""
        return (self.resume.trainer_meta.get("stage") or {}).get("fit")


def read_checkpoint(path):
    """The :class:`Checkpoint` in ``path``, checked through before any training starts.

    Raises
    ------
    ModelFileError
        Not a model file, not a checkpoint, or a damaged one (naming the part).
    """
    doc, tensors = read_model_file(path)
    state = doc.get("training_state")
    if not state or "data" not in doc:
        raise ModelFileError(f"{path} is not a training checkpoint (nothing to resume)")
    if doc["estimator"] not in RESUMABLE:
        raise ModelFileError(f"{path}: a {doc['estimator']} cannot be resumed")
    cls = ESTIMATORS[doc["estimator"]]
    try:
        params = estimator_with_params(cls, doc["params"]).get_params(deep=False)
        schema = InputSchema.from_json(doc["schema"])
        if doc.get("scoring") is not None:
            ScoreRule.from_json(doc["scoring"])
        nets = networks_from(doc, tensors, schema.n_encoded, "cpu")
        if len(nets) != 1:
            raise ValueError(f"a checkpoint holds one network, not {len(nets)}")
        check_training_state(state, tensors, nets[0])
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
        raise ModelFileError(f"{path} is a damaged training checkpoint ({e})") from None
    trainer = {k[6:]: v for k, v in tensors.items() if k.startswith("train.")}
    return Checkpoint(doc["estimator"], params, doc["data"], state["epoch"], schema.n_features,
                      Resume(network_tensors(tensors, 0), trainer, state))


def check_training_state(state, tensors, net):
    """Raises ValueError naming the first damaged part of a checkpoint's trainer state
    (``training_state``, a document's, and its ``train.*`` tensors) for ``net``, the
    network it trains: counters, history, a trimmed fit's stage, the optimiser's and the
    schedule's state (:func:`aekit.nn.optimizers.check_saved_state`,
    :meth:`~aekit.nn.optimizers.PlateauSchedule.check_saved`), the best weights and an
    early network's snapshot."""
    types = {"epoch": int, "bad_epochs": int, "stopped_early": bool, "history": dict,
             "scheduler": dict, "optimizer_param_groups": list}
    for key, t in types.items():
        if not isinstance(state.get(key), t) or (t is int and isinstance(state[key], bool)):
            raise ValueError(f"training_state.{key}")
    if state.get("best_loss") is not None and not isinstance(state["best_loss"], (int, float)):
        raise ValueError("training_state.best_loss")
    repeats = state.get("epoch_repeats", 1)
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ValueError("training_state.epoch_repeats")
    if not all(isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
               for v in state["history"].values()):
        raise ValueError("training_state.history")
    _check_stage(state.get("stage"), tensors.get("train.stage.kept"))
    PlateauSchedule.check_saved(state["scheduler"])
    shapes = [p.shape for p in net.parameters()]
    optim = {}
    for name, t in tensors.items():
        if name.startswith("train.optim."):
            parts = name.split(".", 3)
            pid = int(parts[2]) if len(parts) == 4 and parts[2].isdigit() else -1
            if not 0 <= pid < len(shapes):
                raise ValueError(f"tensor {name}")
            optim.setdefault(pid, {})[parts[3]] = t
    check_saved_state({"state": optim, "param_groups": state["optimizer_param_groups"]}, shapes)
    net_state = net.state_dict()
    for name, t in tensors.items():
        if name.startswith(("train.best.", "train.stage.early.")):
            want = net_state.get(name.split(".", 2)[2].removeprefix("early."))
            if want is None or tuple(want.shape) != tuple(t.shape):
                raise ValueError(f"tensor {name}")
            if name.startswith("train.stage.early.") and (
                    np.issubdtype(np.asarray(t).dtype, np.floating) != want.is_floating_point()
                    or not np.isfinite(np.asarray(t, dtype=np.float64)).all()):
                raise ValueError(f"tensor {name} (its kind or a value that is not finite)")
    early = {name for name in tensors if name.startswith("train.stage.early.")}
    if early and len(early) != len(net_state):  # the early network's snapshot: all of it
        raise ValueError("tensors train.stage.early.*")


def _check_stage(stage, kept):
    """A trimmed fit's stage (:func:`aekit.nn.fitting.fit_network`): the first fit, or the
    second with a 0/1 mask that keeps at least 2 rows and leaves out ``left_out``."""
    def count(v):
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    if stage is None:
        return
    if not isinstance(stage, dict) or not count(stage.get("fit")) or stage["fit"] not in (1, 2):
        raise ValueError("training_state.stage")
    if stage["fit"] == 1:
        return
    mask = None if kept is None else np.asarray(kept)
    ok = (mask is not None and mask.ndim == 1 and np.isin(mask, (0, 1)).all()
          and count(stage.get("left_out")) and count(stage.get("first_fit_epochs"))
          and 2 <= int(mask.sum()) == len(mask) - stage["left_out"] < len(mask))
    if not ok:
        raise ValueError("training_state.stage of the second fit (its kept rows)")
