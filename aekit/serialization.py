"""Model files: one safetensors file, the configuration as JSON in its metadata.

A file holds the network's tensors (``net.*``), any extra tensors of the
estimator (``extra.*``, e.g. a PCA basis) and, for a training checkpoint, the
optimiser's state (``train.*``). Its metadata has one key, ``aekit``, whose
value is a JSON document::

    {"format_version": 1, "aekit_version": ..., "estimator": "Autoencoder",
     "params": {...}, "config": {...}, "scaling": {...}, "summary": {...},
     "extra": {...}, "training_state": {...}}

Loading never unpickles anything: safetensors stores raw tensors only, and the
estimator class is looked up in a fixed table, never imported by name.
"""

import json
import math
from pathlib import Path

import numpy as np

from . import __version__
from .atomic import atomic_path
from .errors import ModelFileError

FORMAT_VERSION = 1
MAX_PARAMETERS = 200_000_000  # refuse hostile configs before allocating anything
MAX_HEADER = 64 * 1024 * 1024


def _estimators():
    from .anomaly import AnomalyDetector
    from .estimators import Autoencoder, DenoisingAutoencoder

    return {c.__name__: c for c in (Autoencoder, DenoisingAutoencoder, AnomalyDetector)}


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot store {type(o).__name__} in a model file")


def model_document(est):
    """The JSON document describing a fitted estimator (without tensors)."""
    ae = est._autoencoder() if hasattr(est, "_autoencoder") else est
    net = ae.net_ if ae is not None else None
    params = est.get_params(deep=False)
    doc = {
        "format_version": FORMAT_VERSION,
        "aekit_version": __version__,
        "estimator": type(est).__name__,
        "params": params,
        "n_features": int(est.n_features_in_),
        "feature_names": list(map(str, est.feature_names_in_))
        if hasattr(est, "feature_names_in_") else None,
        "config": net.config.to_dict() if net is not None else None,
        "scaling": {
            "kind": ae.scaling_,
            "mean": ae.mean_.tolist(),
            "scale": ae.scale_.tolist(),
        } if net is not None else None,
        "summary": {**getattr(ae, "training_summary_", {}),
                    "history": getattr(ae, "history_", None)},
    }
    return doc


def save(est, path, training_state=None, extra_meta=None, weights_dtype=None):
    """Write ``est`` (fitted) to ``path`` atomically; returns the path.

    ``weights_dtype=torch.float16`` halves the file (used for the bundled
    models); weights are cast back to float32 on load.
    """
    from sklearn.utils.validation import check_is_fitted
    from safetensors.torch import save_file

    check_is_fitted(est)
    doc = model_document(est)
    tensors = {}
    ae = est._autoencoder() if hasattr(est, "_autoencoder") else est
    if ae is not None and getattr(ae, "net_", None) is not None:
        for k, v in ae.net_.state_dict().items():
            v = v.detach().cpu()
            if weights_dtype is not None and v.is_floating_point():
                v = v.to(weights_dtype)
            tensors[f"net.{k}"] = v.contiguous()
    if hasattr(est, "_extra_state"):
        ext_tensors, ext_meta = est._extra_state()
        tensors.update({f"extra.{k}": v for k, v in ext_tensors.items()})
        doc["extra"] = ext_meta
    if training_state is not None:
        t_tensors, t_meta = training_state
        tensors.update({f"train.{k}": v for k, v in t_tensors.items()})
        doc["training_state"] = t_meta
    if extra_meta:
        doc.update(extra_meta)
    meta = {"aekit": json.dumps(doc, default=_json_default)}
    with atomic_path(path, suffix=".tmp.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return path


def _sniff(path, head):
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"]q", b"cc"):
        return "a Python pickle"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive (a torch.save checkpoint?)"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "a PNG image"
    return None


def read_model_file(path):
    """Return ``(doc, tensors)`` from an aekit model file, validating as it goes."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise ModelFileError(f"cannot read model file {path}: {e.strerror}") from None
    if len(head) < 8:
        raise ModelFileError(f"{path} is not an aekit model (file too short)")
    kind = _sniff(path, head)
    if kind:
        raise ModelFileError(
            f"{path} is {kind}, not an aekit model; aekit only loads safetensors "
            "files and never unpickles"
        )
    header_len = int.from_bytes(head[:8], "little")
    if header_len > MAX_HEADER or header_len + 8 > path.stat().st_size:
        raise ModelFileError(f"{path} is not an aekit model (not a safetensors file)")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if "aekit" not in meta:
                raise ModelFileError(
                    f"{path} is a safetensors file but not an aekit model (no aekit metadata)"
                )
            doc = json.loads(meta["aekit"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except ModelFileError:
        raise
    except Exception as e:  # safetensors raises its own errors for any corrupt header
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ModelFileError(f"{path} is not a valid aekit model: {first}") from None
    if not isinstance(doc, dict):
        raise ModelFileError(f"{path} has malformed aekit metadata")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} is an aekit model of format version {version!r}; this aekit "
            f"({__version__}) reads version {FORMAT_VERSION}"
        )
    return doc, tensors


def _need(doc, key, types, path):
    value = doc.get(key)
    if not isinstance(value, types):
        raise ModelFileError(f"{path} has malformed aekit metadata (field {key!r})")
    return value


def build_net(config_dict, tensors, prefix, path):
    """Rebuild an AutoencoderNet from its config, checking it against the tensors."""
    from .config import ModelConfig
    from .model import AutoencoderNet

    try:
        cfg = ModelConfig.from_dict(config_dict)
        sizes = [cfg.n_features, *cfg.hidden, cfg.code_size, *cfg.decoder_hidden, cfg.n_features]
        if any(not isinstance(s, int) or s < 1 for s in sizes):
            raise ValueError("layer sizes must be positive")
        if not 0 <= float(cfg.dropout) < 1:
            raise ValueError("bad dropout")
        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    except (TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"{path} has an invalid model config: {e}") from None
    net_tensors = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    weights = sum(v.numel() for k, v in net_tensors.items() if k.endswith(("weight", "bias"))
                  and v.dim() in (1, 2) and "running" not in k)
    if n_params > MAX_PARAMETERS or (not cfg.batch_norm and weights != n_params):
        raise ModelFileError(f"{path}: the model config does not match its weights")
    net = AutoencoderNet(cfg)
    try:
        net.load_state_dict(net_tensors, strict=True)
    except RuntimeError:
        raise ModelFileError(f"{path}: the model config does not match its weights") from None
    net.eval()
    return net


def load(path, device="auto"):
    """Rebuild the fitted estimator saved at ``path`` by ``save``.

    >>> ae = aekit.load("model.safetensors")   # doctest: +SKIP
    """
    doc, tensors = read_model_file(path)
    return estimator_from(doc, tensors, path, device)


def estimator_from(doc, tensors, path="model", device="auto"):
    from .device import resolve_device

    classes = _estimators()
    name = doc.get("estimator")
    if name not in classes:
        raise ModelFileError(f"{path}: unknown estimator {name!r} in model file")
    cls = classes[name]
    params = _need(doc, "params", dict, path)
    est = cls()
    valid = est.get_params(deep=False)
    try:
        est.set_params(**{k: (tuple(v) if isinstance(v, list) else v)
                          for k, v in params.items() if k in valid})
    except Exception:
        raise ModelFileError(f"{path} has invalid estimator parameters") from None
    n_features = _need(doc, "n_features", int, path)
    est.n_features_in_ = n_features
    names = doc.get("feature_names")
    if isinstance(names, list) and len(names) == n_features:
        est.feature_names_in_ = np.asarray(names, dtype=object)
    dev = resolve_device(device)
    ae = est._autoencoder_for_load() if hasattr(est, "_autoencoder_for_load") else est
    if doc.get("config") is not None:
        net = build_net(_need(doc, "config", dict, path), tensors, "net.", path)
        if net.config.n_features != n_features:
            raise ModelFileError(f"{path}: the model config does not match its weights")
        scaling = _need(doc, "scaling", dict, path)
        try:
            ae.scaling_ = scaling["kind"]
            ae.mean_ = np.asarray(scaling["mean"], dtype=np.float32)
            ae.scale_ = np.asarray(scaling["scale"], dtype=np.float32)
            assert ae.scaling_ in ("unit", "standard")
            assert ae.mean_.shape == ae.scale_.shape == (n_features,)
            assert np.all(np.isfinite(ae.mean_)) and np.all(ae.scale_ > 0)
        except (KeyError, TypeError, ValueError, AssertionError):
            raise ModelFileError(f"{path} has invalid scaling metadata") from None
        ae.n_features_in_ = n_features
        ae.net_ = net.to(dev)
        ae.device_ = dev
        summary = doc.get("summary") or {}
        ae.history_ = summary.get("history") or {}
        ae.training_summary_ = {k: v for k, v in summary.items() if k != "history"}
        ae.n_epochs_ = int(summary.get("epochs") or 0)
    if hasattr(est, "_load_extra_state"):
        extra_tensors = {k[6:]: v for k, v in tensors.items() if k.startswith("extra.")}
        try:
            est._load_extra_state(extra_tensors, doc.get("extra") or {})
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(f"{path} has invalid detector metadata: {e}") from None
    return est


def describe(path):
    """A human-readable summary of what a model file holds (for ``aekit info``)."""
    doc, tensors = read_model_file(path)
    lines = [f"file: {path}", f"estimator: {doc.get('estimator')}",
             f"format version: {doc.get('format_version')} (written by aekit {doc.get('aekit_version')})"]
    cfg = doc.get("config") or {}
    if cfg:
        layers = [cfg.get("n_features"), *cfg.get("hidden", []), cfg.get("code_size"),
                  *cfg.get("decoder_hidden", []), cfg.get("n_features")]
        lines.append("architecture: " + "-".join(map(str, layers))
                     + f" (output {cfg.get('output')}, dropout {cfg.get('dropout')}, "
                       f"batch norm {'on' if cfg.get('batch_norm') else 'off'})")
        n = sum(v.numel() for k, v in tensors.items() if k.startswith("net."))
        lines.append(f"parameters: {n:,}")
    scaling = doc.get("scaling") or {}
    if scaling:
        lines.append(f"input scaling: {scaling.get('kind')}")
    params = doc.get("params") or {}
    keys = ["noise", "optimizer", "lr", "batch_size", "epochs", "weight_decay", "random_state",
            "method", "contamination", "threshold"]
    shown = ", ".join(f"{k}={params[k]}" for k in keys if k in params)
    lines.append(f"parameters used: {shown}")
    summary = doc.get("summary") or {}
    if summary.get("epochs") is not None:
        best = summary.get("best_loss")
        lines.append(
            f"training: {summary.get('epochs')} epochs"
            + (" (stopped early)" if summary.get("stopped_early") else "")
            + (f", best {summary.get('monitored')} loss {best:.4g}" if isinstance(best, (int, float)) and math.isfinite(best) else "")
            + f", {summary.get('n_train')} samples, {summary.get('seconds')} s on {summary.get('device')}"
        )
    for key in ("data", "evaluation"):
        if doc.get(key):
            lines.append(f"{key}: " + json.dumps(doc[key]))
    extra = doc.get("extra") or {}
    if "offset" in extra:
        lines.append(f"anomaly threshold (error): {extra.get('threshold')}")
    if doc.get("training_state"):
        lines.append(f"checkpoint: resumable from epoch {doc['training_state'].get('epoch')}")
    return "\n".join(lines)
