"""Every example in README.md and in the commands' --help texts still works, so that none
can drift from the code: each command line is parsed by the command it names (options and
values as the command has them now), the quick ones are run for real, and README's Python
blocks are run on a slice of MNIST."""

import re
import shlex
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

import aekit
from aekit.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def readme_commands():
    """The `$ aekit ...` lines of README's console blocks (continuation lines joined)."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("$ aekit "):
                out.append(line[2:].split("  #")[0].strip())
    return out


def help_examples():
    """The example lines of every command's --help (top level and `aekit evaluate`)."""
    out = []
    groups = [(name, cli.get_command(None, name)) for name in COMMANDS]
    evaluate = cli.get_command(None, "evaluate")
    groups += [(f"evaluate {n}", evaluate.get_command(None, n))
               for n in evaluate.list_commands(None)]
    texts = [cli.help] + [cmd.help or "" for _, cmd in groups]
    for text in texts:
        for line in text.replace("\\\n", " ").replace("\\\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("aekit ") or line.startswith("cat "):
                out.append(line.split("  #")[0].split(" > ")[0].split("| ")[-1].strip())
    return out


EXAMPLES = readme_commands() + help_examples()


def test_examples_were_found():
    assert len(readme_commands()) >= 12 and len(help_examples()) >= 20
    assert "aekit detect samples/mnist_rows.csv --label-column anomaly" in \
        " ".join(help_examples())


def _parse(args):
    """Parse ``args`` as the command they name would (nothing runs)."""
    cmd, ctx_args = cli, list(args)
    ctx = cli.make_context("aekit", list(args), resilient_parsing=False)
    while isinstance(cmd, click.Group):
        name, cmd, ctx_args = cmd.resolve_command(ctx, ctx_args)
        ctx = cmd.make_context(name, ctx_args, parent=ctx)
    return ctx


OUTPUT_OPTIONS = {"-o", "--output", "--plot", "--report", "--checkpoint", "--out-dir", "--roc",
                  "--picture", "--json"}


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_parses(example, tmp_path, monkeypatch):
    """Options and values as the command has them now. Input files an example takes as
    given are made (empty) in a scratch folder; samples/ is the repository's."""
    tmp_path = tmp_path / "cwd"
    tmp_path.mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    args = shlex.split(example)[1:]
    for before, a in zip([None] + args, args):
        if before in OUTPUT_OPTIONS or a.startswith("samples/"):
            continue
        if a.endswith("/") or ("/" in a and not Path(a).suffix and not a.startswith("-")):
            (tmp_path / a).mkdir(parents=True, exist_ok=True)  # a folder it reads
        elif re.search(r"\.(csv|png|safetensors)$", a):
            (tmp_path / a).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / a).write_text("x\n")
    _parse(args)


QUICK = [  # README's first steps: run for real, on the samples and bundled models
    "aekit denoise samples/noisy_7.png --side-by-side -o docs/noisy_7.side.png",
    "aekit detect samples/mnist_rows.csv --label-column anomaly -o scores.csv --report docs/detect",
    "aekit train --data samples/transactions.csv --label-column is_fraud -o tx.safetensors",
    "aekit detect samples/transactions.csv --model tx.safetensors --label-column is_fraud "
    "--contamination 0.03 --explain 2 -o tx_scores.csv",
    "aekit info mnist-denoiser",
    "aekit models",
]


def test_readme_first_steps_run(tmp_path, monkeypatch):
    assert all(q in readme_commands() for q in QUICK[:4])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    (tmp_path / "docs").mkdir()
    for line in QUICK:
        r = CliRunner().invoke(cli, shlex.split(line)[1:])
        assert r.exit_code == 0, (line, r.output)
    assert (tmp_path / "docs" / "noisy_7.side.png").exists()
    assert (tmp_path / "docs" / "detect" / "roc.png").exists()
    out = (tmp_path / "tx_scores.csv").read_text().splitlines()
    assert out[0].startswith("is_fraud,anomaly_score,is_anomaly,top1_feature") and len(out) == 501


@pytest.fixture
def small_mnist(monkeypatch, mnist_small):
    X, y, Xt, yt = mnist_small
    data = {"train": (X[:600], y[:600]), "test": (Xt[:200], yt[:200])}
    monkeypatch.setattr(aekit, "load_mnist", lambda split="train", **kw: data[split])
    return data


def test_readme_python_blocks_run(small_mnist, monkeypatch):
    """README's library examples, as written and in order, on 600 training images (epochs
    cut to 3 so that the suite stays short: the code paths are the same)."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    monkeypatch.setattr(aekit.Autoencoder, "__init__", _with_epochs(aekit.Autoencoder.__init__))
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["codes"].shape[0] == 200


def _with_epochs(init):
    def patched(self, **kw):
        init(self, **{**kw, "epochs": min(kw.get("epochs", 3), 3)})
    patched.__signature__ = __import__("inspect").signature(init)
    return patched


def test_help_examples_cover_every_command():
    named = {shlex.split(e)[1] for e in help_examples() if e.startswith("aekit ")}
    assert {"train", "denoise", "detect", "encode", "impute", "noise", "evaluate"} <= named
    assert np.all([len(e) < 200 for e in EXAMPLES])
