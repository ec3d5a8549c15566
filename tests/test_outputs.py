"""Outputs that are not regular files (a FIFO, /dev/null, a shell's >(...)) are written in
place, by every command that writes: never replaced by a renamed temporary file."""

import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from aekit.cli import cli

ROOT = Path(__file__).resolve().parents[1]
TABLE = ["--hidden", "8", "--code-size", "2", "--epochs", "1", "--device", "cpu", "-q"]


class FifoReader:
    """A FIFO at ``path`` and a thread reading everything written to it."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.data = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        with open(self.path, "rb") as f:
            self.data = f.read()

    def finish(self):
        self.thread.join(timeout=5)
        if self.thread.is_alive():  # nothing opened it for writing: unblock the reader
            try:  # never blocking: the reader may end between the check and the open
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        self.thread.join(timeout=30)
        return self.data


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("outputs")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 2)) @ rng.normal(size=(2, 4))
    pd.DataFrame(X, columns=list("abcd")).to_csv(d / "t.csv", index=False)
    gaps = pd.DataFrame(X[:10], columns=list("abcd"))
    gaps.iloc[2, 1] = np.nan
    gaps.to_csv(d / "gaps.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(d / "t.csv"), *TABLE,
                                 "-o", str(d / "m.safetensors")])
    assert r.exit_code == 0, r.output
    return d


def _commands(d, out):
    digit = ROOT / "samples" / "noisy_7.png"
    return {
        "detect": ["detect", d / "t.csv", "-m", d / "m.safetensors", "-o", out],
        "detect-parquet": ["detect", d / "t.csv", "-m", d / "m.safetensors", "-o",
                           out.with_suffix(".parquet")],
        "encode": ["encode", d / "t.csv", "-m", d / "m.safetensors", "-o", out],
        "encode-plot": ["encode", d / "t.csv", "-m", d / "m.safetensors", "-o",
                        d / "codes.csv", "--plot", out],
        "impute": ["impute", d / "gaps.csv", "-m", d / "m.safetensors", "-o", out],
        "train": ["train", "--data", d / "t.csv", *TABLE, "-o", out,
                  "--checkpoint", d / "c.ckpt.safetensors"],
        "denoise": ["denoise", digit, "-o", out],
        "noise": ["noise", digit, "--kind", "masking", "--level", "0.2", "-o", out],
        "evaluate-json": ["evaluate", "oneclass", "--digits", "1", "--limit", "50", "--epochs",
                          "1", "--no-pca", "--device", "cpu", "--roc", d / "roc.png",
                          "--json", out],
        "evaluate-picture": ["evaluate", "denoise", "--limit", "20", "--train-limit", "200",
                             "--noise", "gaussian:0.5", "--picture", out],
    }


COMMANDS = list(_commands(Path("d"), Path("o")))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_fifo_output_is_written_in_place(files, tmp_path, command, mnist_dir, monkeypatch):
    monkeypatch.setenv("AEKIT_DATA", str(mnist_dir))
    out = tmp_path / "out.fifo"
    args = _commands(files, out)[command]
    target = Path(args[args.index("-o") + 1] if command not in (
        "encode-plot", "evaluate-json", "evaluate-picture") else out)
    reader = FifoReader(target)
    r = CliRunner().invoke(cli, [str(a) for a in args])
    data = reader.finish()
    assert r.exit_code == 0, r.output
    assert stat.S_ISFIFO(os.stat(target).st_mode), "the FIFO was replaced"
    assert len(data) > 50
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary file


def test_process_substitution_gets_every_row(files):
    """`-o >(wc -l)`: /dev/fd/N is a pipe, written in place."""
    if not shutil.which("bash"):
        pytest.skip("no bash")
    cmd = (f"{sys.executable} -m aekit detect {files / 't.csv'} -m {files / 'm.safetensors'} "
           "-q -o >(wc -l > {out}); wait")
    out = files / "count.txt"
    subprocess.run(["bash", "-c", cmd.replace("{out}", str(out))], check=True, timeout=120)
    for _ in range(100):
        if out.exists() and out.read_text().strip():
            break
        __import__("time").sleep(0.05)
    assert out.read_text().strip() == "121"  # the header and 120 rows


def test_a_device_is_written_in_place_and_never_renamed():
    from aekit.atomic import atomic_path, is_special

    assert is_special("/dev/null") and not is_special(__file__) and not is_special("/nope")
    with atomic_path("/dev/null") as target:
        assert str(target) == "/dev/null"
        Path(target).write_bytes(b"discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
