"""The bad-input matrix: every command, every kind of broken input.

Each case must end with exactly one line on stderr naming the problem, a
non-zero exit, no traceback, no file created (no partial output, no temporary
file left behind) and every input byte-for-byte and mtime-for-mtime as it was.
A few inputs (1x1, very wide, 16-bit, RGBA and palette images) are odd rather
than broken: for those a valid result is accepted too.
"""

import io
import json
import math
import pickle
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from aekit.cli import cli
from test_images import bomb_png, png_bytes

TINY = ["--hidden", "8", "--code-size", "2", "--epochs", "1", "--batch-size", "32",
        "--device", "cpu", "-q"]
FEATURES = ["a", "b", "c", "d", "e", "f"]


# -- the good inputs every case starts from ---------------------------------------------

def _csv(path, X, header=True, blanks=()):
    rows = [",".join(FEATURES)] if header else []
    for i, row in enumerate(X):
        rows.append(",".join("" if (i, j) in blanks else f"{v:.6g}" for j, v in enumerate(row)))
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    from aekit import Autoencoder

    d = tmp_path_factory.mktemp("bad_inputs_base")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 2)) @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(120, 6))
    _csv(d / "table.csv", X)
    _csv(d / "score.csv", X[:20])
    _csv(d / "gaps.csv", X[:20], blanks={(0, 1), (3, 4), (7, 0)})
    r = CliRunner().invoke(cli, ["train", "--data", str(d / "table.csv"), *TINY,
                                 "-o", str(d / "table.safetensors")])
    assert r.exit_code == 0, r.output
    _interrupted_run(d)
    pixels = (rng.uniform(size=(64, 784)) > 0.7).astype(np.float32)
    ae = Autoencoder(hidden=(8,), code_size=2, epochs=1, batch_size=32, device="cpu",
                     random_state=0, verbose=0).fit(pixels)
    ae.save(d / "pixels.safetensors")
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255
    Image.fromarray(digit, mode="L").save(d / "digit.png")
    # an MNIST folder whose files are there but broken: no download is tried
    mnist = d / "broken_mnist"
    mnist.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (mnist / name).write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x05")
    return d


def _interrupted_run(d):
    """Leave d/run.ckpt.safetensors: a checkpoint of a run stopped after its first epoch."""
    from aekit.nn import training

    original = training.Trainer._train_one_epoch

    def stop_at_second(self, X, epoch):
        if epoch == 1:
            raise KeyboardInterrupt
        return original(self, X, epoch)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(training.Trainer, "_train_one_epoch", stop_at_second)
        r = CliRunner().invoke(cli, ["train", "--data", str(d / "table.csv"),
                                     *TINY[:TINY.index("--epochs")], "--epochs", "3",
                                     *TINY[TINY.index("--epochs") + 2:],
                                     "-o", str(d / "run.safetensors")])
    assert r.exit_code == 130 and (d / "run.ckpt.safetensors").exists(), r.output


# -- bad files ---------------------------------------------------------------------------

def truncated_png():
    noise = np.random.RandomState(0).randint(0, 256, (120, 120), dtype=np.uint8)
    data = png_bytes(Image.fromarray(noise))
    return data[: len(data) // 2]


def damaged_tiff():
    """A TIFF whose ImageWidth tag claims 19 values: Pillow warns, then fails to decode."""
    a = (np.arange(36 * 24).reshape(24, 36) % 256).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="TIFF")
    data = bytearray(buf.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd:ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack("<H", data[entry:entry + 2])[0] == 256:
            data[entry + 4:entry + 8] = struct.pack("<I", 19)
    return bytes(data)


def _digit_array(h=28, w=28):
    a = np.zeros((h, w), np.uint8)
    a[h // 5: h - h // 5, w * 2 // 5: w * 3 // 5 + 1] = 255
    return a


BAD_IMAGES = {  # name -> (file name, bytes or None for "absent", words naming the problem)
    "missing": ("nope.png", None, r"does not exist|not found"),
    "zero-byte": ("zero.png", b"", r"empty"),
    "text-named-png": ("text.png", b"this is not a picture\n", r"not an image|cannot read"),
    "truncated-png": ("cut.png", truncated_png(), r"truncated|corrupt"),
    "bomb-30000x30000": ("bomb.png", bomb_png(), r"too large|limit|pixels"),
    "damaged-tiff": ("scan.tif", damaged_tiff(), r"truncated|corrupt"),
}
ODD_IMAGES = {  # name -> image: a valid result or a clean error
    "1x1": Image.fromarray(np.full((1, 1), 200, np.uint8), mode="L"),
    "very-wide": Image.fromarray(np.tile(_digit_array(), (1, 300))[:, :6000]),
    "very-tall": Image.fromarray(np.tile(_digit_array(), (300, 1))[:6000]),
    "16-bit": Image.fromarray(_digit_array().astype(np.uint16) * 257),
    "rgba": Image.fromarray(_digit_array(), mode="L").convert("RGBA"),
    "palette": Image.fromarray(_digit_array(), mode="L").convert("P"),
}


def _header():
    return ",".join(FEATURES) + "\n"


BAD_CSVS = {  # name -> (file name, text/bytes or None for "absent", words naming the problem)
    "missing": ("nope.csv", None, r"does not exist|not found"),
    "zero-byte": ("zero.csv", "", r"empty"),
    "blank-lines": ("blank.csv", "\n\n  \n", r"empty"),
    "header-only": ("header.csv", _header(), r"no data rows"),
    "ragged": ("ragged.csv", _header() + "1,2,3,4,5,6\n1,2,3,4,5,6,7\n",
               r"line 3 has 7 fields but the header has 6"),
    "short-row": ("short.csv", _header() + "1,2,3,4,5,6\n1,2,3\n",
                  r"line 3 has 3 fields but the header has 6"),
    "non-numeric": ("words.csv", _header() + "1,2,3,4,5,6\n1,2,x,4,5,6\n",
                    r"line 3, column 'c' holds 'x', not a number"),
    "inf": ("inf.csv", _header() + "1,2,3,4,5,6\n1,2,inf,4,5,6\n", r"not finite|inf"),
    "minus-inf": ("minf.csv", _header() + "1,2,3,4,5,6\n1,2,-inf,4,5,6\n", r"not finite|inf"),
    "huge-number": ("big.csv", _header() + "1,2,3,4,5,6\n1,2,1e999,4,5,6\n",
                    r"not finite|inf"),
    "not-utf8": ("latin.csv", _header().encode() + b"1,2,\xff\xfe,4,5,6\n",
                 r"UTF-8|not a number"),
    "binary": ("bin.csv", bytes(range(256)) * 8, r"UTF-8|not a text|malformed|not a number"),
    "huge-first-field": ("long.csv", "x" * 200_000 + "\n1\n", r"malformed|field"),
}
WRONG_WIDTH = {  # the model names its features a..f (aekit train --data on a headed table)
    "too-narrow": ("narrow.csv", "a,b,c\n1,2,3\n4,5,6\n", r"lacks 3 of the model's features "
                   r"\(d, e, f\)"),
    "too-wide": ("wide.csv", "a,b,c,d,e,f,g\n1,2,3,4,5,6,7\n",
                 r"has 1 column\(s\) the model was not trained on \(g\)"),
    "renamed": ("renamed.csv", "a,b,c,d,e,z\n1,2,3,4,5,6\n",
                r"lacks 1 of the model's features \(f\) and has 1 column\(s\) the model was "
                r"not trained on \(z\)"),
    "headerless-narrow": ("bare.csv", "1,2,3\n4,5,6\n",
                          r"has 3 feature columns but the model expects 6"),
}


# the valid files hostile variants are made from (a checkpoint's for `train --resume`)
SOURCE = {"name": "table.safetensors", "v1": "cli_table.safetensors"}


NET = ["networks", 0]  # the document's (first) network config
V1 = Path(__file__).parent / "data" / "v1"  # files of aekit 0.1's format


def _valid_parts(base):
    """(doc, tensors) of a valid model file, for building hostile variants."""
    from aekit.model_file import read_model_file

    return read_model_file(base / SOURCE["name"])


def _raw_parts(path):
    """(doc, tensors) of a model file as written, without upgrading or checking it."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return json.loads(f.metadata()["aekit"]), {k: f.get_tensor(k) for k in f.keys()}


def _st(path, tensors, metadata):
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata=metadata)


def _hostile_v1(doc_change):
    """A damaged file of format version 1 (the upgrade path checks what it reads too)."""

    def build(base, path):
        doc, tensors = _raw_parts(V1 / SOURCE["v1"])
        doc_change(doc)
        _st(path, tensors, {"aekit": json.dumps(doc)})

    return build


def _hostile(doc_change=None, raw=None, tensor_change=None):
    """A builder of safetensors files derived from the valid table model."""

    def build(base, path):
        doc, tensors = _valid_parts(base)
        doc = json.loads(json.dumps(doc))
        tensors = dict(tensors)
        if tensor_change:
            tensor_change(tensors)
        if raw is not None:
            meta = raw
        else:
            if doc_change:
                doc_change(doc)
            meta = {"aekit": json.dumps(doc)}
        _st(path, tensors, meta)

    return build


def _set(path, value):
    def change(doc):
        d = doc
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return change


def _del(key):
    return lambda doc: doc.pop(key)


def _random_bytes(base, path):
    path.write_bytes(np.random.RandomState(1).bytes(4096))


def _pickle_file(base, path):
    path.write_bytes(pickle.dumps({"state_dict": {"w": [1.0, 2.0]}, "epoch": 3}))


def _torch_zip(base, path):
    import torch

    torch.save({"w": torch.zeros(3)}, str(path))


def _header_claims_everything(base, path):
    path.write_bytes((2**62).to_bytes(8, "little") + b"{}")


def _header_not_json(base, path):
    body = b"{this is not json"
    path.write_bytes(len(body).to_bytes(8, "little") + body)


def _header_lies_about_offsets(base, path):
    header = json.dumps({"__metadata__": {"aekit": "{}"},
                         "net.w": {"dtype": "F32", "shape": [1000, 1000],
                                   "data_offsets": [0, 4000000]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 16)


def _empty_file(base, path):
    path.write_bytes(b"")


def _first_weight(tensors):
    return sorted(k for k in tensors if k.endswith("weight"))[0]


def _wrong_shapes(base, path):
    doc, tensors = _valid_parts(base)
    tensors = dict(tensors)
    k = _first_weight(tensors)
    tensors[k] = np.zeros((tensors[k].shape[0] + 1, tensors[k].shape[1]), np.float32)
    _st(path, tensors, {"aekit": json.dumps(doc)})


def _missing_tensor(base, path):
    doc, tensors = _valid_parts(base)
    tensors = {k: v for k, v in tensors.items() if k != _first_weight(tensors)}
    _st(path, tensors, {"aekit": json.dumps(doc)})


def _int_weights(base, path):
    doc, tensors = _valid_parts(base)
    tensors = {k: (v.astype(np.int64) if k.endswith("weight") else v)
               for k, v in tensors.items()}
    _st(path, tensors, {"aekit": json.dumps(doc)})


BAD_MODELS = {  # name -> (file name, builder or None for "absent", words naming the problem)
    "missing": ("nope.safetensors", None, r"does not exist|not found"),
    "zero-byte": ("zero.safetensors", _empty_file, r"empty|too short|not an aekit model"),
    "random-bytes": ("random.safetensors", _random_bytes, r"not an aekit model|not a"),
    "pickle.safetensors": ("p.safetensors", _pickle_file, r"pickle"),
    "pickle.pkl": ("p.pkl", _pickle_file, r"pickle"),
    "pickle.pt": ("p.pt", _pickle_file, r"pickle"),
    "torch-save-zip": ("t.pt", _torch_zip, r"zip|torch"),
    "header-too-long": ("long.safetensors", _header_claims_everything, r"not .*safetensors|not an aekit"),
    "header-not-json": ("hj.safetensors", _header_not_json, r"not a valid|not an aekit"),
    "header-offsets-lie": ("off.safetensors", _header_lies_about_offsets, r"not a valid|not an aekit"),
    "no-metadata": ("nometa.safetensors", _hostile(raw={}), r"no aekit metadata"),
    "foreign-metadata": ("foreign.safetensors", _hostile(raw={"format": "pt"}), r"no aekit metadata"),
    "metadata-not-json": ("nj.safetensors", _hostile(raw={"aekit": "{oops"}), r"metadata"),
    "metadata-a-list": ("list.safetensors", _hostile(raw={"aekit": "[1, 2, 3]"}), r"metadata"),
    "metadata-deep-nesting": ("deep.safetensors",
                              _hostile(raw={"aekit": "[" * 100_000 + "]" * 100_000}), r"metadata"),
    "metadata-huge-string": ("hs.safetensors", _hostile(raw={"aekit": json.dumps("x" * 5_000_000)}),
                             r"metadata"),
    "format-version-3": ("v3.safetensors", _hostile(_set(["format_version"], 3)), r"version"),
    "format-version-0": ("v0.safetensors", _hostile(_set(["format_version"], 0)), r"version"),
    "format-version-string": ("vs.safetensors", _hostile(_set(["format_version"], "1")), r"version"),
    "format-version-absent": ("vn.safetensors", _hostile(_del("format_version")), r"version"),
    "unknown-estimator": ("est.safetensors", _hostile(_set(["estimator"], "os.system")),
                          r"estimator"),
    "huge-layers": ("huge.safetensors", _hostile(_set(NET + ["hidden"], [10**9])),
                    r"config|weights|large"),
    "huge-layers-batch-norm": ("hugebn.safetensors", _hostile(lambda d: d["networks"][0].update(
        hidden=[5_000_000, 5_000_000], batch_norm=True)), r"config|weights|large"),
    "huge-code": ("hugecode.safetensors", _hostile(_set(NET + ["code_size"], 2**40)),
                  r"config|weights|large"),
    "negative-layer": ("neg.safetensors", _hostile(_set(NET + ["hidden"], [-8])), r"config"),
    "layer-not-a-number": ("nan-layer.safetensors", _hostile(_set(NET + ["hidden"], ["x"])),
                           r"config"),
    "layer-a-float": ("float-layer.safetensors", _hostile(_set(NET + ["hidden"], [8.5])),
                      r"config|weights"),
    "config-a-string": ("cs.safetensors", _hostile(_set(NET, "big")), r"config"),
    "networks-a-string": ("ns.safetensors", _hostile(_set(["networks"], "big")), r"networks"),
    "config-missing-fields": ("cm.safetensors", _hostile(_set(NET, {})), r"config"),
    "config-unknown-arch": ("ca.safetensors", _hostile(_set(NET + ["arch"], "transformer")),
                            r"config"),
    "config-conv-on-a-table": ("cc.safetensors", _hostile(_set(NET + ["arch"], "conv")),
                               r"config"),
    "config-huge-channels": ("ch.safetensors", _hostile(lambda d: d["networks"][0].update(
        arch="conv", channels=[10**9])), r"config"),
    "config-channels-a-string": ("cs2.safetensors", _hostile(_set(NET + ["channels"], "64")),
                                 r"config"),
    "config-bad-output": ("co.safetensors", _hostile(_set(NET + ["output"], "tanh")), r"config"),
    "config-bad-dropout": ("cd.safetensors", _hostile(_set(NET + ["dropout"], "lots")), r"config"),
    "n-features-a-string": ("nf.safetensors", _hostile(_set(["schema", "n_features"], "6")),
                            r"n_features"),
    "n-features-mismatch": ("nfm.safetensors", _hostile(lambda d: d["schema"].update(
        n_features=7, feature_names=list("abcdefg"), center=[0.0] * 7, scale=[1.0] * 7,
        encoding={"kinds": ["numeric"] * 7, "categories": [None] * 7, "fills": [0.0] * 7})),
        r"does not match"),
    "encoding-garbage": ("enc.safetensors", _hostile(_set(["schema", "encoding", "kinds"],
                                                          ["text"] * 6)), r"encoding"),
    "params-a-list": ("pl.safetensors", _hostile(_set(["params"], [1, 2])), r"params|metadata"),
    "params-hostile-values": ("pv.safetensors", _hostile(_set(["params", "hidden"], "rm -rf")),
                              r"param|metadata"),
    "schema-missing": ("sm.safetensors", _hostile(_del("schema")), r"schema"),
    "scaling-wrong-length": ("sw.safetensors", _hostile(_set(["schema", "center"], [0.0])),
                             r"scaling"),
    "scaling-zero-scale": ("sz.safetensors", _hostile(_set(["schema", "scale"], [0.0] * 6)),
                           r"scales must be positive"),
    "scaling-bad-kind": ("sk.safetensors", _hostile(_set(["schema", "scaling"], "log")),
                         r"scaling"),
    "feature-names-garbage": ("fn.safetensors", _hostile(_set(["schema", "feature_names"], [1])),
                              r"feature_names"),
    "quantiles-garbage": ("q.safetensors", _hostile(_set(["scoring"], {
        "score_type": "mse", "quantiles": ["a"] * 1001})), r"quantiles"),
    "score-type-unknown": ("st.safetensors", _hostile(_set(["scoring"], {"score_type": "max"})),
                           r"score type"),
    "v1-huge-layers": ("v1h.safetensors", _hostile_v1(_set(["config", "hidden"], [10**9])),
                       r"config|weights|large"),
    "v1-scaling-bad-kind": ("v1s.safetensors", _hostile_v1(_set(["scaling", "kind"], "log")),
                            r"scaling"),
    "v1-scaling-missing": ("v1m.safetensors", _hostile_v1(_set(["scaling"], None)), r"scaling"),
    "v1-extra-a-list": ("v1e.safetensors", _hostile_v1(_set(["extra"], [1])), r"extra"),
    "v1-quantiles-garbage": ("v1q.safetensors", _hostile_v1(lambda d: d.update(
        score_type="mse", score_quantiles=[1, "a"])), r"quantiles"),
    "summary-garbage": ("sg.safetensors", _hostile(_set(["summary"], {"epochs": "many",
                                                                      "history": 5})),
                        r"summary|metadata"),
    "wrong-shapes": ("ws.safetensors", _wrong_shapes, r"match"),
    "missing-tensor": ("mt.safetensors", _missing_tensor, r"match"),
    "integer-weights": ("iw.safetensors", _int_weights, r"match|dtype|type"),
}


# -- running and checking ----------------------------------------------------------------

def snapshot(*folders):
    out = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            st = p.lstat()
            # a folder's mtime moves when a temporary file comes and goes: only files count
            out[str(p)] = (True,) if p.is_dir() else (False, st.st_mtime_ns, p.read_bytes())
    return out


def invoke(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_clean_failure(r, words, before, after, exit_codes=(1, 2)):
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.exit_code in exit_codes, (r.exit_code, r.output, r.exception)
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), \
        repr(r.exception)
    assert "Traceback" not in r.output
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert re.search(words, lines[0], re.IGNORECASE), lines[0]
    assert before.keys() == after.keys(), set(before) ^ set(after)  # nothing new, nothing gone
    for k in before:
        assert before[k] == after[k], f"{k} changed"


def check(base, tmp_path, args, words, exit_codes=(1, 2)):
    before = snapshot(base, tmp_path)
    r = invoke(args)
    after = snapshot(base, tmp_path)
    assert_clean_failure(r, words, before, after, exit_codes)
    return r


@pytest.fixture
def work(tmp_path, monkeypatch):
    """An empty folder for outputs, also the working directory (default outputs land here)."""
    out = tmp_path / "work"
    out.mkdir()
    monkeypatch.chdir(out)
    return out


def _place(base, tmp_path, fname, content):
    """Write a bad input beside the outputs (or not at all: content None)."""
    path = tmp_path / "in" / fname
    path.parent.mkdir(exist_ok=True)
    if callable(content):
        content(base, path)
    elif isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    return path


# -- CSV inputs --------------------------------------------------------------------------

def _csv_commands(base, data, out):
    return {
        "train": ["train", "--data", data, *TINY, "-o", out / "m.safetensors",
                  "--report", out / "report"],
        "detect": ["detect", data, "-m", base / "table.safetensors", "-o", out / "o.csv",
                   "--report", out / "report"],
        "encode": ["encode", data, "-m", base / "table.safetensors", "-o", out / "o.csv",
                   "--plot", out / "map.png"],
        "impute": ["impute", data, "-m", base / "table.safetensors", "-o", out / "o.csv"],
    }


CSV_COMMANDS = ["train", "detect", "encode", "impute"]


@pytest.mark.parametrize("command", CSV_COMMANDS)
@pytest.mark.parametrize("case", [c for c in BAD_CSVS if c != "text-named-png"])
def test_bad_csv(base, tmp_path, work, command, case):
    fname, content, words = BAD_CSVS[case]
    data = _place(base, tmp_path, fname, content)
    check(base, tmp_path, _csv_commands(base, data, work)[command], words)


@pytest.mark.parametrize("command", CSV_COMMANDS)
def test_csv_folder(base, tmp_path, work, command):
    folder = tmp_path / "in" / "a_folder.csv"
    folder.mkdir(parents=True)
    check(base, tmp_path, _csv_commands(base, folder, work)[command], r"folder|directory")


@pytest.mark.parametrize("command", ["detect", "encode", "impute"])
@pytest.mark.parametrize("case", list(WRONG_WIDTH))
def test_csv_of_the_wrong_width_for_the_model(base, tmp_path, work, command, case):
    fname, content, words = WRONG_WIDTH[case]
    data = _place(base, tmp_path, fname, content)
    check(base, tmp_path, _csv_commands(base, data, work)[command], words)


@pytest.mark.parametrize("flags, words", [
    (["--explain", "1.5"], r"'--explain': '1\.5' is not a valid integer\.$"),
    (["--threshold", "abc"], r"'--threshold': 'abc' is not a valid number\.$"),
    (["--threshold", "nan"], r"'--threshold': 'nan' is not a valid number\.$"),
])
def test_a_number_that_is_not_one_is_named_plainly(base, tmp_path, work, flags, words):
    check(base, tmp_path, _csv_commands(base, base / "score.csv", work)["detect"] + flags,
          words)


@pytest.mark.parametrize("command", ["detect", "encode", "impute"])
def test_pixel_model_on_a_table(base, tmp_path, work, command):
    args = _csv_commands(base, base / "score.csv", work)[command]
    args[args.index("-m") + 1] = base / "pixels.safetensors"
    check(base, tmp_path, args, r"784|expects")


def test_train_needs_two_rows(base, tmp_path, work):
    data = _place(base, tmp_path, "one.csv", _header() + "1,2,3,4,5,6\n")
    check(base, tmp_path, _csv_commands(base, data, work)["train"], r"at least 2 rows")


def test_train_constant_table_trains_or_fails_cleanly(base, tmp_path, work):
    data = _place(base, tmp_path, "const.csv", _header() + "1,1,1,1,1,1\n" * 50)
    r = invoke(_csv_commands(base, data, work)["train"])
    if r.exit_code == 0:
        assert (work / "m.safetensors").exists()
    else:
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_train_broken_mnist_folder(base, tmp_path, work):
    check(base, tmp_path, ["train", "--data-dir", base / "broken_mnist", *TINY,
                           "-o", work / "m.safetensors"], r"truncated|corrupt|IDX")


# -- image inputs ------------------------------------------------------------------------

def _image_commands(base, image, out):
    return {
        "denoise": ["denoise", image, "-m", base / "pixels.safetensors", "-o", out / "o.png"],
        "denoise-folder-out": ["denoise", image, "-m", base / "pixels.safetensors",
                               "--out-dir", out / "clean"],
        "denoise-mask": ["denoise", base / "digit.png", "--mask", image,
                         "-m", base / "pixels.safetensors", "-o", out / "o.png"],
        "noise": ["noise", image, "--kind", "gaussian", "--level", "0.2", "-o", out / "o.png"],
    }


IMAGE_COMMANDS = ["denoise", "denoise-folder-out", "denoise-mask", "noise"]


@pytest.mark.parametrize("command", IMAGE_COMMANDS)
@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_image(base, tmp_path, work, command, case):
    fname, content, words = BAD_IMAGES[case]
    image = _place(base, tmp_path, fname, content)
    check(base, tmp_path, _image_commands(base, image, work)[command], words)


@pytest.mark.parametrize("command", ["denoise", "noise", "denoise-mask"])
def test_image_folder(base, tmp_path, work, command):
    folder = tmp_path / "in" / "pictures"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("no pictures here")
    check(base, tmp_path, _image_commands(base, folder, work)[command],
          r"folder|directory|no images")


def test_folder_holding_a_broken_image_writes_nothing(base, tmp_path, work):
    folder = tmp_path / "in" / "pictures"
    folder.mkdir(parents=True)
    Image.fromarray(_digit_array()).save(folder / "a_good.png")
    (folder / "b_bad.png").write_bytes(truncated_png())
    check(base, tmp_path, ["denoise", folder, "-m", base / "pixels.safetensors",
                           "--out-dir", work / "clean"], r"b_bad.png")


@pytest.mark.parametrize("command", ["denoise", "noise"])
@pytest.mark.parametrize("case", list(ODD_IMAGES))
def test_odd_image_gives_a_valid_result_or_a_clean_error(base, tmp_path, work, command, case):
    image = tmp_path / "in" / f"{case}.png"
    image.parent.mkdir()
    ODD_IMAGES[case].save(image)
    before = snapshot(base, tmp_path / "in")
    r = invoke(_image_commands(base, image, work)[command])
    after = snapshot(base, tmp_path / "in")
    out = work / "o.png"
    if case in ("16-bit", "rgba", "palette"):  # ordinary pictures: they must work
        assert r.exit_code == 0, r.output
    if r.exit_code == 0:
        assert before == after
        with Image.open(out) as im:
            assert im.size == ODD_IMAGES[case].size and im.mode == "L"
    else:
        assert_clean_failure(r, r".", before, after)
        assert not out.exists() and list(work.iterdir()) == []


def test_mask_of_another_size(base, tmp_path, work):
    mask = tmp_path / "in" / "mask.png"
    mask.parent.mkdir()
    Image.new("L", (10, 10), 255).save(mask)
    check(base, tmp_path, _image_commands(base, mask, work)["denoise-mask"], r"10x10|size|mask")


def test_table_model_on_images(base, tmp_path, work):
    args = _image_commands(base, base / "digit.png", work)["denoise"]
    args[args.index("-m") + 1] = base / "table.safetensors"
    check(base, tmp_path, args, r"6 features|784|model of a table; denoise cleans digits")


# -- model files -------------------------------------------------------------------------

def _model_commands(base, model, out):
    return {
        "info": ["info", model],
        "detect": ["detect", base / "score.csv", "-m", model, "-o", out / "o.csv"],
        "encode": ["encode", base / "score.csv", "-m", model, "-o", out / "o.csv"],
        "impute": ["impute", base / "gaps.csv", "-m", model, "-o", out / "o.csv"],
        "denoise": ["denoise", base / "digit.png", "-m", model, "-o", out / "o.png"],
        "train-resume": ["train", "--resume", model, "-q", "-o", out / "m.safetensors"],
        "evaluate-denoise": ["evaluate", "denoise", "--model", model, "--data-dir",
                             base / "broken_mnist", "--limit", "5", "--picture", out / "g.png"],
        "evaluate-impute": ["evaluate", "impute", "--model", model, "--data-dir",
                            base / "broken_mnist", "--limit", "5", "--picture", out / "g.png"],
        "evaluate-reconstruction": ["evaluate", "reconstruction", "--model", model,
                                    "--data-dir", base / "broken_mnist"],
    }


MODEL_COMMANDS = list(_model_commands(Path("b"), Path("m"), Path("o")))


@pytest.mark.parametrize("command", MODEL_COMMANDS)
@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_bad_model_file(base, tmp_path, work, command, case, monkeypatch):
    fname, builder, words = BAD_MODELS[case]
    # `train --resume` reads checkpoints: its hostile files are made from one
    resume = command == "train-resume"
    monkeypatch.setitem(SOURCE, "name", "run.ckpt.safetensors" if resume else "table.safetensors")
    monkeypatch.setitem(SOURCE, "v1", "table.ckpt.safetensors" if resume
                        else "cli_table.safetensors")
    model = _place(base, tmp_path, fname, builder)
    check(base, tmp_path, _model_commands(base, model, work)[command], words)


@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_model_path_is_a_folder(base, tmp_path, work, command):
    folder = tmp_path / "in" / "model.safetensors"
    folder.mkdir(parents=True)
    check(base, tmp_path, _model_commands(base, folder, work)[command], r"folder|directory")


@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_csv_given_as_the_model(base, tmp_path, work, command):
    check(base, tmp_path, _model_commands(base, base / "table.csv", work)[command],
          r"not an aekit model|not a")


def test_resume_from_a_final_model_is_refused(base, tmp_path, work):
    check(base, tmp_path, ["train", "--resume", base / "table.safetensors", "-q",
                           "-o", work / "m.safetensors"], r"checkpoint")


# -- output paths ------------------------------------------------------------------------

def _output_commands(base, out):
    """Each command with its output option set to ``out`` (for any one output)."""
    m, p = base / "table.safetensors", base / "pixels.safetensors"
    return {
        "train": ["train", "--data", base / "table.csv", *TINY, "-o", out],
        "train-checkpoint": ["train", "--data", base / "table.csv", *TINY,
                             "--checkpoint", out, "-o", out.parent.parent / "m.safetensors"],
        "detect": ["detect", base / "score.csv", "-m", m, "-o", out],
        "encode": ["encode", base / "score.csv", "-m", m, "-o", out],
        "encode-plot": ["encode", base / "score.csv", "-m", m, "--plot", out],
        "impute": ["impute", base / "gaps.csv", "-m", m, "-o", out],
        "denoise": ["denoise", base / "digit.png", "-m", p, "-o", out],
        "noise": ["noise", base / "digit.png", "--kind", "masking", "--level", "0.1", "-o", out],
        "evaluate-denoise": ["evaluate", "denoise", "-m", p, "--limit", "5", "--picture", out],
        "evaluate-impute": ["evaluate", "impute", "-m", p, "--limit", "5", "--picture", out],
        "evaluate-oneclass": ["evaluate", "oneclass", "--digits", "1", "--roc", out],
        "evaluate-probe": ["evaluate", "probe", "--limit", "10", "--plot", out],
    }


OUTPUT_COMMANDS = list(_output_commands(Path("b"), Path("o/x")))


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_output_in_a_folder_that_does_not_exist(base, tmp_path, work, command):
    out = work / "no_such_folder" / "out.dat"
    check(base, tmp_path, _output_commands(base, out)[command], r"does not exist")


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_output_under_a_file_says_it_is_a_file(base, tmp_path, work, command):
    (work / "notes.txt").write_text("a file\n")
    out = work / "notes.txt" / "out.dat"
    check(base, tmp_path, _output_commands(base, out)[command], r"notes\.txt is a file")


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_output_is_an_existing_folder(base, tmp_path, work, command):
    out = work / "sub" / "a_folder"
    out.mkdir(parents=True)
    check(base, tmp_path, _output_commands(base, out)[command], r"folder|directory")


@pytest.mark.parametrize("command", ["train", "detect"])
@pytest.mark.parametrize("place", ["under a file", "a file"])
def test_a_report_folder_that_cannot_be_made_is_refused_before_any_work(base, tmp_path, work,
                                                                        command, place):
    """Found only after training or scoring, it left the model file or the scores beside
    the error (the check comes first now)."""
    (work / "notes.txt").write_text("a file\n")
    report = work / "notes.txt" / "report" if place == "under a file" else work / "notes.txt"
    args = _csv_commands(base, base / "score.csv", work)[command]
    args[args.index("--report") + 1] = report
    check(base, tmp_path, args, r"report folder|notes\.txt")


SAME_AS_INPUT = {  # command -> (args, the input the output names)
    "train-data": lambda b: ["train", "--data", b / "table.csv", *TINY, "-o", b / "table.csv"],
    "train-checkpoint-data": lambda b: ["train", "--data", b / "table.csv", *TINY,
                                        "--checkpoint", b / "table.csv", "-o", "m.safetensors"],
    "train-resume": lambda b: ["train", "--resume", b / "table.safetensors", "-q",
                               "-o", b / "table.safetensors"],
    "detect-data": lambda b: ["detect", b / "score.csv", "-m", b / "table.safetensors",
                              "-o", b / "score.csv"],
    "detect-model": lambda b: ["detect", b / "score.csv", "-m", b / "table.safetensors",
                               "-o", b / "table.safetensors"],
    "encode-data": lambda b: ["encode", b / "score.csv", "-m", b / "table.safetensors",
                              "-o", b / "score.csv"],
    "encode-model": lambda b: ["encode", b / "score.csv", "-m", b / "table.safetensors",
                               "-o", b / "table.safetensors"],
    "encode-plot-data": lambda b: ["encode", b / "score.csv", "-m", b / "table.safetensors",
                                   "--plot", b / "score.csv"],
    "impute-data": lambda b: ["impute", b / "gaps.csv", "-m", b / "table.safetensors",
                              "-o", b / "gaps.csv"],
    "impute-model": lambda b: ["impute", b / "gaps.csv", "-m", b / "table.safetensors",
                               "-o", b / "table.safetensors"],
    "denoise-image": lambda b: ["denoise", b / "digit.png", "-m", b / "pixels.safetensors",
                                "-o", b / "digit.png"],
    "denoise-model": lambda b: ["denoise", b / "digit.png", "-m", b / "pixels.safetensors",
                                "-o", b / "pixels.safetensors"],
    "denoise-mask": lambda b: ["denoise", b / "digit.png", "--mask", b / "digit.png",
                               "-m", b / "pixels.safetensors", "-o", b / "digit.png"],
    "noise-image": lambda b: ["noise", b / "digit.png", "--kind", "masking", "--level", "0.1",
                              "-o", b / "digit.png"],
    "evaluate-denoise-model": lambda b: ["evaluate", "denoise", "-m", b / "pixels.safetensors",
                                         "--limit", "5", "--picture", b / "pixels.safetensors"],
    "evaluate-impute-model": lambda b: ["evaluate", "impute", "-m", b / "pixels.safetensors",
                                        "--limit", "5", "--json", b / "pixels.safetensors"],
}


@pytest.mark.parametrize("command", list(SAME_AS_INPUT))
def test_output_equal_to_an_input(base, tmp_path, work, command):
    # on a copy: a command that did overwrite its input must not spoil the other cases
    copy = tmp_path / "copy"
    shutil.copytree(base, copy)
    check(copy, tmp_path, SAME_AS_INPUT[command](copy), r"input|model|different")


def test_output_equal_to_input_through_another_spelling(base, tmp_path, work, monkeypatch):
    monkeypatch.chdir(base)
    check(base, tmp_path, ["detect", "./score.csv", "-m", "table.safetensors",
                           "-o", base / "sub" / ".." / "score.csv"], r"input|does not exist")
    check(base, tmp_path, ["detect", "score.csv", "-m", "table.safetensors",
                           "-o", base / "score.csv"], r"input")


# -- damaged training checkpoints (`aekit train --resume`) -------------------------------

def _checkpoint_variant(change_doc=None, change_tensors=None):
    def build(base, path):
        from aekit.model_file import read_model_file

        doc, tensors = read_model_file(base / "run.ckpt.safetensors")
        doc, tensors = json.loads(json.dumps(doc)), dict(tensors)
        if change_doc:
            change_doc(doc)
        if change_tensors:
            change_tensors(tensors)
        _st(path, tensors, {"aekit": json.dumps(doc)})
    return build


def _optim_wrong_shape(tensors):
    name = sorted(k for k in tensors if k.startswith("train.optim.") and "exp_avg" in k)[0]
    tensors[name] = np.zeros((3, 3), np.float32)


def _optim_tensor(suffix, change):
    """Changes the first parameter's optimiser tensor ``suffix`` (None: drops it)."""
    def apply(tensors):
        name = sorted(k for k in tensors if k.startswith("train.optim.")
                      and k.endswith(f".{suffix}"))[0]
        if change is None:
            del tensors[name]
        else:
            tensors[name] = change(tensors[name])
    return apply


def _drop_first_parameters_state(tensors):
    for name in [k for k in tensors if k.startswith("train.optim.0.")]:
        del tensors[name]


BAD_CHECKPOINTS = {
    "history-not-a-dict": (_checkpoint_variant(_set(["training_state", "history"], [1])),
                           r"training_state.history"),
    "epoch-negative": (_checkpoint_variant(_set(["training_state", "epoch"], -1)), r"epoch"),
    "optimizer-groups-garbage": (_checkpoint_variant(
        _set(["training_state", "optimizer_param_groups"], [{"lr": "x"}, 5])),
        r"optimiser state holds another number of groups"),
    "optimizer-rate-garbage": (_checkpoint_variant(
        _set(["training_state", "optimizer_param_groups", 0, "lr"], "fast")),
        r"optimiser's rate"),
    "scheduler-best-garbage": (_checkpoint_variant(
        _set(["training_state", "scheduler", "best"], "low")), r"schedule's state"),
    "scheduler-epochs-negative": (_checkpoint_variant(
        _set(["training_state", "scheduler", "num_bad_epochs"], -2)),
        r"schedule's state"),
    "optimizer-state-wrong-shape": (_checkpoint_variant(change_tensors=_optim_wrong_shape),
                                    r"optimiser tensor \d+\.exp_avg"),
    "optimizer-step-of-3": (_checkpoint_variant(change_tensors=_optim_tensor(
        "step", lambda t: np.ones(3, np.float32))), r"optimiser tensor 0\.step"),
    "optimizer-step-negative": (_checkpoint_variant(change_tensors=_optim_tensor(
        "step", lambda t: np.array(-1, np.float32))), r"optimiser tensor 0\.step"),
    "optimizer-step-nan": (_checkpoint_variant(change_tensors=_optim_tensor(
        "step", lambda t: np.array(np.nan, np.float32))), r"optimiser tensor 0\.step"),
    "optimizer-moment-nan": (_checkpoint_variant(change_tensors=_optim_tensor(
        "exp_avg", lambda t: np.full_like(t, np.nan))), r"optimiser tensor 0\.exp_avg"),
    "optimizer-square-negative": (_checkpoint_variant(change_tensors=_optim_tensor(
        "exp_avg_sq", lambda t: -np.ones_like(t))), r"optimiser tensor 0\.exp_avg_sq"),
    "optimizer-moment-integers": (_checkpoint_variant(change_tensors=_optim_tensor(
        "exp_avg", lambda t: t.astype(np.int32))), r"optimiser tensor 0\.exp_avg"),
    "optimizer-moment-missing": (_checkpoint_variant(change_tensors=_optim_tensor(
        "exp_avg", None)), r"optimiser state of parameter 0"),
    "optimizer-state-of-a-parameter-missing": (_checkpoint_variant(
        change_tensors=_drop_first_parameters_state), r"not of every parameter"),
    "scheduler-more-bad-epochs-than-epochs": (_checkpoint_variant(
        _set(["training_state", "scheduler", "num_bad_epochs"], 10**400)), r"schedule's state"),
    "scheduler-best-minus-infinity": (_checkpoint_variant(
        _set(["training_state", "scheduler", "best"], -math.inf)), r"schedule's state"),
    "data-source-unknown": (_checkpoint_variant(_set(["data", "source"], "http://x")), r"data"),
    "data-digits-garbage": (_checkpoint_variant(_set(["data", "digits"], ["all"])), r"data"),
    "a-final-model": (lambda base, path: shutil.copy(base / "table.safetensors", path),
                      r"not a training checkpoint"),
}


@pytest.mark.parametrize("case", list(BAD_CHECKPOINTS))
def test_damaged_checkpoint(base, tmp_path, work, case):
    builder, words = BAD_CHECKPOINTS[case]
    ckpt = _place(base, tmp_path, "c.ckpt.safetensors", builder)
    check(base, tmp_path, ["train", "--resume", ckpt, "-q", "-o", work / "m.safetensors"], words)


def test_resume_when_the_data_changed_width(base, tmp_path, work):
    data = tmp_path / "in" / "t.csv"
    data.parent.mkdir()
    shutil.copy(base / "table.csv", data)

    def point_at_copy(doc):
        doc["data"]["path"] = str(data)
    ckpt = _place(base, tmp_path, "c.ckpt.safetensors", _checkpoint_variant(point_at_copy))
    data.write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9\n")
    check(base, tmp_path, ["train", "--resume", ckpt, "-q", "-o", work / "m.safetensors"],
          r"3 features.*6")


# -- the same commands with good inputs succeed (so the failures above are about the input) --

def test_good_inputs_work(base, tmp_path, work):
    for name, args in _model_commands(base, base / "table.safetensors", work).items():
        if name in ("denoise", "train-resume") or name.startswith("evaluate"):
            continue
        r = invoke(args)
        assert r.exit_code == 0, (name, r.output)
    r = invoke(_model_commands(base, base / "pixels.safetensors", work)["denoise"])
    assert r.exit_code == 0 and (work / "o.png").exists(), r.output
    # evaluate accepts the model and only then fails on the broken MNIST files
    for name in ("evaluate-denoise", "evaluate-impute", "evaluate-reconstruction"):
        r = invoke(_model_commands(base, base / "pixels.safetensors", work)[name])
        assert r.exit_code == 1 and "idx3-ubyte is truncated" in r.stderr, (name, r.output)
    ckpt = tmp_path / "run.ckpt.safetensors"
    shutil.copy(base / "run.ckpt.safetensors", ckpt)
    r = invoke(["train", "--resume", ckpt, "-q", "-o", work / "m.safetensors"])
    assert r.exit_code == 0 and (work / "m.safetensors").exists(), r.output
    for name, args in _csv_commands(base, base / "gaps.csv", work).items():
        if name == "impute":
            r = invoke(args)
            assert r.exit_code == 0, r.output
    for name, args in _image_commands(base, base / "digit.png", work).items():
        if name != "denoise-mask":
            r = invoke(args)
            assert r.exit_code == 0, (name, r.output)


# -- streaming outputs: a late failure or Ctrl-C leaves the previous output as it was ----

@pytest.fixture
def late_bad_row(tmp_path, monkeypatch):
    """1000 rows whose row 900 is bad, read in chunks of a few hundred rows."""
    import aekit.cli.encode as encode
    import aekit.table_detection as detection
    from aekit.tables.csv_table import CsvTable

    rng = np.random.RandomState(5)
    data = tmp_path / "in" / "late.csv"
    data.parent.mkdir()
    _csv(data, rng.normal(size=(1000, 6)))
    lines = data.read_text().splitlines()
    lines[900] = "1,2,oops,4,5,6"
    data.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(detection, "CELLS_PER_CHUNK", 6 * 256)
    monkeypatch.setattr(encode, "CHUNK_ROWS", 256)
    original_init = CsvTable.__init__

    def small_chunks(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.chunksize = min(self.chunksize, 256)

    monkeypatch.setattr(CsvTable, "__init__", small_chunks)
    return data


@pytest.mark.parametrize("command", ["detect", "encode", "impute"])
def test_a_bad_row_late_in_the_file_keeps_the_old_output(base, tmp_path, work, late_bad_row,
                                                         command):
    args = _csv_commands(base, late_bad_row, work)[command]
    if command == "impute":  # a gap in the first chunk, for impute to fill and write
        lines = late_bad_row.read_text().splitlines()
        lines[11] = "1,2,,4,5,6"
        late_bad_row.write_text("\n".join(lines) + "\n")
    (work / "o.csv").write_text("yesterday's results\n")
    check(base, tmp_path, args, r"line 901, column 'c' holds 'oops', not a number")
    assert (work / "o.csv").read_text() == "yesterday's results\n"


@pytest.mark.parametrize("command", ["detect", "encode", "impute"])
def test_ctrl_c_while_streaming_keeps_the_old_output(base, tmp_path, work, late_bad_row,
                                                     monkeypatch, command):
    from aekit.tables.csv_table import CsvTable

    lines = late_bad_row.read_text().splitlines()
    lines[900] = "1,2,3,4,5,6"  # a good file: Ctrl-C is what stops it
    late_bad_row.write_text("\n".join(lines) + "\n")
    original, served = CsvTable.chunks, []

    def interrupted_after_two_chunks(self):
        for chunk in original(self):
            if len(served) == 2:
                raise KeyboardInterrupt
            served.append(chunk)
            yield chunk

    monkeypatch.setattr(CsvTable, "chunks", interrupted_after_two_chunks)
    (work / "o.csv").write_text("yesterday's results\n")
    before = snapshot(base, tmp_path)
    r = invoke(_csv_commands(base, late_bad_row, work)[command])
    assert r.exit_code == 130 and "Traceback" not in r.output and len(served) == 2, r.output
    assert snapshot(base, tmp_path) == before


# -- reproducible: the same seed on the same machine gives the same model -----------------

def _tensors(path):
    from aekit.model_file import read_model_file

    return read_model_file(path)[1]


def test_train_same_seed_same_model_file_tensors(base, work):
    args = ["train", "--data", base / "table.csv", "--hidden", "8", "--code-size", "2",
            "--epochs", "3", "--batch-size", "16", "--dropout", "0.2", "--noise",
            "gaussian:0.3", "--device", "cpu", "-q"]
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        r = invoke([*args, "--seed", seed, "-o", work / f"{name}.safetensors"])
        assert r.exit_code == 0, r.output
    a, b, c = (_tensors(work / f"{n}.safetensors") for n in "abc")
    assert a.keys() == b.keys() == c.keys() and any(k.startswith("net.") for k in a)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert any(not np.array_equal(a[k], c[k]) for k in a)  # the seed matters


@pytest.mark.parametrize("command", CSV_COMMANDS)
@pytest.mark.parametrize("stdin, words", [("", r"stdin is empty"),
                                          (_header(), r"stdin has a header but no data"),
                                          (_header() + "1,2,3,4,5,6\n1,2,x,4,5,6\n",
                                           r"stdin: line 3, column 'c' holds 'x', not a number")])
def test_bad_csv_on_stdin(base, tmp_path, work, command, stdin, words):
    args = _csv_commands(base, "-", work)[command]
    before = snapshot(base, tmp_path)
    r = CliRunner().invoke(cli, [str(a) for a in args], input=stdin)
    assert_clean_failure(r, words, before, snapshot(base, tmp_path))


def test_a_model_trained_on_a_gpu_loads_without_one(base, tmp_path, work):
    """The stored device parameter is a record of training, not a requirement to load."""
    model = _place(base, tmp_path, "gpu.safetensors", _hostile(_set(["params", "device"], "cuda:3")))
    r = invoke(["detect", base / "score.csv", "-m", model, "--device", "cpu",
                "-o", work / "o.csv"])
    assert r.exit_code == 0, r.output
    assert len((work / "o.csv").read_text().splitlines()) == 21


@pytest.mark.parametrize("command,model,words", [
    ("detect", "mnist-vae", "a variational autoencoder (a generative model): it scores no rows"),
    ("detect", "photo-denoiser", "a photo denoiser: it scores no rows"),
    ("impute", "mnist-vae", "a variational autoencoder (a generative model); impute fills"),
    ("impute", "photo-denoiser", "a photo denoiser; impute fills tables"),
    ("encode", "photo-denoiser", "a photo denoiser; encode gives rows' codes")])
def test_a_model_of_another_job_is_refused_in_one_line(tmp_path, command, model, words):
    """A generative model or a photo denoiser given to a command for rows failed with
    Python's AttributeError ('VAENet' object has no attribute 'reconstruct')."""
    rows = Path(__file__).resolve().parents[1] / "samples" / "mnist_rows.csv"
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(cli, [command, str(rows), "-m", model, "--label-column", "anomaly",
                                 "-o", str(out)])
    assert r.exit_code == 1 and r.output.startswith(f"Error: {model} is {words}")
    assert r.output.count("\n") == 1, r.output
    assert not out.exists()


@pytest.mark.parametrize("command", [["denoise", "NOISY", "-o", "OUT"],
                                     ["evaluate", "denoise", "--picture", "OUT"],
                                     ["evaluate", "impute", "--picture", "OUT"],
                                     ["evaluate", "reconstruction"]])
def test_the_digit_commands_refuse_a_model_of_another_job_in_one_line(tmp_path, command):
    """denoise and the evaluate commands for digits failed with Python's AttributeError
    ('VariationalAutoencoder' object has no attribute 'reconstruct') when given a VAE,
    the photo denoiser, a table's detector or an autoencoder of a table."""
    from aekit import Autoencoder

    Autoencoder(epochs=1, objective="reconstruction", random_state=0, device="cpu").fit(
        np.random.RandomState(0).rand(50, 5)).save(tmp_path / "table.safetensors")
    noisy = Path(__file__).resolve().parents[1] / "samples" / "noisy_7.png"
    out = tmp_path / "out.png"
    args = [str(noisy) if a == "NOISY" else str(out) if a == "OUT" else a for a in command]
    for model, words in (("mnist-vae", "is a variational autoencoder (a generative model); "),
                         ("photo-denoiser", "is a photo denoiser; "),
                         (str(tmp_path / "table.safetensors"),
                          "is a model of 5 features, not of 28x28 digits; ")):
        if model == "photo-denoiser" and command[0] == "denoise":
            continue  # denoise's other model: for photos
        r = CliRunner().invoke(cli, args + ["-m", model])
        assert r.exit_code == 1 and r.output.startswith(f"Error: {model} {words}"), r.output
        assert r.output.count("\n") == 1, r.output
        assert not out.exists()


def test_evaluate_reconstruction_refuses_a_digit_model_without_a_code(tmp_path):
    """A PCA detector of digits has no network whose code protocol R measures (the other
    digit commands take it, as they did)."""
    from aekit import AnomalyDetector

    AnomalyDetector(method="pca", n_components=5).fit(
        np.random.RandomState(0).rand(60, 784)).save(tmp_path / "pca.safetensors")
    r = CliRunner().invoke(cli, ["evaluate", "reconstruction", "-m",
                                 str(tmp_path / "pca.safetensors")])
    assert r.exit_code == 1 and r.output == (
        f"Error: {tmp_path / 'pca.safetensors'} is a PCA model, not a reconstruction "
        "autoencoder; evaluate reconstruction measures one (aekit train)\n"), r.output


@pytest.mark.parametrize("args,k", [(["--code-size", "30"], 30), (["-m", "mnist-denoiser"], 128)])
def test_evaluate_reconstruction_refuses_a_limit_below_the_code_size(args, k):
    """PCA at the code size needs as many images: sklearn's n_components error came out."""
    r = CliRunner().invoke(cli, ["evaluate", "reconstruction", "--limit", "10", *args])
    assert r.exit_code == 2 and r.output.startswith(
        f"Error: --limit 10 leaves fewer images than the {k} components PCA is compared at"), \
        r.output


def test_sigterm_removes_the_half_written_output_as_ctrl_c_does(tmp_path):
    """`timeout` and job schedulers stop a command with SIGTERM, whose default stopped
    Python at once and left the temporary file of the output half-written."""
    import signal
    import subprocess
    import sys
    import time

    from aekit import Autoencoder

    rng = np.random.RandomState(0)
    Autoencoder(epochs=1, random_state=0, device="cpu").fit(rng.normal(size=(100, 3))) \
        .save(tmp_path / "m.safetensors")
    np.savetxt(tmp_path / "big.csv", rng.normal(size=(400_000, 3)), delimiter=",",
               header="a,b,c", comments="", fmt="%.4f")
    out = tmp_path / "out"
    out.mkdir()
    p = subprocess.Popen([sys.executable, "-m", "aekit", "encode", str(tmp_path / "big.csv"),
                          "-m", str(tmp_path / "m.safetensors"), "-o", str(out / "codes.csv"),
                          "-q"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not list(out.iterdir()) and p.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # until the temporary output exists
    assert p.poll() is None, "encode ended before it could be stopped"
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143 and err.strip() == "Terminated.", err
    assert not list(out.iterdir())


def _seed_options(group, path=()):
    """(command path, its --seed option) for every command of the CLI that has one (the
    commands are loaded lazily: listed, then got by name)."""
    import click

    for name in group.list_commands(None):
        command = group.get_command(None, name)
        if isinstance(command, click.Group):
            yield from _seed_options(command, (*path, name))
        else:
            yield from (((*path, name), p) for p in command.params if p.name == "seed")


def test_every_seed_option_takes_the_seeds_numpy_takes():
    from aekit.cli.options import SEED

    found = dict(_seed_options(cli))
    assert len(found) >= 9, sorted(found)
    assert {path: opt.type for path, opt in found.items() if opt.type is not SEED} == {}


@pytest.mark.parametrize("seed", ["-1", str(2**32), "99999999999999999999"])
def test_a_seed_out_of_range_is_refused_naming_the_flag(tmp_path, seed):
    r = CliRunner().invoke(cli, ["noise", "samples/noisy_7.png", "--seed", seed,
                                 "-o", str(tmp_path / "n.png")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"Invalid value for '--seed': {seed} is not in the range 0<=x<=4294967295" \
        in r.output
    assert not (tmp_path / "n.png").exists()


def test_a_limit_of_one_training_row_is_refused_naming_the_flag(tmp_path):
    r = CliRunner().invoke(cli, ["train", "--limit", "1", "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 2 and "Invalid value for '--limit': 1 is not in the range x>=2" \
        in r.output
    assert not (tmp_path / "m.safetensors").exists()


def test_the_pca_baseline_after_training_names_the_components_it_had():
    from aekit import Autoencoder
    from aekit.evaluation.after_training import evaluation_of

    rng = np.random.RandomState(0)
    X, X_test = rng.rand(5, 20).astype(np.float32), rng.rand(30, 20).astype(np.float32)
    est = Autoencoder(hidden=(8,), code_size=8, epochs=1, device="cpu").fit(X)
    figures, line = evaluation_of(est, X, X_test)
    assert figures["pca_components"] == 5 and "(PCA with 5 components:" in line


def test_probe_sizes_beyond_the_limit_are_refused_before_any_work(tmp_path):
    r = CliRunner().invoke(cli, ["evaluate", "probe", "--limit", "10", "--epochs", "1", "-q",
                                 "--plot", str(tmp_path / "p.png")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "--sizes 32 needs at least 32 training images; --limit gives 10" in r.output
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("command", ["detect", "encode", "impute"])
def test_a_detectors_checkpoint_given_as_a_model_says_what_it_is(base, tmp_path, command):
    ckpt = base / "run.ckpt.safetensors"
    r = CliRunner().invoke(cli, [command, str(base / "score.csv"), "-m", str(ckpt),
                                 "-o", str(tmp_path / "out.csv")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr.strip().splitlines()[-1] == (
        f"Error: {ckpt} is the checkpoint of an unfinished fit, whose detector has no "
        "threshold yet: finish the fit from it (--resume), or use the finished model")
    assert not (tmp_path / "out.csv").exists()


def test_a_model_named_for_another_format_is_refused_before_training(base, tmp_path):
    r = CliRunner().invoke(cli, ["train", "--data", str(base / "table.csv"), *TINY,
                                 "-o", str(tmp_path / "model.png")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{tmp_path / 'model.png'}: aekit writes model files (.safetensors), not .png " \
        "files" in r.stderr
    assert not list(tmp_path.iterdir())


def test_images_smaller_than_the_patches_name_the_flag_to_lower(tmp_path):
    for i in range(3):
        Image.fromarray(np.random.RandomState(i).randint(0, 256, (20, 20), dtype=np.uint8)) \
            .save(tmp_path / f"{i}.png")
    r = CliRunner().invoke(cli, ["train", "--images", str(tmp_path), "--epochs", "1",
                                 "--device", "cpu", "-o", str(tmp_path / "p.safetensors")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr.strip().splitlines()[-1] == \
        "Error: no image is at least 48x48 pixels: lower --patch-size"
    assert not (tmp_path / "p.safetensors").exists()


def test_an_infinite_noise_level_is_refused_as_not_finite(tmp_path):
    r = CliRunner().invoke(cli, ["noise", "samples/noisy_7.png", "--kind", "gaussian",
                                 "--level", "inf", "-o", str(tmp_path / "n.png")])
    assert r.exit_code == 2 and "must be a finite number >= 0" in r.output
