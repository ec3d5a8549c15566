"""Protocol A machinery: the evaluation function and `aekit evaluate oneclass`."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from aekit import AnomalyDetector
from aekit.cli import cli
from aekit.evaluation import one_class_auroc
from aekit.evaluation.oneclass import roc_figure


@pytest.fixture(scope="module")
def small(mnist_small):
    X, y, Xt, yt = mnist_small
    return X, y, Xt, yt


def test_one_class_auroc_per_digit_and_method(small, tmp_path):
    detectors = {
        "autoencoder": AnomalyDetector(hidden=(32,), code_size=4, epochs=10, batch_size=32,
                                       device="cpu", random_state=0),
        "pca": AnomalyDetector(method="pca", n_components=0.9),
    }
    calls = []
    res = one_class_auroc(digits=[1, 0], detectors=detectors, data=small,
                          progress=lambda *a: calls.append(a))
    assert res.digits == [0, 1] and res.methods == ["autoencoder", "pca"]
    assert [(d, m) for d, m, *_ in calls] == [(0, "autoencoder"), (0, "pca"),
                                              (1, "autoencoder"), (1, "pca")]
    _, y, _, yt = small
    assert res.n_train == [int((y == 0).sum()), int((y == 1).sum())] and res.n_test == len(yt)
    # zeros and ones against the other digits: PCA separates them well even on 200 images
    assert min(res.auroc["pca"]) > 90
    assert all(85 < a <= 100 for a in res.auroc["autoencoder"])
    assert res.mean_auroc("pca") == pytest.approx(np.mean(res.auroc["pca"]))
    assert all(s > 0 for s in res.fit_seconds["autoencoder"])
    table = res.table()
    assert table.count("\n") == 4 and "mean" in table and f"{res.auroc['pca'][1]:.2f}" in table
    d = res.to_dict()
    assert d["mean_auroc"]["pca"] == pytest.approx(res.mean_auroc("pca"), abs=1e-3)
    fpr, tpr = res.roc["pca"][0]
    assert fpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)
    assert roc_figure(res, tmp_path / "roc.png").read_bytes()[:4] == b"\x89PNG"


def test_auroc_is_computed_with_the_other_digits_as_anomalies(small):
    """A scorer that knows the answer gets 100; one that inverts it gets 0."""
    X, y, Xt, yt = small

    class Oracle:
        def __init__(self, sign=1):
            self.sign = sign

        def get_params(self, deep=False):
            return {"sign": self.sign}

        def set_params(self, **p):
            self.sign = p.get("sign", self.sign)
            return self

        def fit(self, X):
            self.mean_ = X.mean(axis=0)
            return self

        def score_samples(self, X):
            # exact: the test rows of the fitted digit are those closest to... the labels
            return self.sign * np.where(yt == 3, 1.0, 0.0)

    res = one_class_auroc(digits=[3], detectors={"up": Oracle(1), "down": Oracle(-1)},
                          data=small)
    assert res.auroc["up"] == [100.0] and res.auroc["down"] == [0.0]


def test_evaluate_oneclass_command(mnist_dir, tmp_path):
    roc, js = tmp_path / "roc.png", tmp_path / "a.json"
    r = CliRunner().invoke(cli, ["evaluate", "oneclass", "--digits", "1", "--limit", "300",
                                 "--epochs", "1", "--device", "cpu", "--data-dir",
                                 str(mnist_dir), "--roc", str(roc), "--json", str(js)])
    assert r.exit_code == 0, r.output
    assert "not protocol A" in r.stderr
    assert "| digit" in r.stdout and "mean AUROC" in r.stdout and "total fit time" in r.stdout
    assert roc.read_bytes()[:4] == b"\x89PNG"
    d = json.loads(js.read_text())
    assert d["digits"] == [1] and d["n_train"] == [300] and d["n_test"] == 10000
    assert d["mean_auroc"]["pca"] > 95  # ones vs the rest: PCA's easiest digit
    assert set(d["auroc"]) == {"autoencoder", "pca"}
