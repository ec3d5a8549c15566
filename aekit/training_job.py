"""The work behind `aekit train`: find the data, fit, checkpoint, evaluate, save.

:class:`TrainingData` says what a model is trained on (MNIST, or a table with its
column roles); it is stored in checkpoints and model files so that a resumed run
finds the same rows. :func:`train_model` runs a whole training job, also as one
rank of a ``torchrun`` launch (:func:`distributed_context`): every rank trains on
its share of each batch, rank 0 alone reports and writes files.
"""

import contextlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError


@dataclass
class TrainingData:
    """MNIST (``source="mnist"``, optionally some ``digits``) or a table (``"table"``:
    CSV or Parquet at ``path``); ``limit`` keeps the first N training rows."""

    source: str
    path: str = None
    label_column: str = None
    id_columns: list = field(default_factory=list)
    ignore_columns: list = field(default_factory=list)
    sep: str = None
    decimal: str = None
    header: bool = None
    digits: list = None
    limit: int = None
    data_dir: str = None

    def to_json(self):
        return asdict(self)

    @classmethod
    def from_json(cls, doc):
        """The spec stored by :meth:`to_json`, every field checked (ValueError)."""
        if not isinstance(doc, dict) or doc.get("source") not in ("mnist", "table", "csv"):
            raise ValueError("field 'data': not a training data spec")
        doc = dict(doc)
        if doc["source"] == "csv":  # aekit 0.1's name, with one id column
            doc["source"] = "table"
            doc["id_columns"] = [doc.pop("id_column")] if doc.get("id_column") else []
        doc.pop("id_column", None)
        known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
        spec = cls(**known)
        spec._check()
        return spec

    def _check(self):
        def scalar(v):
            return v is None or (isinstance(v, (int, str)) and not isinstance(v, bool))

        if self.source == "table" and not isinstance(self.path, str):
            raise ValueError("field 'data.path'")
        for key in ("path", "label_column", "sep", "decimal", "limit", "data_dir"):
            if not scalar(getattr(self, key)):
                raise ValueError(f"field 'data.{key}'")
        if self.header not in (None, True, False):
            raise ValueError("field 'data.header'")
        for key in ("id_columns", "ignore_columns"):
            if not (isinstance(getattr(self, key), list) and all(map(scalar, getattr(self, key)))):
                raise ValueError(f"field 'data.{key}'")
        if self.digits is not None and not (isinstance(self.digits, list) and all(
                isinstance(d, int) and 0 <= d <= 9 for d in self.digits)):
            raise ValueError("field 'data.digits'")

    def load(self):
        """``(X, X_test, locate, notes)``: the training rows (a table's feature columns as
        read: a DataFrame when it names its columns or holds text), for MNIST the test
        images (else None), ``locate(cell_error)``, which names the line of a bad cell,
        and the table's notes on how it was read.

        Raises
        ------
        DataError
            The data cannot be read, or holds fewer than 2 rows.
        """
        if self.source == "mnist":
            from .datasets import load_mnist

            X, y = load_mnist("train", root=self.data_dir)
            Xt, yt = load_mnist("test", root=self.data_dir)
            if self.digits:
                X, Xt = X[np.isin(y, self.digits)], Xt[np.isin(yt, self.digits)]
            return (X[: self.limit] if self.limit else X), Xt, None, []
        X, table = read_table_features(self)
        if self.limit:
            X = X[: self.limit]
        if len(X) < 2:
            raise DataError(f"{self.path}: need at least 2 rows to train")
        return X, None, lambda e: e.at(table.name, f"line {table.line_of(e.row + 1)}"), \
            list(table.notes)


def read_table_features(spec):
    """``(X, table)``: the feature columns of a table spec, as read (cells are checked where
    the model encodes them), and the table (which knows each row's line)."""
    import pandas as pd

    from .tables import open_table

    table = open_table(spec.path, label_column=spec.label_column, id_columns=spec.id_columns,
                       ignore_columns=spec.ignore_columns, sep=spec.sep, decimal=spec.decimal,
                       header=spec.header)
    X, _ = table.read_all()
    if isinstance(X, np.ndarray) and table.feature_names is not None:
        X = pd.DataFrame(X, columns=table.feature_names)
    return X, table


@contextlib.contextmanager
def distributed_context(device):
    """Inside a ``torchrun`` launch (WORLD_SIZE > 1): a process group for this rank (gloo on
    a CPU, nccl on CUDA, one GPU per local rank), destroyed at the end; yields
    ``(rank, world_size, device)``. Otherwise ``(0, 1, device)``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        yield 0, 1, device
        return
    import torch
    import torch.distributed as dist

    from .device import resolve_device

    local = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device)
    if resolved.startswith("cuda"):
        resolved = f"cuda:{local}"
        torch.cuda.set_device(local)
    dist.init_process_group(backend="nccl" if resolved.startswith("cuda") else "gloo")
    try:
        yield dist.get_rank(), dist.get_world_size(), resolved
    finally:
        dist.destroy_process_group()


def denoising_psnr(est, X_train, X_test, seed=0):
    """PSNR (dB) on test images corrupted with the model's own training noise: the noisy
    input, PCA-64 projection and the model (protocol D's measures)."""
    from .evaluation.denoise import corrupt, fit_pca, pca_project, psnr

    noisy = corrupt(X_test, est.noise, seed)
    pca = fit_pca(X_train)
    return {"noise": str(est.noise), "noisy": float(np.mean(psnr(X_test, noisy))),
            f"pca_{pca.n_components_}": float(np.mean(psnr(X_test, pca_project(pca, noisy)))),
            "model": float(np.mean(psnr(X_test, est.reconstruct(noisy)))),
            "n_test": int(len(X_test))}


def reconstruction_sse(est, X_train, X_test):
    """SSE per test image of the model and of PCA with as many components as the code."""
    from sklearn.decomposition import PCA

    from .evaluation.reconstruction import sse_per_image

    k = min(est.code_size, *X_train.shape)
    pca = PCA(n_components=k, random_state=0).fit(X_train)
    return {"test_sse_per_image": round(sse_per_image(X_test, est.reconstruct(X_test)), 4),
            "pca_test_sse_per_image": round(
                sse_per_image(X_test, pca.inverse_transform(pca.transform(X_test))), 4),
            "n_test": int(len(X_test))}


def evaluation_of(est, X, X_test):
    """``(figures, line)``: how the model did at what it was trained for."""
    if X_test is not None and est.noise and not str(est.noise).startswith("dropout"):
        e = denoising_psnr(est, X, X_test)
        pca = next(k for k in e if k.startswith("pca_"))
        return e, (f"denoising PSNR on {e['n_test']} MNIST test images with its training noise "
                   f"{e['noise']}: {e['model']:.2f} dB (noisy input {e['noisy']:.2f} dB, "
                   f"PCA-{pca[4:]} projection {e[pca]:.2f} dB)")
    if X_test is not None:
        e = reconstruction_sse(est, X, X_test)
        return e, (f"test reconstruction error (SSE per image, {e['n_test']} MNIST test images): "
                   f"{e['test_sse_per_image']:.2f}  (PCA with {est.code_size} components: "
                   f"{e['pca_test_sse_per_image']:.2f})")
    mse = float(np.mean(est.reconstruction_errors(X)))
    if est.net_.config.objective == "masked":
        return {"train_mse_scaled": round(mse, 6)}, \
            ("prediction error on the training table (each cell predicted from the others: "
             "mean squared error per cell in standard deviations squared, 1 = no better "
             f"than the column's mean): {mse:.4g}")
    return {"train_mse_scaled": round(mse, 6)}, \
        ("reconstruction error on the training table (mean squared error per cell, in the "
         f"model's scaled units): {mse:.4g}")


def write_training_report(est, X, X_test, folder):
    """Loss curves and, for images, test inputs beside their reconstructions."""
    from . import plots

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)  # only now: a failed run leaves no empty folder
    paths = [plots.loss_curves(est.history_, folder / "loss_curves.png",
                               title=f"{type(est).__name__} training")]
    if est.n_features_in_ == 784:
        sample = np.asarray(X_test if X_test is not None else X)[:12]
        paths.append(plots.image_rows([sample, est.reconstruct(sample)], ["input", "output"],
                                      folder / "reconstructions.png"))
    return paths


def _as_options(params):
    """``--hidden 32 --code-size 32`` for ``{"hidden": (32,), "code_size": 32}``."""
    return " ".join(f"--{k.replace('_', '-')} "
                    f"{','.join(map(str, v)) if isinstance(v, tuple) else v}"
                    for k, v in params.items())


@dataclass
class TrainingResult:
    estimator: object
    evaluation_line: str
    report_paths: list


def table_design(params, X):
    """The objective, sizes and trim a table implies where ``params`` leave them out (an
    objective of "auto" included), as :class:`~aekit.AnomalyDetector` chooses its own
    (:mod:`aekit.design`).

    Raises
    ------
    aekit.errors.CellError
        A cell is not a number in a numeric column.
    """
    from .design import auto_sizes, auto_trim, fit_schema

    out = {}
    schema, objective = fit_schema(X, None, params.get("objective", "auto"))
    if params.get("objective", "auto") == "auto":
        out["objective"] = objective
    wanted = {k: params.get(k, "auto") for k in ("hidden", "code_size")}
    out.update(auto_sizes({**wanted, "batch_size": None}, len(X), schema.n_encoded, objective))
    if "trim" not in params and auto_trim("auto", objective):
        out["trim"] = auto_trim("auto", objective)
    return out


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


def train_model(data, cls, params, output, checkpoint, resume=None, report=None, quiet=False,
                on_start=None, on_note=None, size_from_table=False):
    """Fit ``cls(**params)`` on ``data``, checkpointing every epoch, then evaluate and save.

    Parameters
    ----------
    data : TrainingData
    cls : type
        :class:`~aekit.Autoencoder` or :class:`~aekit.DenoisingAutoencoder`.
    params : dict
        Its parameters.
    output, checkpoint : path
        The model file, and the checkpoint written after every epoch (removed once
        the model file is written).
    resume : aekit.checkpoint.Checkpoint or None
    report : path or None
        A folder for the loss curves (and reconstructions of images).
    on_start : callable or None
        Called (on rank 0) once the data is read and checked, before training.
    on_note : callable or None
        ``on_note(line)`` (on rank 0): how the table was read, how the network was sized.
    size_from_table : bool
        Size the network from a table's width where ``params`` leave it out.

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
    from .checkpoint import Checkpointer

    from .errors import CellError

    with distributed_context(params.get("device", "auto")) as (rank, _, device):
        X, X_test, locate, notes = data.load()
        _check_resumable(X, resume)
        try:
            if size_from_table and data.source == "table":
                chosen = table_design(params, X)
                params = {**params, **chosen}
                if chosen:
                    notes.append(f"chosen from the table's {np.shape(X)[1]} feature columns: "
                                 + _as_options(chosen))
            if rank == 0:
                for note in notes if on_note is not None else ():
                    on_note(note)
                if on_start is not None:
                    on_start()
            est = cls(**{**params, "device": device}, verbose=0 if quiet or rank else 1)
            est.fit(X, callback=Checkpointer(est, checkpoint, data.to_json()),
                    resume=resume.resume if resume is not None else None)
        except CellError as e:
            raise (locate(e) if locate else e) from None
        if rank:
            return None
    figures, line = evaluation_of(est, X, X_test)
    est.save(output, metadata={"data": data.to_json(), "evaluation": figures})
    with contextlib.suppress(FileNotFoundError):
        Path(checkpoint).unlink()
    paths = write_training_report(est, X, X_test, report) if report else []
    return TrainingResult(est, line, paths)
