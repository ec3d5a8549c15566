"""Model files: one safetensors file, the estimator's document as JSON in its metadata.

A file holds raw tensors (no pickle: loading never runs code) and one metadata key,
``aekit``, whose value is a JSON document (format version 2)::

    {"format_version": 2, "aekit_version": "...", "estimator": "AnomalyDetector",
     "params": {...},              # get_params(): the estimator's parameters
     "schema": {...},              # aekit.preprocessing.InputSchema.to_json()
     "networks": [{...}, ...],     # aekit.nn.config.ModelConfig of each network
     "scoring": {...},             # aekit.thresholds.ScoreRule.to_json()
     "summary": {...},             # how training went
     ... "pca", "data", "evaluation", "training_state" where they apply}

Tensors: ``net.I.NAME`` for network I's ``state_dict``, ``pca.*`` for a PCA basis,
``train.*`` for a training checkpoint's optimiser state. This module knows the
envelope (reading, writing, checking, upgrading files of version 1) and nothing of
the estimators, which write and read their own documents
(``get_state`` / ``from_state``).
"""

import json
import math
from pathlib import Path

import numpy as np

from . import __version__
from .errors import ModelFileError
from .nn.config import MAX_PARAMETERS

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_HEADER = 64 * 1024 * 1024
MAX_LAYERS = 64
MAX_FEATURES = 10_000_000
MAX_SECONDS = 1e9  # a checkpoint's training seconds so far (about 32 years)
ESTIMATORS = ("Autoencoder", "DenoisingAutoencoder", "AnomalyDetector", "ImageDenoiser",
              "VariationalAutoencoder")

# Top-level fields of a (version 2) document and the JSON types they must have.
FIELDS = {
    "estimator": str, "aekit_version": (str, type(None)), "params": dict, "schema": dict,
    "networks": (list, type(None)), "scoring": (dict, type(None)), "pca": (dict, type(None)),
    "summary": (dict, type(None)), "training_state": (dict, type(None)),
    "data": (dict, type(None)), "evaluation": (dict, type(None)),
}
REQUIRED = ("estimator", "params", "schema")


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot store {type(o).__name__} in a model file")


def write_model_file(path, document, tensors, weights_dtype=None):
    """Write ``document`` (JSON-able) and ``tensors`` (name -> numpy array) to ``path``.

    The write is atomic for a regular file (a temporary file renamed into place).
    ``weights_dtype=numpy.float16`` halves the file (the bundled models); weights
    are read back as float32. Returns the path.
    """
    from safetensors.numpy import save

    from .atomic import atomic_open

    doc = {"format_version": FORMAT_VERSION, "aekit_version": __version__, **document}
    arrays = {}
    for k, v in tensors.items():
        v = np.asarray(v)
        if weights_dtype is not None and np.issubdtype(v.dtype, np.floating) \
                and not k.endswith("two_values"):  # (matched exactly against the rows)
            v = v.astype(weights_dtype)
        arrays[k] = v if v.flags.c_contiguous else v.copy()  # (keeps 0-d arrays 0-d)
    meta = {"aekit": json.dumps(doc, default=_json_default)}
    # serialised in memory and written by aekit: safetensors' own file writer renames a
    # temporary file over the path, which would replace a FIFO or a device
    data = save(arrays, metadata=meta)
    with atomic_open(path, "wb") as f:
        f.write(data)
    return path


def _sniff(head, last):
    # protocol 2+ opens with PROTO (0x80); protocols 0-1 with a few opcodes, all end in STOP (".")
    if head[:1] == b"\x80" or (last == b"." and head[:1] in b"c(}]NIVSKJ"):
        return "a Python pickle"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive (a torch.save checkpoint?)"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "a PNG image"
    return None


def _check_envelope(path):
    """Refuse, in words, a file that is not a safetensors file at all."""
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
        kind = _sniff(head, last)
        if kind:
            raise ModelFileError(f"{path} is {kind}, not an aekit model; aekit only loads "
                                 "safetensors files and never unpickles")
        if len(head) < 9:
            raise ModelFileError(f"{path} is not an aekit model (file too short)")
        raise ModelFileError(f"{path} is not an aekit model (not a safetensors file)")


def read_model_file(path):
    """``(document, tensors)`` of an aekit model file: the document upgraded to version 2
    and checked for shape, the tensors as numpy arrays.

    Raises
    ------
    ModelFileError
        Naming the file and what is wrong with it.
    """
    from safetensors import safe_open

    path = Path(path)
    _check_envelope(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            if "aekit" not in meta:
                raise ModelFileError(
                    f"{path} is a safetensors file but not an aekit model (no aekit metadata)")
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
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{path} is an aekit model of format version {version!r}; this aekit "
            f"({__version__}) reads versions {', '.join(map(str, READABLE_VERSIONS))}")
    try:
        if version == 1:
            doc, tensors = upgrade_version_1(doc, tensors)
        check_document(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"{path} has malformed aekit metadata ({_first_line(e)})") from None
    return doc, tensors


def training_roles(path):
    """The roles `aekit train --data` gave the columns of a model's training table:
    ``{"label_column": ..., "id_columns": [...], "ignore_columns": [...]}`` as its file
    stores them; empty for a model trained on anything else (MNIST, an array).

    Raises
    ------
    ModelFileError
        The file is missing or not a valid aekit model.
    """
    doc, _ = read_model_file(path)
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    if data.get("source") != "table":
        return {}
    return {"label_column": data.get("label_column"),
            "id_columns": [str(c) for c in data.get("id_columns") or []],
            "ignore_columns": [str(c) for c in data.get("ignore_columns") or []]}


def _first_line(e):
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def check_document(doc):
    """Refuse a document of the wrong shape (ValueError naming the field) before anything
    acts on it; the sections' own contents are checked where they are read."""
    for key, types in FIELDS.items():
        if key in REQUIRED and key not in doc:
            raise ValueError(f"field {key!r} is missing")
        if not isinstance(doc.get(key), types):
            raise ValueError(f"field {key!r}: {type(doc.get(key)).__name__} is not allowed")
    if doc["estimator"] not in ESTIMATORS:
        raise ValueError(f"unknown estimator {doc['estimator']!r}")
    for k, v in doc["params"].items():
        flat = v is None or isinstance(v, (bool, int, float, str))
        if not flat and not (isinstance(v, list) and all(
                x is None or isinstance(x, (bool, int, float, str)) for x in v)):
            raise ValueError(f"field 'params.{k}': not a plain value")
    summary = doc.get("summary") or {}
    if summary.get("epochs") is not None and not _is_int(summary["epochs"]):
        raise ValueError("field 'summary.epochs': not an integer")
    if not isinstance(summary.get("history") or {}, dict):
        raise ValueError("field 'summary.history': not an object")
    state = doc.get("training_state")
    if state is not None and not (_is_int(state.get("epoch")) and state["epoch"] >= 0):
        raise ValueError("field 'training_state.epoch': not an epoch number")
    seconds = (state or {}).get("seconds", 0)  # (checkpoints before 2026-12-06 have none)
    if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
            and 0 <= seconds <= MAX_SECONDS):  # (NaN fails; a huge int is not converted)
        raise ValueError("field 'training_state.seconds': not a number of seconds "
                         f"(0 to {MAX_SECONDS:.0e})")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_network_config(c):
    """The :class:`~aekit.nn.config.ModelConfig` of a file's network entry, its fields
    checked for types and sizes before anything is built (ValueError otherwise)."""
    from .nn.config import OBJECTIVES, ModelConfig

    if not isinstance(c, dict):
        raise ValueError("a network's config is not an object")
    decoder = c.get("decoder_hidden")
    lists = [c.get("hidden"), c.get("hidden") if decoder is None else decoder]
    if not all(isinstance(v, list) and len(v) <= MAX_LAYERS for v in lists):
        raise ValueError(f"hidden layer sizes must be lists of at most {MAX_LAYERS} integers")
    sizes = [c.get("n_features"), c.get("code_size")] + lists[0] + lists[1]
    if not all(_is_int(s) and 1 <= s <= MAX_PARAMETERS for s in sizes):
        raise ValueError("layer sizes must be positive integers")
    if not _is_number(c.get("dropout")) or not 0 <= c["dropout"] < 1:
        raise ValueError("dropout must be a number in [0, 1)")
    if not isinstance(c.get("batch_norm"), bool):
        raise ValueError("batch_norm must be true or false")
    channels = c.get("channels", [])
    if not (isinstance(channels, list) and len(channels) <= MAX_LAYERS
            and all(_is_int(n) and 1 <= n <= MAX_PARAMETERS for n in channels)):
        raise ValueError(f"channels must be a list of at most {MAX_LAYERS} positive integers")
    if not (c.get("objective", "reconstruction") in OBJECTIVES
            and _is_int(c.get("components", 1)) and _is_int(c.get("score_masks", 1))
            and _is_number(c.get("scale_floor", 1.0))):
        raise ValueError("the masked network's settings are malformed")
    if c.get("objective") == "masked" and "score_design" not in c:
        c = {**c, "score_design": "random"}  # written before the design had a name
    try:
        return ModelConfig.from_dict(c)
    except TypeError as e:  # a missing field
        raise ValueError(f"incomplete network config ({e})") from None


def network_tensors(tensors, index):
    """Network ``index``'s tensors, named as in its ``state_dict``."""
    prefix = f"net.{index}."
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


# -- files of format version 1 (aekit 0.1) ----------------------------------------------
def upgrade_version_1(doc, tensors):
    """A version-1 document and its tensors in version 2's layout (nothing recomputed)."""
    doc = dict(doc)
    n = doc.get("n_features")
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    extra = doc.pop("extra", None) or {}
    if not isinstance(extra, dict):
        raise ValueError("field 'extra': not an object")
    scaling = doc.pop("scaling", None) or extra.get("scaling")
    if not isinstance(scaling, dict):
        raise ValueError("field 'scaling': missing or not an object")
    kind = scaling.get("kind")
    doc["schema"] = {
        "n_features": n, "feature_names": doc.pop("feature_names", None), "scaling": kind,
        "center": scaling.get("mean"), "scale": scaling.get("scale"),
        "pixels": kind == "unit" and (n == 784 or bool(data.get("pixels"))),
    }
    doc.pop("n_features", None)
    config = doc.pop("config", None)
    doc["networks"] = [config] if config is not None else None
    tensors = {("net.0." + k[4:] if k.startswith("net.") else
                k[6:] if k.startswith("extra.") else k): v for k, v in tensors.items()}
    doc["scoring"] = _version_1_scoring(doc, extra)
    if doc["estimator"] == "AnomalyDetector" and extra.get("method") == "pca":
        doc["pca"] = {}
    for key in ("error_quantiles", "score_type", "score_quantiles"):
        doc.pop(key, None)
    return doc, tensors


def _version_1_scoring(doc, extra):
    if doc.get("estimator") == "AnomalyDetector":
        out = {"score_type": extra.get("score_type", "mse"),
               "threshold": extra.get("threshold", None)}
        if "offset" in extra and out["threshold"] is None and _is_number(extra["offset"]):
            out["threshold"] = -extra["offset"]
        if extra.get("score_quantiles") is not None:
            out["quantiles"] = extra["score_quantiles"]
        return out
    if doc.get("score_type") is not None and doc.get("score_quantiles") is not None:
        return {"score_type": doc["score_type"], "quantiles": doc["score_quantiles"]}
    if doc.get("error_quantiles") is not None:
        return {"score_type": "mse", "quantiles": doc["error_quantiles"]}
    return {"score_type": "mse"}
