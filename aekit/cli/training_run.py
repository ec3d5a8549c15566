"""The work behind `aekit train` (kept apart so `aekit train --help` imports no torch)."""

import contextlib
import sys
from pathlib import Path

import click
import numpy as np

from ..errors import AekitError, DataError, TrainingError

QUANTILES = np.linspace(0, 100, 1001)
PARAM_KEYS = ("code_size", "hidden", "noise", "epochs", "batch_size", "lr", "optimizer",
              "momentum", "weight_decay", "dropout", "batch_norm", "validation_fraction",
              "patience", "device", "lr_schedule", "arch", "channels")


def load_training_data(spec, data_dir=None):
    """(X_train, X_test or None, spec) for a data spec stored with the model."""
    from ..datasets import load_mnist
    from ..tabular import CsvTable, looks_like_pixels

    if spec["source"] == "mnist":
        root = data_dir if data_dir is not None else spec.get("data_dir")
        X, y = load_mnist("train", root=root)
        Xt, yt = load_mnist("test", root=root)
        if spec.get("digits"):
            X, Xt = X[np.isin(y, spec["digits"])], Xt[np.isin(yt, spec["digits"])]
        if spec.get("limit"):
            X = X[: spec["limit"]]
        return X, Xt
    table = CsvTable(spec["path"], label_column=spec.get("label_column"),
                     id_column=spec.get("id_column"))
    X, _ = table.read_all()
    if spec.get("limit"):
        X = X[: spec["limit"]]
    if len(X) < 2:
        raise DataError(f"{spec['path']}: need at least 2 rows to train")
    spec["feature_names"] = table.feature_names if table.has_header else None
    spec["pixels"] = bool(X.shape[1] == 784 and looks_like_pixels(X))
    if spec["pixels"]:
        X = X / 255.0  # pixel values: model them like MNIST, in [0, 1]
    return X, None


def check_checkpoint(doc, tensors, path):
    """Refuse a damaged or hostile checkpoint before training starts from it."""
    from ..errors import ModelFileError
    from ..serialization import estimator_from

    def bad(what):
        raise ModelFileError(f"{path} is a damaged training checkpoint ({what})")

    est = estimator_from(doc, tensors, path, device="cpu")  # network, scaling, parameters
    if type(est).__name__ not in ("Autoencoder", "DenoisingAutoencoder"):
        bad(f"a {type(est).__name__} cannot be resumed")
    spec = doc["data"]
    if not isinstance(spec, dict) or spec.get("source") not in ("mnist", "csv"):
        bad("field 'data'")
    if spec["source"] == "csv" and not isinstance(spec.get("path"), str):
        bad("field 'data.path'")
    for key in ("limit", "label_column", "id_column", "data_dir"):
        if not isinstance(spec.get(key), (int, str, type(None))) or isinstance(spec.get(key), bool):
            bad(f"field 'data.{key}'")
    digits = spec.get("digits")
    if digits is not None and not (isinstance(digits, list) and all(
            isinstance(d, int) and 0 <= d <= 9 for d in digits)):
        bad("field 'data.digits'")
    state = doc["training_state"]
    types = {"epoch": int, "bad_epochs": int, "stopped_early": bool, "history": dict,
             "scheduler": dict, "optimizer_param_groups": list}
    for key, t in types.items():
        if not isinstance(state.get(key), t) or (t is int and isinstance(state[key], bool)):
            bad(f"training_state.{key}")
    if state.get("best_loss") is not None and not isinstance(state["best_loss"], (int, float)):
        bad("training_state.best_loss")
    if not all(isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
               for v in state["history"].values()):
        bad("training_state.history")
    groups = state["optimizer_param_groups"]
    if len(groups) != 1 or not isinstance(groups[0], dict) \
            or not isinstance(groups[0].get("params"), list):
        bad("training_state.optimizer_param_groups")
    params = list(est.net_.parameters())
    net_state = est.net_.state_dict()
    for name, t in tensors.items():
        if name.startswith("train.optim."):
            parts = name.split(".", 3)
            pid = int(parts[2]) if len(parts) == 4 and parts[2].isdigit() else -1
            if not 0 <= pid < len(params):
                bad(f"tensor {name}")
            if parts[3] != "step" and t.shape != params[pid].shape:
                bad(f"tensor {name} has the wrong shape")
        elif name.startswith("train.best."):
            want = net_state.get(name[len("train.best."):])
            if want is None or want.shape != t.shape:
                bad(f"tensor {name}")


def run_training(opts, out, ckpt):
    from ..estimators import Autoencoder, DenoisingAutoencoder
    from ..serialization import read_model_file, save

    resume = None
    if opts["resume"]:
        doc, tensors = read_model_file(opts["resume"])
        state = doc.get("training_state")
        if not state or "data" not in doc:
            raise AekitError(f"{opts['resume']} is not a training checkpoint (nothing to resume)")
        check_checkpoint(doc, tensors, opts["resume"])
        spec = doc["data"]
        known = Autoencoder().get_params(deep=False)
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in doc["params"].items()
                  if k != "verbose" and k in known}
        params["device"] = opts["device"] if opts["device"] != "auto" else params.get("device", "auto")
        cls = DenoisingAutoencoder if doc["estimator"] == "DenoisingAutoencoder" else Autoencoder
        resume = {
            "net": {k[4:]: v for k, v in tensors.items() if k.startswith("net.")},
            "trainer": ({k[6:]: v for k, v in tensors.items() if k.startswith("train.")}, state),
        }
    else:
        if opts["data_csv"]:
            spec = {"source": "csv", "path": str(opts["data_csv"]),
                    "label_column": opts["label_column"], "id_column": opts["id_column"],
                    "limit": opts["limit"]}
            if opts["digits"]:
                raise click.UsageError("--digits applies to MNIST, not to --data CSV files")
        else:
            spec = {"source": "mnist", "digits": list(opts["digits"] or []) or None,
                    "limit": opts["limit"],
                    "data_dir": str(Path(opts["data_dir"]).resolve()) if opts["data_dir"] else None}
        if opts.get("arch") == "conv" and opts.get("hidden"):
            raise click.UsageError("--hidden sizes the dense layers; with --arch conv use --channels")
        if opts.get("arch") != "conv" and opts.get("channels"):
            raise click.UsageError("--channels applies to --arch conv")
        cls = DenoisingAutoencoder if opts["noise"] else Autoencoder
        # options left out take the estimator's defaults (a denoiser's network is larger),
        # except the Autoencoder's input noise: without --noise the command trains a plain
        # autoencoder, whose closer reconstructions suit `aekit detect` and `aekit denoise`
        params = {k: opts[k] for k in PARAM_KEYS if opts.get(k) is not None}
        if cls is Autoencoder:
            params["noise"] = None
        params["random_state"] = opts["seed"]
    if spec["source"] == "csv" and str(spec["path"]) == "-" and resume is not None:
        raise AekitError("cannot resume a run that read its data from stdin")

    X, X_test = load_training_data(spec, opts["data_dir"])
    if resume is not None and X.shape[1] != doc["n_features"]:
        raise DataError(f"the training data now has {X.shape[1]} features but the checkpoint "
                        f"{opts['resume']} was trained on {doc['n_features']}")
    if resume is not None:
        click.echo(f"Resuming {opts['resume']} from epoch {doc['training_state']['epoch']}.",
                   err=True)
    est = cls(**params, verbose=0 if opts["quiet"] else 1)
    from sklearn.utils.validation import validate_data

    X = validate_data(est, X, dtype=[np.float64, np.float32])

    def checkpoint(trainer, report):
        est.net_ = trainer.net
        est.device_ = str(trainer.device)
        est.history_ = trainer.history
        est.training_summary_ = {"epochs": trainer.epoch, "partial": True}
        save(est, ckpt, training_state=trainer.state_dict(), extra_meta={"data": spec})

    try:
        est._fit(X, callback=checkpoint, resume=resume)
    except KeyboardInterrupt:
        where = f"the checkpoint {ckpt}" if ckpt.exists() else "no checkpoint (interrupted in the first epoch)"
        click.echo(f"\nInterrupted; kept {where}.", err=True)
        if ckpt.exists():
            click.echo(f"Continue with: aekit train --resume {ckpt} -o {out}", err=True)
        sys.exit(130)
    except TrainingError as e:
        kept = f"; the last good checkpoint is {ckpt}" if ckpt.exists() else ""
        raise TrainingError(f"{e}{kept}") from None

    from ..anomaly import autoencoder_scores, resolve_score

    errors = autoencoder_scores(est, X, "mse")  # row means, without the n x features matrix
    # `aekit detect` scores this model the way AnomalyDetector would on such data:
    # pixels in [0, 1] by the error relative to the row's ink, other tables by MSE
    score = resolve_score("auto", est.scaling_)
    scores = errors if score == "mse" else autoencoder_scores(est, X, score)
    extra = {"data": dict(spec),
             "error_quantiles": np.percentile(errors, QUANTILES).tolist(),
             "score_type": score,
             "score_quantiles": np.percentile(scores, QUANTILES).tolist()}
    final = None
    if X_test is not None:
        R = est.reconstruct(X_test)
        sse = float(np.mean(np.sum((X_test.astype(np.float64) - R) ** 2, axis=1)))
        pca_sse = _pca_sse(X, X_test, est.code_size)
        extra["evaluation"] = {"test_sse_per_image": round(sse, 4),
                               "pca_test_sse_per_image": round(pca_sse, 4),
                               "n_test": int(len(X_test))}
        final = (f"test reconstruction error (SSE per image, {len(X_test)} MNIST test images): "
                 f"{sse:.2f}  (PCA with {est.code_size} components: {pca_sse:.2f})")
    else:
        mse = float(np.mean(errors))
        extra["evaluation"] = {"train_mse_scaled": round(mse, 6)}
        final = f"reconstruction error on the training table (MSE per cell, scaled): {mse:.4g}"
    if spec["source"] == "csv":
        extra["data"]["pixels"] = spec.get("pixels", False)
    save(est, out, extra_meta=extra)
    with contextlib.suppress(FileNotFoundError):
        ckpt.unlink()
    if opts["report"]:
        _report(est, X, X_test, Path(opts["report"]))
    s = est.training_summary_
    click.echo(f"saved {out} ({s['epochs']} epochs{', stopped early' if s['stopped_early'] else ''}, "
               f"{s['seconds']:.0f} s on {s['device']})", err=True)
    click.echo(final)


def _pca_sse(X, X_test, k):
    from sklearn.decomposition import PCA

    k = min(k, X.shape[0], X.shape[1])
    pca = PCA(n_components=k, random_state=0).fit(X)
    R = pca.inverse_transform(pca.transform(X_test))
    return float(np.mean(np.sum((X_test.astype(np.float64) - R) ** 2, axis=1)))


def _report(est, X, X_test, folder):
    from .. import plots

    folder.mkdir(parents=True, exist_ok=True)  # only now: a failed run leaves no empty folder
    paths = [plots.loss_curves(est.history_, folder / "loss_curves.png",
                               title=f"{type(est).__name__} training")]
    if X.shape[1] == 784:
        sample = (X_test if X_test is not None else X)[:12]
        paths.append(plots.image_rows([sample, est.reconstruct(sample)],
                                      ["input", "output"], folder / "reconstructions.png"))
    for p in paths:
        click.echo(f"wrote {p}", err=True)
