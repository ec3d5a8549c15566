"""Model files of format version 1 (aekit 0.1) still load, and give the numbers 0.1 gave;
so do files of format 2 that `aekit train` wrote as autoencoders, now as detectors.

The files and their releases' outputs are in tests/data/v1 and tests/data/v2 (see their
READMEs); the bundled models are format-1 files too.
"""

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import aekit
from aekit.cli import cli
from aekit.model_file import read_model_file

V1 = Path(__file__).parent / "data" / "v1"
V2 = Path(__file__).parent / "data" / "v2"
EXPECTED = json.loads((V1 / "expected.json").read_text())
EXPECTED_V2 = json.loads((V2 / "expected.json").read_text())
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(V1 / "table.csv")


def test_the_fixtures_are_format_1_files():
    from safetensors import safe_open

    for name in ("autoencoder", "denoiser", "detector", "pca_detector", "cli_table",
                 "table.ckpt"):
        with safe_open(str(V1 / f"{name}.safetensors"), framework="numpy") as f:
            assert json.loads(f.metadata()["aekit"])["format_version"] == 1, name


def test_estimators_of_format_1_give_the_same_numbers(table):
    first = table.iloc[:20]
    ae = aekit.load(V1 / "autoencoder.safetensors", device="cpu")
    np.testing.assert_allclose(ae.transform(first), EXPECTED["autoencoder_transform"],
                               rtol=1e-5, atol=1e-6)
    assert list(ae.feature_names_in_) == list(table.columns)
    det = aekit.load(V1 / "detector.safetensors", device="cpu")
    np.testing.assert_allclose(det.anomaly_score(first), EXPECTED["detector_anomaly_score"],
                               rtol=1e-5)
    pca = aekit.load(V1 / "pca_detector.safetensors", device="cpu")
    np.testing.assert_allclose(pca.anomaly_score(first), EXPECTED["pca_detector_anomaly_score"],
                               rtol=1e-6)
    dae = aekit.load(V1 / "denoiser.safetensors", device="cpu")
    U = np.asarray(EXPECTED["denoiser_reconstruct_input"], dtype=np.float32)
    np.testing.assert_allclose(dae.reconstruct(U), EXPECTED["denoiser_reconstruct"],
                               rtol=1e-5, atol=1e-6)
    cli_model = aekit.load(V1 / "cli_table.safetensors", device="cpu")
    assert isinstance(cli_model, aekit.AnomalyDetector)  # `aekit train --data` made a detector
    np.testing.assert_allclose(cli_model.as_autoencoder().transform(first.to_numpy()),
                               EXPECTED["cli_table_transform"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["cli_table", "cli_digits"])
def test_format_2_models_trained_as_detectors_load_as_detectors(name, table, mnist_dir):
    """`aekit train --data` and `--digits` wrote autoencoders before; they load as the
    detectors they were trained to be, at the default contamination's threshold, scoring
    as before, and encode as before."""
    from aekit.datasets import load_mnist

    assert read_model_file(V2 / f"{name}.safetensors")[0]["estimator"] == "Autoencoder"
    det = aekit.load(V2 / f"{name}.safetensors", device="cpu")
    assert isinstance(det, aekit.AnomalyDetector)
    X = table.head(20) if name == "cli_table" else load_mnist("test", root=mnist_dir)[0][:20]
    np.testing.assert_allclose(det.anomaly_score(X), EXPECTED_V2[f"{name}_anomaly_score"],
                               rtol=1e-5)
    assert det.threshold_ == pytest.approx(EXPECTED_V2[f"{name}_threshold"], rel=1e-9)
    assert det.predict(X).shape == (20,)
    if name == "cli_digits":
        np.testing.assert_allclose(det.as_autoencoder().transform(X[:3]),
                                   EXPECTED_V2["cli_digits_codes"], rtol=1e-5, atol=1e-6)


def test_encode_and_impute_take_a_format_2_detector(tmp_path, table):
    data = tmp_path / "gaps.csv"
    gaps = table.head(30).copy()
    gaps.iloc[3, 2] = np.nan
    gaps.to_csv(data, index=False)
    model = str(V2 / "cli_table.safetensors")
    r = CliRunner().invoke(cli, ["encode", str(data), "-m", model, "-q", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("code_0,")
    r = CliRunner().invoke(cli, ["impute", str(data), "-m", model, "-o", str(tmp_path / "f.csv"),
                                 "-q", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    filled = pd.read_csv(tmp_path / "f.csv")
    assert filled.notna().all().all() and len(filled) == 30


def test_detect_with_a_format_1_model_writes_what_0_1_wrote(tmp_path, table):
    data = tmp_path / "first20.csv"
    table.iloc[:20].to_csv(data, index=False)
    r = CliRunner().invoke(cli, ["detect", str(data), "-m", str(V1 / "cli_table.safetensors"),
                                 "--device", "cpu", "-q"])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(io.StringIO(r.stdout))
    want = pd.read_csv(io.StringIO(EXPECTED["cli_table_detect_csv"]))
    np.testing.assert_allclose(got["anomaly_score"], want["anomaly_score"], rtol=1e-5)
    assert got["is_anomaly"].tolist() == want["is_anomaly"].tolist()


def test_the_bundled_format_1_detector_scores_as_before():
    assert read_model_file(ROOT / "aekit" / "pretrained" / "mnist-detector.safetensors")[0][
        "format_version"] == 1
    r = CliRunner().invoke(cli, ["detect", str(ROOT / "samples" / "mnist_rows.csv"),
                                 "--label-column", "anomaly", "--device", "cpu", "-q"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()[:6]
    want = EXPECTED["bundled_detector_mnist_rows_first5"]
    assert len(want) == 6 and lines[0] == want[0] == "anomaly,anomaly_score,is_anomaly"
    for a, b in zip(lines[1:], want[1:]):
        (la, sa, fa), (lb, sb, fb) = a.split(","), b.split(",")
        assert (la, fa) == (lb, fb) and float(sa) == pytest.approx(float(sb), rel=1e-4)


def test_numpy_and_torch_score_a_format_1_detector_alike(table):
    from aekit.scorer import Scorer

    numpy_detector = Scorer(V1 / "detector.safetensors", device="cpu")
    assert not numpy_detector.uses_torch
    X = table.to_numpy(np.float32)[:20]
    np.testing.assert_allclose(numpy_detector.anomaly_score(X),
                               EXPECTED["detector_anomaly_score"], rtol=1e-4)


def test_the_numpy_engine_scores_a_format_2_masked_file_with_its_own_masks(table):
    """Files of masked models written before the paired scoring masks name no mask design:
    `aekit detect`'s numpy engine scores them with the random masks they were fitted with,
    as torch does (aekit.model_file)."""
    from aekit.scorer import Scorer

    scorer = Scorer(V2 / "cli_table.safetensors", device="cpu")
    assert not scorer.uses_torch
    X = table.head(20)
    np.testing.assert_allclose(scorer.anomaly_score(X), EXPECTED_V2["cli_table_anomaly_score"],
                               rtol=1e-5)


def test_a_format_1_checkpoint_resumes(tmp_path, monkeypatch):
    """A 0.1 checkpoint (data spec "csv" with a relative path) trains on to its end."""
    work = tmp_path / "v1"
    shutil.copytree(V1, work)
    monkeypatch.chdir(work)
    r = CliRunner().invoke(cli, ["train", "--resume", "table.ckpt.safetensors", "-q",
                                 "--device", "cpu", "-o", "resumed.safetensors"])
    assert r.exit_code == 0, r.output
    assert "Resuming table.ckpt.safetensors after epoch 1" in r.stderr
    est = aekit.load(work / "resumed.safetensors")
    assert est.n_epochs_ == 2 and read_model_file(work / "resumed.safetensors")[0][
        "format_version"] == 2


@pytest.mark.parametrize("name", ["autoencoder", "denoiser", "detector", "pca_detector",
                                  "cli_table", "table.ckpt"])
def test_info_describes_format_1_files(name):
    r = CliRunner().invoke(cli, ["info", str(V1 / f"{name}.safetensors")])
    assert r.exit_code == 0, r.output
    assert "format version: 1 (written by aekit 0.1.0)" in r.output


def test_info_of_a_checkpoint_prints_no_unknowns():
    r = CliRunner().invoke(cli, ["info", str(V1 / "table.ckpt.safetensors")])
    assert r.exit_code == 0, r.output
    assert "None samples" not in r.output and "s on None" not in r.output
    assert "objective reconstruction" in r.output
    assert "training: 1 epoch\n" in r.output and "resumable after epoch 1" in r.output


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_a_resumed_optimiser_still_updates_all_its_parameters_at_once(optimizer):
    """A checkpoint written before aekit chose ``foreach`` or Adam's fused kernel (its
    parameter groups say None) resumes with make_optimizer's choice, the faster update."""
    from aekit.nn.config import ModelConfig, TrainConfig
    from aekit.nn.network import AutoencoderNet
    from aekit.nn.training import Trainer

    def trainer():
        cfg = TrainConfig(optimizer, 1e-3, 0.9, 0.0, 8, 2, 5, 2, "onecycle", 0)
        return Trainer(AutoencoderNet(ModelConfig(n_features=4, code_size=2, hidden=(8,))),
                       cfg, "cpu")

    fresh = trainer()
    tensors, meta = fresh.state_dict()
    for group in meta["optimizer_param_groups"]:
        group["foreach"] = group["fused"] = None
    resumed = trainer()
    resumed.load_state_dict(tensors, meta)
    how = [(g["foreach"], g.get("fused")) for g in resumed.optimizer.param_groups]
    assert how == [(None, True)] if optimizer == "adam" else how == [(True, None)]
    assert how == [(g["foreach"], g.get("fused")) for g in fresh.optimizer.param_groups]
