"""Property tests: arbitrary bytes into the CSV reader, the image reader and the model loader.

Each reader must either return a valid result or raise an :class:`AekitError`
(one line for the user); never any other exception, and no warning either (a
warning is a stray line on the user's stderr). In CI the examples are
derandomised (the same every run, so a red build means a code change); set
AEKIT_FUZZ_EXAMPLES=2000 for a longer, randomised hunt.
"""

import contextlib
import io
import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aekit.errors import AekitError

DEEP = int(os.environ.get("AEKIT_FUZZ_EXAMPLES", "0"))


def fuzz(examples):
    return settings(max_examples=DEEP or examples, deadline=None, database=None,
                    derandomize=not DEEP, suppress_health_check=list(HealthCheck))


@contextlib.contextmanager
def no_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:  # on the error path too
            assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# -- CSV ---------------------------------------------------------------------------------

CELLS = st.sampled_from([
    "1", "-2.5", "3e4", "0", "", " ", "x", "inf", "-inf", "nan", "NaN", "NA", "null", "1e999",
    '"', '"1"', '"a,b"', "\t", "0x10", "1_000", "\u0661", "1,5", "\x00", "+", "-", ".", "e",
    "label", "id", "\r",
])
ROWS = st.lists(st.lists(CELLS, max_size=6), max_size=8)
CSV_TEXT = ROWS.map(lambda rows: "\n".join(",".join(r) for r in rows))
COLUMN = st.sampled_from([None, None, "label", "id", "0", "1", "-1", "99", "x"])


def _read_csv(path, allow_missing, label, ident):
    from aekit.errors import CellError
    from aekit.preprocessing import to_matrix
    from aekit.tables.csv_table import CsvTable

    try:
        with no_warnings():
            table = CsvTable(path, label_column=label, id_columns=[ident] if ident else (),
                             chunksize=3)
            parts, carried = [], []
            for chunk in table.chunks():
                try:
                    parts.append(to_matrix(chunk.features, allow_missing=allow_missing))
                except CellError as e:
                    raise table.locate(e, chunk) from None
                if chunk.carried is not None:
                    assert len(chunk.carried) == len(chunk.features)
                    carried.append(chunk.carried)
            X = np.concatenate(parts)
            carried = pd.concat(carried) if carried else None
    except AekitError as e:
        assert str(e).strip() and "\n" not in str(e).strip()
        return
    assert X.dtype == np.float64 and X.ndim == 2 and len(X) >= 1
    assert X.shape[1] == table.n_features >= 1
    assert not np.isinf(X).any()
    if not allow_missing:
        assert not np.isnan(X).any()
    if carried is not None:
        assert len(carried) == len(X)


@fuzz(150)
@given(data=st.binary(max_size=600), allow_missing=st.booleans())
def test_csv_reader_on_arbitrary_bytes(scratch, data, allow_missing):
    path = scratch / "bytes.csv"
    path.write_bytes(data)
    _read_csv(path, allow_missing, None, None)


@fuzz(200)
@given(text=CSV_TEXT, allow_missing=st.booleans(), label=COLUMN, ident=COLUMN)
@example(text='1,1,1\n\r,"1"', allow_missing=False, label=None, ident=None)  # csv.Error
def test_csv_reader_on_csv_like_text(scratch, text, allow_missing, label, ident):
    path = scratch / "text.csv"
    path.write_bytes(text.encode("utf-8"))
    _read_csv(path, allow_missing, label, ident)


# -- images ------------------------------------------------------------------------------

def _encoded(fmt, mode):
    from PIL import Image

    a = (np.arange(36 * 24).reshape(24, 36) % 256).astype(np.uint8)
    im = Image.fromarray(a, mode="L")
    if mode != "L":
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def _seeds():
    """Small valid pictures in every format and mode Pillow writes (the fuzzer damages them)."""
    out = {}
    for fmt in ("PNG", "BMP", "GIF", "TIFF", "JPEG", "PPM"):
        for mode in ("L", "RGB", "RGBA", "P", "I;16", "1"):
            try:
                out[(fmt, mode)] = _encoded(fmt, mode)
            except (OSError, ValueError, KeyError):
                pass  # a combination the format does not store
    return out


SEED_BYTES = _seeds()
SEEDS = sorted(SEED_BYTES)


def _check_image(data):
    from aekit.images import read_image

    try:
        with no_warnings():
            gray = read_image(data)
    except AekitError as e:
        assert str(e).strip() and "\n" not in str(e).strip()
        return
    assert gray.dtype == np.float32 and gray.ndim == 2 and gray.size >= 1
    assert np.isfinite(gray).all() and gray.min() >= 0 and gray.max() <= 1


@fuzz(150)
@given(data=st.binary(max_size=800))
def test_image_reader_on_arbitrary_bytes(data):
    _check_image(data)


@fuzz(300)
@given(seed=st.sampled_from(SEEDS), cut=st.integers(0, 4000),
       flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=6))
@example(seed=("TIFF", "P"), cut=0, flips=[(130, 1)])  # Pillow: TypeError, KeyError
def test_image_reader_on_damaged_images(seed, cut, flips):
    data = bytearray(SEED_BYTES[seed])
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut < len(data):
        data = data[:max(cut, len(data) // 4)] if cut % 3 else data
    _check_image(bytes(data))


def test_image_seeds_read_cleanly():
    """The undamaged seeds are valid pictures: the property above starts from real files."""
    from aekit.images import read_image

    for seed, data in SEED_BYTES.items():
        assert read_image(data).shape == (24, 36), seed


# -- model files -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def valid_models(scratch):
    from aekit import AnomalyDetector, Autoencoder
    from aekit.model_file import read_model_file

    X = np.random.RandomState(0).rand(80, 5)
    models = {
        "autoencoder": Autoencoder(hidden=(6,), code_size=2, epochs=1, device="cpu",
                                   random_state=0),
        "batch-norm": Autoencoder(hidden=(6, 4), code_size=2, epochs=1, batch_norm=True,
                                  dropout=0.1, device="cpu", random_state=0),
        "detector": AnomalyDetector(hidden=(6,), code_size=2, epochs=1, device="cpu",
                                    random_state=0),
        "pca-detector": AnomalyDetector(method="pca"),
    }
    out = {}
    for name, est in models.items():
        path = est.fit(X * (10 if name == "batch-norm" else 1)).save(scratch / f"{name}.safetensors")
        out[name] = read_model_file(path)
    return out


def _check_model_file(path):
    from aekit.loading import describe, load

    try:
        with no_warnings():
            est = load(path, device="cpu")
            text = describe(path)
    except AekitError as e:
        assert str(e).strip() and "\n" not in str(e).strip()
        return
    assert "estimator:" in text
    # a file that loads also works
    X = np.random.RandomState(1).rand(7, int(est.n_features_in_))
    if hasattr(est, "score_samples"):
        assert np.isfinite(est.score_samples(X)).all()
    else:
        assert np.isfinite(est.transform(X)).all()


@fuzz(120)
@given(data=st.binary(max_size=400))
def test_model_loader_on_arbitrary_bytes(scratch, data):
    path = scratch / "bytes.safetensors"
    path.write_bytes(data)
    _check_model_file(path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**66), 2**66)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=4),
    max_leaves=8,
)


def _paths(doc, prefix=()):
    """Every key path into the document's objects (not into lists)."""
    for k, v in doc.items():
        yield prefix + (k,)
        if isinstance(v, dict):
            yield from _paths(v, prefix + (k,))


def _write(path, doc, tensors):
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) if v.ndim else v for k, v in tensors.items()},
              str(path), metadata={"aekit": json.dumps(doc)})


@fuzz(150)
@given(which=st.sampled_from(["autoencoder", "batch-norm", "detector", "pca-detector"]),
       pick=st.integers(0, 10**6), value=JSON, delete=st.booleans())
def test_model_loader_on_hostile_metadata(scratch, valid_models, which, pick, value, delete):
    doc, tensors = valid_models[which]
    doc = json.loads(json.dumps(doc))
    paths = sorted(_paths(doc))
    where = paths[pick % len(paths)]
    parent = doc
    for k in where[:-1]:
        parent = parent[k]
    if delete:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    path = scratch / "meta.safetensors"
    _write(path, doc, tensors)
    _check_model_file(path)


@fuzz(120)
@given(which=st.sampled_from(["autoencoder", "batch-norm", "detector", "pca-detector"]),
       pick=st.integers(0, 10**6),
       shape=st.lists(st.integers(0, 9), max_size=3),
       dtype=st.sampled_from(["float32", "float64", "float16", "int64", "uint8", "bool"]),
       action=st.sampled_from(["replace", "drop", "add"]))
def test_model_loader_on_hostile_tensors(scratch, valid_models, which, pick, shape, dtype,
                                         action):
    doc, tensors = valid_models[which]
    tensors = dict(tensors)
    names = sorted(tensors)
    name = names[pick % len(names)]
    fill = np.ones(shape, dtype=dtype)
    if action == "replace":
        tensors[name] = fill
    elif action == "drop":
        del tensors[name]
    else:
        tensors[name + ".extra"] = fill
    path = scratch / "tensors.safetensors"
    _write(path, doc, tensors)
    _check_model_file(path)


@fuzz(120)
@given(header=JSON, tail=st.binary(max_size=64))
def test_model_loader_on_hostile_safetensors_headers(scratch, header, tail):
    body = json.dumps(header).encode()
    path = scratch / "header.safetensors"
    path.write_bytes(len(body).to_bytes(8, "little") + body + tail)
    _check_model_file(path)
