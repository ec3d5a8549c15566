"""Model files never run code: a pickle posing as a model is refused without being unpickled.

The payload's ``__reduce__`` writes a marker file when unpickled. Every way aekit
reads a model (the library's ``aekit.load``, ``aekit info``, ``detect``,
``denoise``, ``encode``, ``impute``, ``train --resume``) must refuse it with a
one-line error while the marker never appears.
"""

import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

import aekit
from aekit.cli import cli
from aekit.errors import ModelFileError


class Payload:
    """Unpickling this runs ``exec``: it creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('unpickled')",))


def pickle_bytes(marker, protocol):
    return pickle.dumps(Payload(marker), protocol=protocol)


def torch_zip_bytes(marker):
    """What ``torch.save`` writes: a zip archive holding the pickle (data.pkl)."""
    import torch

    buf = io.BytesIO()
    torch.save({"state_dict": Payload(marker)}, buf)
    return buf.getvalue()


EXTENSIONS = [".safetensors", ".pt", ".pkl"]
KINDS = ["protocol-0", "protocol-2", "protocol-5", "torch-zip"]


def payload(tmp_path, kind, ext):
    marker = tmp_path / f"marker-{kind}{ext}"
    data = torch_zip_bytes(marker) if kind == "torch-zip" else \
        pickle_bytes(marker, int(kind.split("-")[1]))
    path = tmp_path / f"model-{kind}{ext}"
    path.write_bytes(data)
    return path, marker


def test_the_payload_really_runs_code_when_unpickled(tmp_path):
    """The control: without aekit's refusal the marker would appear."""
    for protocol in (0, 2, 5):
        marker = tmp_path / f"control-{protocol}"
        pickle.loads(pickle_bytes(marker, protocol))
        assert marker.exists()
    import torch

    marker = tmp_path / "control-zip"
    torch.load(io.BytesIO(torch_zip_bytes(marker)), weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("ext", EXTENSIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_load_refuses_a_pickle_without_unpickling_it(tmp_path, kind, ext):
    path, marker = payload(tmp_path, kind, ext)
    with pytest.raises(ModelFileError) as e:
        aekit.load(path)
    assert not marker.exists()
    message = str(e.value)
    assert "\n" not in message and str(path) in message
    if kind == "torch-zip":
        assert "zip" in message
    else:
        assert "pickle" in message and "never unpickles" in message


def _commands(path, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n3,4\n")
    image = tmp_path / "d.png"
    from PIL import Image

    Image.fromarray(np.zeros((28, 28), np.uint8)).save(image)
    out = tmp_path / "out"
    return {
        "info": ["info", path],
        "detect": ["detect", table, "--model", path, "-o", f"{out}.csv"],
        "denoise": ["denoise", image, "--model", path, "-o", f"{out}.png"],
        "encode": ["encode", table, "--model", path, "-o", f"{out}.csv"],
        "impute": ["impute", table, "--model", path, "-o", f"{out}.csv"],
        "train-resume": ["train", "--resume", path, "-o", f"{out}.safetensors"],
    }


@pytest.mark.parametrize("command", ["info", "detect", "denoise", "encode", "impute",
                                     "train-resume"])
@pytest.mark.parametrize("ext", EXTENSIONS)
def test_commands_refuse_a_pickle_model(tmp_path, command, ext):
    for kind in KINDS:
        path, marker = payload(tmp_path, kind, ext)
        args = [str(a) for a in _commands(path, tmp_path)[command]]
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 1, r.output
        assert not marker.exists(), (kind, r.output)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "not an aekit model" in lines[0], r.stderr
        assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".out*"))


def test_a_real_process_refuses_a_pickle_model(tmp_path):
    """The installed entry point, not only the in-process runner."""
    path, marker = payload(tmp_path, "protocol-5", ".safetensors")
    r = subprocess.run([sys.executable, "-m", "aekit", "info", str(path)], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "AEKIT_DEBUG": ""})
    assert r.returncode == 1 and not marker.exists()
    assert r.stderr.count("\n") == 1 and "pickle" in r.stderr and "Traceback" not in r.stderr


def test_valid_files_load_with_pickle_and_torch_load_disabled(tmp_path, monkeypatch):
    """Loading a real model touches neither pickle nor torch.load, whatever the extension."""
    import torch

    from aekit import AnomalyDetector, Autoencoder

    X = np.random.RandomState(0).rand(64, 6)
    ae = Autoencoder(hidden=(8,), code_size=2, epochs=1, device="cpu", random_state=0).fit(X)
    det = AnomalyDetector(method="pca").fit(X)
    paths = [ae.save(tmp_path / "ae.pt"), det.save(tmp_path / "det.pkl")]

    def forbidden(*a, **k):
        raise AssertionError("a model file was read with pickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    assert aekit.load(paths[0]).transform(X).shape == (64, 2)
    assert aekit.load(paths[1]).predict(X).shape == (64,)
    r = CliRunner().invoke(cli, ["info", str(paths[0])])
    assert r.exit_code == 0 and "estimator: Autoencoder" in r.output


def _small_model_file(tmp_path):
    """(X, path, metadata document, tensors) of a tiny fitted Autoencoder."""
    from aekit.model_file import read_model_file

    X = np.random.RandomState(0).rand(32, 4)
    good = aekit.Autoencoder(hidden=(4,), code_size=2, epochs=1, device="cpu",
                             random_state=0).fit(X).save(tmp_path / "good.safetensors")
    return (X, good, *read_model_file(good))


def test_a_pickle_hidden_in_the_metadata_stays_a_string(tmp_path):
    """Metadata is JSON read with json.loads: a pickle inside is data, never code."""
    import base64
    import json

    from safetensors.numpy import save_file

    X, good, doc, tensors = _small_model_file(tmp_path)
    marker = tmp_path / "marker"
    doc["summary"]["note"] = base64.b64encode(pickle_bytes(marker, 5)).decode()
    path = tmp_path / "sneaky.safetensors"
    save_file(dict(tensors), str(path), metadata={"aekit": json.dumps(doc)})
    est = aekit.load(path)
    assert isinstance(est.training_summary_["note"], str) and not marker.exists()


def test_zip_archives_and_other_formats_are_named(tmp_path):
    path = tmp_path / "weights.safetensors"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x05N.")
    with pytest.raises(ModelFileError, match="zip"):
        aekit.load(path)


def test_a_safetensors_header_length_starting_with_a_pickle_opcode_still_loads(tmp_path):
    """A header length whose first byte is 0x80 (pickle's PROTO) is a safetensors file."""
    import json

    from safetensors.numpy import save_file

    X, good, doc, tensors = _small_model_file(tmp_path)
    path = tmp_path / "padded.safetensors"
    for pad in range(400):
        doc["summary"]["pad"] = "x" * pad
        save_file(dict(tensors), str(path), metadata={"aekit": json.dumps(doc)})
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    np.testing.assert_array_equal(aekit.load(path).transform(X), aekit.load(good).transform(X))
