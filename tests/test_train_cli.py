import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import aekit
from aekit.cli import cli
from aekit.model_file import read_model_file

TINY = ["--hidden", "16", "--code-size", "4", "--batch-size", "64", "--quiet"]


def run(args, **kw):
    return CliRunner().invoke(cli, args, catch_exceptions=False, **kw)


def test_train_mnist_digits_saves_a_loadable_model(mnist_dir, tmp_path):
    out = tmp_path / "m.safetensors"
    r = run(["train", "--data-dir", str(mnist_dir), "--digits", "1,7", "--limit", "400",
             "--epochs", "2", *TINY, "-o", str(out), "--report", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert "test reconstruction error (SSE per image" in r.output and "PCA" in r.output
    est = aekit.load(out)
    assert est.n_features_in_ == 784 and est.code_size == 4
    doc, _ = read_model_file(out)
    assert doc["data"]["digits"] == [1, 7]
    # detect scores pixel models by the relative error, as AnomalyDetector does
    assert doc["scoring"]["score_type"] == "relative"
    assert len(doc["scoring"]["quantiles"]) == 1001
    assert doc["scoring"]["quantiles"] == sorted(doc["scoring"]["quantiles"])
    assert doc["evaluation"]["n_test"] == 1135 + 1028  # test images of 1 and 7
    assert (tmp_path / "rep" / "loss_curves.png").stat().st_size > 1000
    assert (tmp_path / "rep" / "reconstructions.png").stat().st_size > 1000
    assert not (tmp_path / "m.ckpt.safetensors").exists()  # removed after success
    info = run(["info", str(out)])
    assert "784-16-4-16-784" in info.output and "epochs" in info.output


def test_denoiser_takes_the_denoising_estimators_network_unless_told(tmp_path, rng,
                                                                     mnist_dir):
    out = tmp_path / "mnist.safetensors"
    r = run(["train", "--data-dir", str(mnist_dir), "--limit", "64", "--noise", "gaussian:0.5",
             "--epochs", "1", "--quiet", "-o", str(out)])
    assert r.exit_code == 0, r.output
    est, defaults = aekit.load(out), aekit.DenoisingAutoencoder().get_params()
    assert (est.hidden, est.code_size, est.batch_norm) == \
        (defaults["hidden"], defaults["code_size"], defaults["batch_norm"])
    # what a denoiser is for: the PSNR on noisy test images (issue 15, item 14)
    assert "denoising PSNR on 10000 MNIST test images with its training noise gaussian:0.5" \
        in r.output and "PCA-64" in r.output
    data = tmp_path / "t.csv"
    X = rng.rand(64, 6)
    data.write_text("\n".join(",".join(f"{v:.4f}" for v in row) for row in X) + "\n")
    defaults = aekit.DenoisingAutoencoder().get_params()
    out = tmp_path / "d.safetensors"
    r = run(["train", "--data", str(data), "--noise", "gaussian:0.2", "--epochs", "1",
             "--quiet", "-o", str(out)])
    assert r.exit_code == 0, r.output
    est = aekit.load(out)
    # a 6-column table sizes the network (a 128-wide code would not compress it), and says so
    assert "chosen from the table's 6 feature columns and 64 rows: --hidden 48,24 " \
        "--code-size 3" in r.stderr
    config = est.net_.config
    assert (config.hidden, config.code_size, est.batch_norm) == ((48, 24), 3,
                                                                 defaults["batch_norm"])
    r = run(["train", "--data", str(data), "--noise", "gaussian:0.2", "--epochs", "1",
             "--no-batch-norm", *TINY, "-o", str(out)])
    est = aekit.load(out)
    assert (est.hidden, est.code_size, est.batch_norm) == ((16,), 4, False)
    r = run(["train", "--data", str(data), "--epochs", "1", "--quiet", "-o", str(out)])
    est = aekit.load(out)
    # a model of a table without noise is a detector, masked as AnomalyDetector chooses:
    # 4 x 6 -> 128 wide (the least)
    assert isinstance(est, aekit.AnomalyDetector)
    assert "--objective masked --hidden 128 --code-size 128" in r.stderr
    config = est.networks_[0].config
    assert (est.objective_, config.hidden, config.code_size, config.batch_norm) == (
        "masked", (128,), 128, aekit.AnomalyDetector().batch_norm)
    # and no input noise
    assert est.noise is None and est.training_summary_["noise"] is None


def test_train_denoising_on_csv(tmp_path, rng):
    data = tmp_path / "t.csv"
    X = rng.normal(size=(200, 5)) * [1, 5, 10, 50, 100]
    lines = ["a,b,c,d,e,label"] + [",".join(f"{v:.5f}" for v in row) + ",x" for row in X]
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "t.safetensors"
    r = run(["train", "--data", str(data), "--label-column", "label", "--noise", "gaussian:0.1",
             "--epochs", "2", *TINY, "-o", str(out)])
    assert r.exit_code == 0, r.output
    est = aekit.load(out)
    assert type(est).__name__ == "DenoisingAutoencoder" and est.schema_.scaling == "standard"
    assert est.n_features_in_ == 5
    assert est.schema_.feature_names == ["a", "b", "c", "d", "e"]
    assert list(est.feature_names_in_) == ["a", "b", "c", "d", "e"]
    # standardised table: plain MSE
    assert read_model_file(out)[0]["scoring"]["score_type"] == "mse"


def _state(path):
    _, tensors = read_model_file(path)
    return {k: v for k, v in tensors.items() if k.startswith("net.")}


@pytest.mark.parametrize("schedule", ["plateau", "onecycle"])
def test_interrupt_then_resume_matches_uninterrupted_run(mnist_dir, tmp_path,
                                                         interrupt_training, schedule):
    args = ["train", "--data-dir", str(mnist_dir), "--limit", "300", "--epochs", "4",
            "--dropout", "0.1", "--noise", "masking:0.2", "--lr-schedule", schedule, *TINY]
    full = tmp_path / "full.safetensors"
    assert run([*args, "-o", str(full)]).exit_code == 0

    restore = interrupt_training(2)  # as the third epoch starts
    part = tmp_path / "part.safetensors"
    r = CliRunner().invoke(cli, [*args, "-o", str(part)])
    assert r.exit_code == 130
    ckpt = tmp_path / "part.ckpt.safetensors"
    assert ckpt.exists() and not part.exists()
    assert f"--resume {ckpt}" in r.output
    restore()

    r = run(["train", "--resume", str(ckpt), "--quiet", "-o", str(part)])
    assert r.exit_code == 0, r.output
    a, b = _state(full), _state(part)
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


@pytest.mark.parametrize("decay", ["0", "1e308"])
def test_a_diverging_fit_names_what_to_lower(tmp_path, decay):
    """A learning rate or a weight decay too large: one line naming the options that can
    make the loss finite again (the weight decay only when one is set), no model file."""
    rng = np.random.RandomState(0)
    np.savetxt(tmp_path / "t.csv", rng.normal(size=(60, 3)), delimiter=",")
    out = tmp_path / "m.safetensors"
    lr = "1e308" if decay == "0" else "0.001"
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--no-header",
                                 "--epochs", "1", "--lr", lr, "--weight-decay", decay,
                                 "-q", "-o", str(out)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    error = [line for line in r.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "loss became nan" in error[0] and "(--lr)" in error[0]
    assert ("(--weight-decay)" in error[0]) == (decay != "0")
    assert not out.exists()


def test_nan_loss_stops_with_message_and_keeps_checkpoint(mnist_dir, tmp_path, monkeypatch):
    from aekit.nn import training

    original = training.Trainer._train_one_epoch

    def nan_at_second(self, X, epoch):
        return float("nan") if epoch == 1 else original(self, X, epoch)

    monkeypatch.setattr(training.Trainer, "_train_one_epoch", nan_at_second)
    out = tmp_path / "m.safetensors"
    r = CliRunner().invoke(cli, ["train", "--data-dir", str(mnist_dir), "--limit", "200",
                                 "--epochs", "3", *TINY, "-o", str(out)])
    assert r.exit_code == 1
    assert "loss became nan" in r.output and "checkpoint" in r.output
    assert "Traceback" not in r.output
    assert not out.exists() and (tmp_path / "m.ckpt.safetensors").exists()


def test_sigint_keeps_checkpoint_and_exits_130(mnist_dir, tmp_path):
    out = tmp_path / "m.safetensors"
    ckpt = tmp_path / "m.ckpt.safetensors"
    env = {**os.environ, "AEKIT_DATA": str(mnist_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aekit", "train", "--limit", "3000", "--epochs", "500",
         "--patience", "500", *TINY, "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    deadline = time.time() + 300  # a wait, not a timing: generous for a loaded machine
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert ckpt.exists(), proc.communicate()[1]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert ckpt.exists() and not out.exists()
    assert read_model_file(ckpt)[0]["training_state"]["epoch"] >= 1


@pytest.mark.parametrize("args,message", [
    (["--digits", "1,x"], "comma-separated"),
    (["--digits", "12"], "12 is above 9"),
    (["--noise", "blur:1"], "invalid noise"),
    (["--hidden", "0"], "0 is below 1"),
    (["--epochs", "0"], "0"),
    (["--arch", "conv", "--hidden", "64"], "--channels"),
    (["--channels", "8,16"], "--arch conv"),
    (["--arch", "rnn"], "conv"),
    (["--objective", "masked", "--noise", "gaussian:0.1"],
     "--objective masked hides features itself and needs a dense network without input "
     "noise: give no --noise and --arch dense"),
    (["--objective", "masked", "--arch", "conv"], "give no --noise and --arch dense"),
])
def test_bad_options_give_one_line(args, message, tmp_path):
    r = CliRunner().invoke(cli, ["train", *args, "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


def test_output_folder_must_exist(tmp_path):
    r = CliRunner().invoke(cli, ["train", "-o", str(tmp_path / "nope" / "m.safetensors")])
    assert r.exit_code == 1 and "does not exist" in r.output


def test_evaluate_reconstruction_can_train_on_every_image(mnist_dir, monkeypatch):
    seen = {}
    real_fit = aekit.Autoencoder.fit

    def spy(self, X, y=None):
        real_fit(self, X, y)
        seen["n_train"] = self.training_summary_["n_train"]
        return self

    monkeypatch.setattr(aekit.Autoencoder, "fit", spy)
    args = ["evaluate", "reconstruction", "--data-dir", str(mnist_dir), "--limit", "300",
            "--epochs", "1", "--hidden", "16", "--code-size", "4"]
    r = CliRunner().invoke(cli, args + ["--validation-fraction", "0"])
    assert r.exit_code == 0, r.output
    assert seen["n_train"] == 300 and "autoencoder 784-16-4-16-784" in r.output
    r = CliRunner().invoke(cli, args + ["--validation-fraction", "0.2"])
    assert r.exit_code == 0 and seen["n_train"] == 240
    r = CliRunner().invoke(cli, args + ["--validation-fraction", "1"])
    assert r.exit_code != 0 and "validation-fraction" in r.output


@pytest.mark.parametrize("name", ["anomaly", "Label", "is_fraud", "target", "y"])
def test_a_label_column_trained_on_as_a_feature_is_warned_of(tmp_path, name):
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    df[name] = (rng.uniform(size=60) < 0.1).astype(int)
    df.to_csv(tmp_path / "t.csv", index=False)
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "--device", "cpu", "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 0, r.output
    warned = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and repr(name) in warned[0], r.stderr
    assert f"--label-column {name}" in warned[0]
    # with the column named as the label: no warning
    r = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1",
                                 "-q", "--device", "cpu", "--label-column", name,
                                 "-o", str(tmp_path / "m2.safetensors")])
    assert r.exit_code == 0 and "warning" not in r.stderr, r.output
    # issue 23, item 9: the masked model's last line says what a good value is
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith("prediction error on the training table: ")
    assert "near 0 when the columns determine one another, 1 when they tell nothing" in line
    # the mean counts the surprising rows; the median row says what a typical row gets
    doc = read_model_file(tmp_path / "m2.safetensors")[0]
    mean, median = (doc["evaluation"][k] for k in ("train_mse_scaled",
                                                   "train_median_row_mse_scaled"))
    said = re.match(r"prediction error on the training table: (\S+) a cell, (\S+) in the "
                    r"median row \(", line)
    assert said and [float(v) for v in said.groups()] == pytest.approx([mean, median], 1e-3)
