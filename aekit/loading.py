"""Reading a model file back into the estimator it describes, by path or bundled name.

The estimator's class is looked up in a fixed table (never imported by name), and
the class rebuilds itself from the file's document (``from_state``); this module
adds the file's name to whatever it finds wrong. A model that `aekit train` trained to
be a detector (``--data`` tables and ``--digits``) loads as an
:class:`~aekit.AnomalyDetector`, also from files of format 1 and 2, where such models
were written as autoencoders (:func:`trained_as_detector`); its threshold is then the
default contamination's, as `aekit detect` has always read it.
"""

from .anomaly import AnomalyDetector
from .autoencoder import Autoencoder, DenoisingAutoencoder
from .errors import ModelFileError
from .model_file import read_model_file
from .photo_denoiser import ImageDenoiser
from .pretrained import resolve
from .state import trained_as_detector, unfinished_fit_error
from .variational import VariationalAutoencoder

ESTIMATORS = {c.__name__: c for c in (Autoencoder, DenoisingAutoencoder, AnomalyDetector,
                                      ImageDenoiser, VariationalAutoencoder)}


def estimator_from(doc, tensors, path="model", device="auto"):
    """The fitted estimator of a document and its tensors (:func:`read_model_file`'s pair):
    the class it names, or a detector for a model trained as one
    (:func:`trained_as_detector`).

    Raises
    ------
    ModelFileError
        Naming ``path`` and the part of the file that is wrong.
    """
    cls = ESTIMATORS[doc["estimator"]]
    try:
        est = cls.from_state(doc, tensors, device)
        return AnomalyDetector.from_autoencoder(est) if trained_as_detector(doc) else est
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RuntimeError) as e:
        unfinished = unfinished_fit_error(doc, path)  # (an Autoencoder's checkpoint loads)
        if unfinished is not None:
            raise unfinished from None
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelFileError(f"{path}: {text}") from None


def load(model, device="auto"):
    """Load a model file saved by ``save`` (or `aekit train`), or a bundled model by name.

    Parameters
    ----------
    model : str or path
        A safetensors file written by aekit, or the name of a bundled model
        (``aekit models`` lists them: "mnist-denoiser", "mnist-detector").
    device : str, default="auto"

    Returns
    -------
    Autoencoder, DenoisingAutoencoder or AnomalyDetector, fitted (a detector for a
    model `aekit train` trained as one: ``--data`` tables, ``--digits``).

    Raises
    ------
    ModelFileError
        The file is missing, not an aekit model (a pickle is refused without being
        unpickled), or damaged; one line says which.

    >>> ae = aekit.load("model.safetensors")   # doctest: +SKIP
    """
    path = resolve(model)
    doc, tensors = read_model_file(path)
    return estimator_from(doc, tensors, path, device)


def load_pretrained(name, device="auto"):
    """Load a bundled model by name: ``"mnist-denoiser"`` or ``"mnist-detector"``."""
    from .pretrained import path_of

    return load(path_of(name), device=device)


def _printable(name):
    """A column name or category as one line shows it: quoted (``''``, ``'a\\nb'``) where it
    is empty, holds a line break or another unprintable character, or ends in spaces."""
    return repr(name) if not name or not name.isprintable() or name != name.strip() else name


def _categorical_line(schema, shown=5):
    """The columns a model reads as categories, and the first ``shown`` of each one's."""
    enc = schema.encoding
    labels = schema.feature_names or [str(j) for j in range(schema.n_features)]
    parts = []
    for j, (kind, cats) in enumerate(zip(enc.kinds, enc.categories)):
        if kind == "categorical":
            more = f" and {len(cats) - shown} more" if len(cats) > shown else ""
            parts.append(f"{_printable(labels[j])} ({'declared, ' if j in enc.declared else ''}"
                         f"{len(cats)} categor{'y' if len(cats) == 1 else 'ies'}: "
                         f"{', '.join(map(_printable, cats[:shown]))}{more})")
    return ("categorical columns: " + "; ".join(parts)
            + ("; each one-hot, with a slot for a category never seen"
               if enc.unseen_slot else "; each one-hot"))


def describe(model):
    """A human-readable summary of what a model file (or bundled model) holds, for
    ``aekit info``. The file is loaded first, so a damaged one is refused as by
    :func:`load`."""
    import json

    path = resolve(model)
    doc, tensors = read_model_file(path)
    lines = [f"file: {path}", f"estimator: {doc['estimator']}",
             f"format version: {doc.get('format_version')} (written by aekit "
             f"{doc.get('aekit_version')})"]
    if doc["estimator"] == "ImageDenoiser":  # a photo denoiser describes itself
        est = estimator_from(doc, tensors, path, device="cpu")
        return "\n".join(lines + est.describe(doc))
    schema = _checked_schema(doc, tensors, path)
    lines += [_architecture_line(cfg) for cfg in doc.get("networks") or []]
    n = sum(v.size for k, v in tensors.items() if k.startswith("net."))
    if n:
        lines.append(f"parameters: {n:,}")
    names = "" if schema.feature_names is None else \
        f" named {', '.join(map(_printable, schema.feature_names[:6]))}" \
        f"{'...' if schema.n_features > 6 else ''}"
    lines.append(f"input: {schema.n_features} features{names}; scaling {schema.scaling}"
                 + ("; accepts 0..255 pixels" if schema.pixels else ""))
    if schema.encoding is not None and "categorical" in schema.encoding.kinds:
        lines.append(_categorical_line(schema))
    params = doc.get("params") or {}
    keys = ["noise", "optimizer", "lr", "batch_size", "epochs", "weight_decay", "trim",
            "random_state", "method", "contamination", "threshold"]
    shown = {k: noise_text(params[k]) if k == "noise" else _resolved(k, params[k], doc)
             for k in keys if k in params}
    lines.append("parameters used: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    summary = doc.get("summary") or {}
    if summary.get("epochs") is not None:
        lines.append(_training_line(summary))
    scoring = doc.get("scoring") or {}
    if scoring.get("score_type"):
        lines.append(f"anomaly score: {scoring['score_type']}"
                     + (f", threshold {scoring['threshold']:.6g}" if scoring.get("threshold")
                        is not None else "")
                     + ("" if scoring.get("quantiles") else " (no training quantiles)"))
    for key in ("data", "evaluation"):
        if doc.get(key):
            lines.append(f"{key}: " + json.dumps(doc[key]))
    state = doc.get("training_state")
    if state:
        stage = state.get("stage")
        fit = stage.get("fit") if isinstance(stage, dict) else None
        fit = fit if isinstance(fit, int) else None
        lines.append(f"checkpoint: resumable {checkpoint_progress(state.get('epoch'), fit)}"
                     + (" (a second, trimmed fit follows)" if fit == 1 else ""))
    return "\n".join(lines)


def checkpoint_progress(epoch, fit=None):
    """Where a checkpoint stands, in words: ``epoch`` epochs completed, of ``fit`` (1 or 2,
    the first or second fit of a trimmed run; None for a run of one fit), e.g. "after
    epoch 3 of the first fit" (the run goes on from the 4th, or from the second fit
    when the first had 3)."""
    return (f"after epoch {epoch}"
            + {1: " of the first fit", 2: " of the second fit"}.get(fit, ""))


def _architecture_line(cfg):
    """``aekit info``'s line on one network of a model file (its config ``cfg``)."""
    from .nn.config import ModelConfig

    if cfg.get("kind") == "vae":
        from .nn.vae import VAEConfig

        vae = VAEConfig.from_dict(cfg)
        return (f"architecture: {vae.layers_text()} (variational autoencoder, "
                f"{vae.likelihood} decoder, code of {vae.code_size}, dropout "
                f"{vae.dropout}, batch norm {'on' if vae.batch_norm else 'off'})")
    config = ModelConfig.from_dict(cfg)
    masks = "" if config.objective != "masked" else (
        f", scored under {config.score_masks} masks"
        + (", each over its spread on the training rows" if config.mask_spread else "")
        + (", two-valued features by their side" if config.two_valued else "")
        + (f", {len(config.held_at_zero)} unseen slot(s) held at 0"
           if config.held_at_zero else "")
        + (f", beside its early network, scored under {config.early_masks} masks"
           if config.early_masks else ""))
    return ("architecture: " + config.layers_text()
            + f" (objective {config.objective}, output {config.output}, dropout "
              f"{config.dropout}, batch norm {'on' if config.batch_norm else 'off'}{masks})")


def _checked_schema(doc, tensors, path):
    """The input schema of a file, the file checked as :func:`load` checks it (a training
    checkpoint: its network and schema, having no threshold yet)."""
    from .preprocessing import InputSchema
    from .state import networks_from

    if not doc.get("training_state"):
        return estimator_from(doc, tensors, path, device="cpu").schema_
    try:
        schema = InputSchema.from_json(doc["schema"])
        networks_from(doc, tensors, schema.n_encoded, "cpu")
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
        raise ModelFileError(f"{path}: {e}") from None
    return schema


def _resolved(key, value, doc):
    """A parameter's value for ``aekit info``: "auto" with what it became in this fit."""
    if value != "auto":
        return value
    summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
    trim = summary.get("trim") if isinstance(summary.get("trim"), dict) else {}
    became = {"batch_size": summary.get("batch_size"), "epochs": summary.get("max_epochs"),
              # (a checkpoint's partial summary does not know its trim yet)
              "trim": trim.get("share", None if summary.get("partial") else 0.0)}.get(key)
    return "auto" if became is None else f"auto ({became})"


def noise_text(spec):
    """A noise spec for people: a mixture's repeated parts counted, e.g.
    ``gaussian:0.5 (6 of 9 rows), masking:0.25 (1 of 9 rows)`` for the spec that lists
    gaussian:0.5 six times (each row draws one part)."""
    if not isinstance(spec, str) or "+" not in spec:
        return spec
    parts = spec.split("+")
    counts = {p: parts.count(p) for p in parts}
    if len(counts) == len(parts):
        return spec
    return ", ".join(f"{p} ({c} of {len(parts)} rows)" for p, c in counts.items())


def _training_line(summary):
    import math

    best = summary.get("best_loss")
    return (f"training: {epochs_in_words(summary)}"
            + (f", best {summary.get('monitored')} loss {best:.4g}"
               if isinstance(best, (int, float)) and math.isfinite(best) else "")
            + "".join(f", {text}" for key, text in (
                ("n_train", f"{summary.get('n_train')} samples"),
                ("seconds", f"{summary.get('seconds')} s on {summary.get('device')}"))
                if summary.get(key) is not None))


def epochs_in_words(summary):
    """A training summary's epochs, in words, in the order they ran: e.g. "3 epochs, then
    3 epochs without the 18 rows the first fit scored highest, each row drawn 19 times an
    epoch, stopped early" (the second fit of a trimmed run; "stopped early" is said of
    the last fit). Used by `aekit train`'s "saved" line and `aekit info`; a summary's odd
    entries (a damaged file) are left out."""
    trim = summary.get("trim") if isinstance(summary.get("trim"), dict) else {}
    text = _count(summary.get("epochs"), "epoch")
    left_out = trim.get("left_out")
    if isinstance(left_out, int) and not isinstance(left_out, bool) and left_out > 0:
        first = trim.get("first_fit_epochs")
        first = _count(first, "epoch") if isinstance(first, int) else "a first fit"
        text = (f"{first}, then {text} without the {_count(left_out, 'row')} the first fit "
                "scored highest")
    repeats = summary.get("epoch_repeats")
    if isinstance(repeats, int) and not isinstance(repeats, bool) and repeats > 1:
        text += f", each row drawn {repeats} times an epoch"
    return text + (", stopped early" if summary.get("stopped_early") else "")


def _count(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def autoencoder_of(model):
    """The :class:`~aekit.Autoencoder` a loaded model reconstructs and encodes with: the
    model itself, or a detector's network (:meth:`~aekit.AnomalyDetector.as_autoencoder`).

    Raises
    ------
    ValueError
        A detector without a network (``method="pca"``).
    """
    return model.as_autoencoder() if isinstance(model, AnomalyDetector) else model
