"""The numpy engines (aekit.inference) against the torch engine and estimators they stand in
for, through the scorer `aekit detect` uses (aekit.scorer)."""

import subprocess
import sys

import numpy as np
import pytest

from aekit import AnomalyDetector, Autoencoder, DenoisingAutoencoder
from aekit.inference import numpy_engine
from aekit.model_file import read_model_file
from aekit.scorer import Scorer
from aekit.nn.config import ModelConfig
from aekit.nn.numpy_network import NumpyNetwork, dense_layout


@pytest.mark.parametrize("kw", [
    dict(hidden=(16, 8)),
    dict(hidden=(16, 8), batch_norm=True, dropout=0.2),
    dict(hidden=(16,), dropout=0.1),
    dict(hidden=(12, 6), decoder_hidden=(5, 9, 13), batch_norm=True),
    dict(hidden=(), output="linear"),
])
def test_dense_layout_names_the_torch_networks_tensors(kw):
    import torch

    from aekit.nn.network import AutoencoderNet

    cfg = ModelConfig(n_features=20, code_size=3, **kw)
    with torch.device("meta"):
        want = {k: tuple(v.shape) for k, v in AutoencoderNet(cfg).state_dict().items()}
    shapes, layers = dense_layout(cfg)
    assert shapes == want
    linears = [m for m in AutoencoderNet(cfg).modules() if isinstance(m, torch.nn.Linear)]
    assert len(layers) == len(linears)
    assert [relu for *_, relu in layers].count(False) == 2  # the code and the output


def _fit(kind, X, **kw):
    common = dict(epochs=2, batch_size=32, device="cpu", random_state=0)
    if kind == "detector":
        return AnomalyDetector(hidden=(24, 12), code_size=4, **common, **kw).fit(X)
    if kind == "vae":
        from aekit import VariationalAutoencoder

        return VariationalAutoencoder(hidden=(24, 12), code_size=4, **common, **kw).fit(X)
    cls = DenoisingAutoencoder if kind == "denoising" else Autoencoder
    return cls(hidden=(24, 12), code_size=4, **common, **kw).fit(X, score_quantiles=True)


@pytest.fixture(scope="module")
def tables():
    rng = np.random.RandomState(0)
    unit = (rng.uniform(size=(300, 30)) > 0.6).astype(np.float32) * rng.uniform(size=(300, 30))
    wide = (rng.normal(size=(300, 3)) @ rng.normal(size=(3, 30)) * 5 + 40).astype(np.float32)
    return {"unit": unit.astype(np.float32), "standard": wide}


CASES = [
    ("detector", "unit", {}),                                  # relative score
    ("detector", "standard", {"batch_norm": True}),            # mse, standardised
    ("detector", "unit", {"score_type": "mse", "dropout": 0.2}),
    ("autoencoder", "unit", {"batch_norm": True}),
    ("autoencoder", "standard", {"dropout": 0.1}),
    ("denoising", "unit", {"noise": "masking:0.2", "batch_norm": False}),
]


@pytest.mark.parametrize("kind,table,kw", CASES)
def test_numpy_scores_match_the_torch_network(tables, tmp_path, kind, table, kw):
    X = tables[table]
    est = _fit(kind, X, **kw)
    path = est.save(tmp_path / "m.safetensors")
    dense = Scorer(path, device="cpu")
    assert not dense.uses_torch
    test = X[:120] + np.float32(0.05) * np.abs(np.random.RandomState(1).normal(size=(120, 30))
                                                 ).astype(np.float32)
    det = est if kind == "detector" else AnomalyDetector.from_autoencoder(est)
    want, want_c = det.anomaly_score(test), det.explain(test)
    assert dense.rule.score_type == det.score_type_
    if kind == "detector":
        assert dense.rule.threshold == pytest.approx(est.threshold_)
    got, got_c = dense.anomaly_score(test), dense.explain(test)
    assert got.dtype == np.float64 and got.shape == (120,)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(got_c, want_c, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(got_c.mean(axis=1), got, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("table", ["unit", "standard"])
def test_one_engine_protocol_torch_numpy_and_pca_agree(tables, table):
    """Every engine gives ``output(Xs, kind)``; the numpy twins equal the torch network and
    scikit-learn's PCA to 1e-4 relative."""
    from aekit.nn.engine import TorchEngine
    from aekit.scores import network_output

    X = tables[table]
    for est in (_fit("detector", X), _fit("detector", X, objective="masked")):
        doc, tensors = est.get_state()
        fast, slow = numpy_engine(doc, tensors), est.engine()
        assert isinstance(slow, TorchEngine) and fast is not None
        Xs = est.schema_.transform(X[:50])
        kind = network_output(est.score_type_)
        np.testing.assert_allclose(fast.output(Xs, kind), slow.output(Xs, kind), rtol=1e-4,
                                   atol=1e-5)
    pca = AnomalyDetector(method="pca").fit(X)
    doc, tensors = pca.get_state()
    Xs = pca.schema_.transform(X[:50])
    np.testing.assert_allclose(numpy_engine(doc, tensors).output(Xs), pca.engine().output(Xs),
                               rtol=1e-4, atol=1e-5)


def test_a_fit_measures_a_dense_network_in_numpy_as_torch_does(tables, monkeypatch):
    """On a CPU a fit measures a dense network with its numpy twin, the rows split across
    the cores: the surprise, each mask's and the reconstructions as torch gives them for
    the rows in float32, float64 rows alike; a network numpy cannot run (a VAE), or one on
    another device, is measured by torch in float32."""
    import aekit.concurrency
    from aekit.nn.engine import NumpyEngine, TorchEngine, measuring_engine

    monkeypatch.setattr(aekit.concurrency, "scoring_threads", lambda cores: (3, 1))  # 3 parts
    X = tables["standard"].astype(np.float64)
    masked = _fit("detector", X, objective="masked").networks_[0]
    plain = _fit("detector", X).networks_[0]
    for net, kind in ((masked, "surprise"), (plain, "reconstruction")):
        engine = measuring_engine(net, "cpu")
        assert isinstance(engine, NumpyEngine)
        Xs = (X[:101] - X.mean(axis=0)) / X.std(axis=0)
        torch32 = TorchEngine(net).output(Xs.astype(np.float32), kind)
        got = engine.output(Xs, kind)
        assert got.dtype == np.float32 and got.shape == torch32.shape
        np.testing.assert_allclose(got, torch32, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(measuring_engine(masked, "cpu").mask_surprise(Xs),
                               TorchEngine(masked).mask_surprise(Xs.astype(np.float32)),
                               rtol=1e-5, atol=1e-5)
    assert measuring_engine(masked, "cpu").mask_surprise(Xs[:0]).shape == (0, 16)
    vae = _fit("vae", X, warmup=0).net_
    for net, device in ((vae, "cpu"), (masked, "meta")):
        engine = measuring_engine(net, device)
        assert isinstance(engine, TorchEngine) and engine.dtype == np.float32


def test_a_fit_measures_on_as_many_cores_as_torch_has_threads():
    """The caller's budget (OMP_NUM_THREADS, torch.set_num_threads) holds for the numpy
    engine as it did for torch: one thread, one part, BLAS on one thread."""
    import threading

    import torch
    from threadpoolctl import threadpool_info

    from aekit.concurrency import across_cores
    from aekit.nn.engine import measuring_engine
    from aekit.nn.network import AutoencoderNet

    net = AutoencoderNet(ModelConfig(n_features=5, code_size=2, hidden=(4,))).eval()
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert measuring_engine(net, "cpu").cores == 1
    finally:
        torch.set_num_threads(before)
    seen = []

    def part(rows):
        seen.append((len(rows), threading.current_thread().name,
                     {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}))
        return rows

    np.testing.assert_array_equal(across_cores(part, np.arange(10)[:, None], cores=1),
                                  np.arange(10)[:, None])
    assert [(n, blas) for n, _, blas in seen] == [(10, {1})]


def test_threads_that_limit_blas_at_once_leave_it_as_it_was():
    """threadpoolctl's limit is the process's: two fits measuring at once used to leave
    BLAS on one thread for good (each restored what it had found: the other's limit).
    Here the second starts while the first is inside its limit (it waits at most 1 s for
    it, and with one holder at a time it waits in vain), and ends after it."""
    import threading

    from threadpoolctl import ThreadpoolController, threadpool_info

    from aekit.concurrency import across_cores

    def blas():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    second_in, first_out = threading.Event(), threading.Event()

    def second(rows):
        second_in.set()
        first_out.wait(5)
        return rows

    def first(rows):
        if not second_in.is_set():
            runner.start()
            second_in.wait(1)
        return rows

    runner = threading.Thread(target=across_cores, args=(second, np.ones((1, 2)), 1))
    limiter = ThreadpoolController().limit(limits=3, user_api="blas")  # (a value of its own)
    try:
        assert blas() == {3}
        across_cores(first, np.ones((1, 2)), 1)
        first_out.set()
        runner.join()
        assert blas() == {3}
    finally:
        limiter.restore_original_limits()
