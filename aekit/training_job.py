"""The work behind `aekit train`: choose the estimator, read the data, plan, fit with
checkpoints, evaluate, save.

:func:`train_model` runs a whole training job, also as one rank of a ``torchrun``
launch (:func:`aekit.nn.process_group.distributed_context`): every rank trains on its
share of each batch, rank 0 alone reports and writes files. What the job trains on is
a :class:`~aekit.training_data.TrainingData`; which estimator it fits is
:func:`estimator_for`'s decision.
"""

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError


def estimator_for(data, params):
    """The estimator class `aekit train` fits: a :class:`~aekit.VariationalAutoencoder` for
    the generative objective (:func:`aekit.design.is_generative`), a
    :class:`~aekit.DenoisingAutoencoder` when
    the inputs are corrupted in training (``params["noise"]``), an
    :class:`~aekit.AnomalyDetector` on a table or on some MNIST digits (a model for `aekit
    detect`), else an :class:`~aekit.Autoencoder` (features, reconstruction)."""
    from .anomaly import AnomalyDetector
    from .autoencoder import Autoencoder, DenoisingAutoencoder
    from .design import is_generative

    if is_generative(params.get("objective")):
        from .variational import VariationalAutoencoder

        return VariationalAutoencoder
    if params.get("noise"):
        return DenoisingAutoencoder
    if data.source == "table" or data.digits:
        return AnomalyDetector
    return Autoencoder


def estimator_params(cls, params, data):
    """The parameters `aekit train` gives ``cls``: those given, the rest the class's own,
    except that an :class:`~aekit.Autoencoder` without input noise is a plain one (its
    closer reconstructions suit `aekit detect` and `aekit denoise`; the library's default
    noise makes better features), and that a dense network of a table is sized from the
    table ("auto": a denoiser's 128-wide code would not compress a table of 6 columns)."""
    from .autoencoder import Autoencoder
    from .design import GENERATIVE, check_combination, generative_params
    from .variational import VariationalAutoencoder

    if cls is VariationalAutoencoder:  # a resumed VAE's parameters name no objective
        check_combination({**params, "objective": GENERATIVE})
        return generative_params(params, data.source)
    check_combination(params)
    out = dict(params)
    if cls is Autoencoder:
        out.setdefault("noise", None)
    if data.source == "table" and out.get("arch", "dense") == "dense":
        out.setdefault("hidden", "auto")
        out.setdefault("code_size", "auto")
    return out


@dataclass
class TrainingResult:
    estimator: object
    evaluation_line: str
    report_paths: list


def _check_resumable(X, resume):
    """DataError when the data no longer has the checkpoint's features (or rows, in the
    second fit of a trimmed run, which keeps a mask of them)."""
    if resume is None:
        return
    if np.shape(X)[1] != resume.n_features:
        raise DataError(f"the training data now has {np.shape(X)[1]} features but the "
                        f"checkpoint was trained on {resume.n_features}")
    kept = resume.resume.trainer_tensors.get("stage.kept")
    if kept is not None and len(kept) != len(X):
        raise DataError(f"the training data now has {len(X)} rows but the checkpoint's "
                        f"second fit was chosen from {len(kept)}")


def train_model(data, params, output, checkpoint, resume=None, report=None, quiet=False,
                on_start=None, on_note=None, on_plan=None):
    """Fit the estimator :func:`estimator_for` chooses (the checkpoint's, when resuming) on
    ``data``, checkpointing every epoch, then evaluate and save.

    Parameters
    ----------
    data : TrainingData
    params : dict
        The estimator's parameters given (the rest are the class's defaults).
    output, checkpoint : path
        The model file, and the checkpoint written after every epoch (removed once
        the model file is written).
    resume : aekit.checkpoint.Checkpoint or None
    report : path or None
        A folder for the loss curves (and reconstructions of images).
    on_start : callable or None
        Called (on rank 0) once the data is read and checked, before training.
    on_note : callable or None
        ``on_note(line)`` (on rank 0): how the table was read.
    on_plan : callable or None
        ``on_plan(plan, X)`` (on rank 0, a fresh run): what "auto" chose for the data
        (:class:`aekit.design.Plan`).

    Returns
    -------
    TrainingResult, or None on the ranks other than 0 of a distributed run.

    Raises
    ------
    DataError
        The data cannot be read or no longer matches the checkpoint's.
    aekit.errors.TrainingError
        The loss became NaN or infinite.
    """
    from .autoencoder import Autoencoder
    from .checkpoint import Checkpointer
    from .errors import CellError
    from .loading import ESTIMATORS
    from .nn.process_group import distributed_context

    with distributed_context(params.get("device", "auto")) as (rank, _, device):
        X, X_test, locate, notes = data.load()
        _check_resumable(X, resume)
        cls = ESTIMATORS[resume.estimator] if resume else estimator_for(data, params)
        est = cls(**{**estimator_params(cls, params, data), "device": device},
                  verbose=0 if quiet or rank else 1)
        try:
            plan = est.plan(X)
            if rank == 0:
                for note in notes if on_note is not None else ():
                    on_note(note)
                if on_plan is not None and resume is None:
                    on_plan(plan, X)
                if on_start is not None:
                    on_start()
            # a plain or denoising autoencoder keeps its training-score grid: the models
            # aekit train writes are for aekit detect and aekit denoise (a detector's own)
            grid = {"score_quantiles": True} if isinstance(est, Autoencoder) else {}
            est.fit(X, callback=Checkpointer(est, checkpoint, data.to_json()),
                    resume=resume.resume if resume is not None else None, plan=plan, **grid)
        except CellError as e:
            raise (locate(e) if locate else e) from None
        if rank:
            return None
    from .evaluation.after_training import evaluation_of
    from .reports import write_training_report

    figures, line = evaluation_of(est, X, X_test)
    est.save(output, metadata={"data": data.to_json(), "evaluation": figures})
    with contextlib.suppress(FileNotFoundError):
        Path(checkpoint).unlink()
    paths = write_training_report(est, X, X_test, report) if report else []
    return TrainingResult(est, line, paths)
