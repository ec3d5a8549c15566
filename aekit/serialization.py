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


def _sniff(path, head, last):
    # protocol 2+ opens with PROTO (0x80); protocols 0-1 with a few opcodes, all end in STOP (".")
    if head[:1] == b"\x80" or (last == b"." and head[:1] in b"c(}]NIVSKJ"):
        return "a Python pickle"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive (a torch.save checkpoint?)"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "a PNG image"
    return None


def read_model_file(path, framework="pt"):
    """Return ``(doc, tensors)`` from an aekit model file, validating as it goes.

    ``framework="numpy"`` gives numpy arrays instead of torch tensors (and does
    not import torch).
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            last = b""
            if head:
                f.seek(-1, 2)
                last = f.read(1)
    except OSError as e:
        raise ModelFileError(f"cannot read model file {path}: {e.strerror}") from None
    if len(head) == 0:
        raise ModelFileError(f"{path} is empty, not an aekit model")
    header_len = int.from_bytes(head[:8], "little")
    # A safetensors file: 8-byte header length, then the JSON header. Only what is not
    # one gets sniffed (a header length can start with a pickle's opcode byte, 0x80).
    plausible = len(head) > 8 and head[8:9] == b"{" and header_len <= MAX_HEADER \
        and header_len + 8 <= path.stat().st_size
    if not plausible:
        kind = _sniff(path, head, last)
        if kind:
            raise ModelFileError(
                f"{path} is {kind}, not an aekit model; aekit only loads safetensors "
                "files and never unpickles"
            )
        if len(head) < 9:
            raise ModelFileError(f"{path} is not an aekit model (file too short)")
        raise ModelFileError(f"{path} is not an aekit model (not a safetensors file)")
    try:
        with safe_open(str(path), framework=framework) as f:
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
        raise ModelFileError(f"{path} has malformed aekit metadata (not a JSON object)")
    version = doc.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} is an aekit model of format version {version!r}; this aekit "
            f"({__version__}) reads version {FORMAT_VERSION}"
        )
    check_document(doc, path)
    return doc, tensors


# Fields of the document and the JSON types they must have (None: the field may be absent).
_FIELDS = {
    "estimator": str, "aekit_version": (str, type(None)), "params": dict,
    "n_features": int, "feature_names": (list, type(None)), "config": (dict, type(None)),
    "scaling": (dict, type(None)), "summary": (dict, type(None)), "extra": (dict, type(None)),
    "training_state": (dict, type(None)), "data": (dict, type(None)),
    "evaluation": (dict, type(None)), "error_quantiles": (list, type(None)),
}
MAX_FEATURES = 10_000_000
N_QUANTILES = 1001


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_document(doc, path="model"):
    """Refuse metadata of the wrong shape before anything acts on it.

    Every field a command reads is checked for its type here, so that a
    hostile or damaged file ends in one :class:`ModelFileError` naming the
    field rather than in an error deep inside whatever first used it.
    """
    def bad(field, why):
        raise ModelFileError(f"{path} has malformed aekit metadata (field {field!r}: {why})")

    for key, types in _FIELDS.items():
        if key in ("estimator", "params", "n_features") and key not in doc:
            bad(key, "missing")
        value = doc.get(key)
        if not isinstance(value, types) or (types is int and isinstance(value, bool)):
            bad(key, f"{type(value).__name__} is not allowed")
    if not 1 <= doc["n_features"] <= MAX_FEATURES:
        bad("n_features", f"{doc['n_features']} is out of range")
    for k, v in doc["params"].items():
        flat = v is None or isinstance(v, (bool, int, float, str))
        if not flat and not (isinstance(v, list) and all(
                x is None or isinstance(x, (bool, int, float, str)) for x in v)):
            bad(f"params.{k}", "not a plain value")
    names = doc.get("feature_names")
    if names is not None and (len(names) != doc["n_features"]
                              or not all(isinstance(n, str) for n in names)):
        bad("feature_names", "not one name per feature")
    q = doc.get("error_quantiles")
    if q is not None and (len(q) != N_QUANTILES or not all(_is_number(v) for v in q)):
        bad("error_quantiles", f"not {N_QUANTILES} finite numbers")
    extra = doc.get("extra") or {}
    q = extra.get("score_quantiles")
    if q is not None and (not isinstance(q, list) or len(q) != N_QUANTILES
                          or not all(_is_number(v) for v in q)):
        bad("extra.score_quantiles", f"not {N_QUANTILES} finite numbers")
    for k in ("offset", "threshold"):
        if k in extra and not _is_number(extra[k]):
            bad(f"extra.{k}", "not a finite number")
    summary = doc.get("summary") or {}
    if summary.get("epochs") is not None and not _is_int(summary["epochs"]):
        bad("summary.epochs", "not an integer")
    if not isinstance(summary.get("history") or {}, dict):
        bad("summary.history", "not an object")
    state = doc.get("training_state")
    if state is not None and not (_is_int(state.get("epoch")) and state["epoch"] >= 0):
        bad("training_state.epoch", "not an epoch number")


def _need(doc, key, types, path):
    value = doc.get(key)
    if not isinstance(value, types):
        raise ModelFileError(f"{path} has malformed aekit metadata (field {key!r})")
    return value


MAX_LAYERS = 64


def check_config(c):
    """The ModelConfig of a file's config dict, its fields checked for types and sizes
    (ValueError, TypeError or AttributeError otherwise)."""
    from .config import ModelConfig

    ints = [c.get("n_features"), c.get("code_size")]
    decoder = c.get("decoder_hidden")
    lists = [c.get("hidden"), c.get("hidden") if decoder is None else decoder]
    if not all(isinstance(v, list) and len(v) <= MAX_LAYERS for v in lists):
        raise ValueError(f"hidden layer sizes must be lists of at most {MAX_LAYERS} integers")
    sizes = ints + lists[0] + lists[1]
    if not all(_is_int(s) and 1 <= s <= MAX_PARAMETERS for s in sizes):
        raise ValueError("layer sizes must be positive integers")
    if not _is_number(c.get("dropout", 0.0)) or not 0 <= c.get("dropout", 0.0) < 1:
        raise ValueError("dropout must be a number in [0, 1)")
    if not isinstance(c.get("batch_norm", False), bool):
        raise ValueError("batch_norm must be true or false")
    channels = c.get("channels", [])
    if not (isinstance(channels, list) and len(channels) <= MAX_LAYERS
            and all(_is_int(n) and 1 <= n <= MAX_PARAMETERS for n in channels)):
        raise ValueError(f"channels must be a list of at most {MAX_LAYERS} positive integers")
    return ModelConfig.from_dict(c)


def read_scaling(doc, n_features, path):
    """(kind, mean, scale) of a file's input scaling, checked; ModelFileError otherwise."""
    scaling = _need(doc, "scaling", dict, path)
    try:
        kind = scaling["kind"]
        mean = np.asarray(scaling["mean"], dtype=np.float32)
        scale = np.asarray(scaling["scale"], dtype=np.float32)
        valid = (kind in ("unit", "standard") and mean.shape == scale.shape == (n_features,)
                 and np.all(np.isfinite(mean)) and np.all(np.isfinite(scale))
                 and np.all(scale > 0))
    except (KeyError, TypeError, ValueError):
        valid = False
    if not valid:
        raise ModelFileError(f"{path} has invalid scaling metadata")
    return kind, mean, scale


def build_net(config_dict, tensors, prefix, path):
    """Rebuild an AutoencoderNet from its config, checking it against the tensors.

    The config is checked for types and sizes, and the tensors for names,
    shapes and dtypes against a skeleton built on torch's "meta" device (no
    memory), before the real network is allocated: a hostile config cannot
    make aekit allocate more than the file itself holds.
    """
    import torch

    from .model import AutoencoderNet

    try:
        cfg = check_config(config_dict)
        with torch.device("meta"):  # sizes only: nothing is allocated
            skeleton = AutoencoderNet(cfg)
        n_params = sum(p.numel() for p in skeleton.parameters())
        if n_params > MAX_PARAMETERS:
            raise ValueError(f"{n_params:,} parameters is more than aekit loads "
                             f"({MAX_PARAMETERS:,})")
    except (TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"{path} has an invalid model config: {e}") from None
    expected = skeleton.state_dict()
    net_tensors = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    mismatch = sorted(set(expected) ^ set(net_tensors))
    if not mismatch:
        for k, want in expected.items():
            got = net_tensors[k]
            if got.shape != want.shape or got.is_floating_point() != want.is_floating_point():
                mismatch = [k]
                break
    if mismatch:
        raise ModelFileError(
            f"{path}: the model config does not match its weights (tensor {prefix}{mismatch[0]})")
    if not all(bool(torch.isfinite(v).all()) for v in net_tensors.values() if v.is_floating_point()):
        raise ModelFileError(f"{path}: the model's weights hold NaN or infinite values")
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
    from sklearn.base import clone

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
        if hasattr(est, "_validate_params"):
            # checked on a copy bound to the CPU: a model saved on a GPU loads anywhere
            probe = clone(est)
            if "device" in valid:
                probe.set_params(device="cpu")
            probe._validate_params()
    except (TypeError, ValueError, OverflowError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelFileError(f"{path} has invalid estimator parameters ({first})") from None
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
        ae.scaling_, ae.mean_, ae.scale_ = read_scaling(doc, n_features, path)
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
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ModelFileError(f"{path} has invalid detector metadata: {e}") from None
        if getattr(est, "pca_", None) is not None and not _pca_state_ok(est, n_features):
            raise ModelFileError(f"{path} has invalid detector metadata (PCA basis or scaling)")
    fitted = est._autoencoder() if hasattr(est, "_autoencoder") else est
    if getattr(est, "pca_", None) is None and getattr(fitted, "net_", None) is None:
        raise ModelFileError(f"{path} holds no network for its {name} (config or method missing)")
    return est


def _pca_state_ok(est, n_features):
    pca, scaler = est.pca_, getattr(est, "_scaler", None)
    try:
        k = pca.components_.shape[0]
        return bool(
            scaler is not None and scaler.scaling_ in ("unit", "standard")
            and scaler.mean_.shape == scaler.scale_.shape == (n_features,)
            and np.all(np.isfinite(scaler.mean_)) and np.all(np.isfinite(scaler.scale_))
            and np.all(scaler.scale_ > 0)
            and 1 <= k <= n_features and np.all(np.isfinite(pca.components_))
            and np.all(np.isfinite(pca.mean_))
            and pca.explained_variance_.shape == (k,)
            and np.all(np.isfinite(pca.explained_variance_)))
    except (AttributeError, TypeError, ValueError):
        return False


def describe(path):
    """A human-readable summary of what a model file holds (for ``aekit info``)."""
    doc, tensors = read_model_file(path)
    estimator_from(doc, tensors, path, device="cpu")  # the same checks as loading
    lines = [f"file: {path}", f"estimator: {doc.get('estimator')}",
             f"format version: {doc.get('format_version')} (written by aekit {doc.get('aekit_version')})"]
    cfg = doc.get("config") or {}
    if cfg:
        from .config import ModelConfig

        lines.append("architecture: " + ModelConfig.from_dict(cfg).layers_text()
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
