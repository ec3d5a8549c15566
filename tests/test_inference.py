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


def test_models_numpy_cannot_run_are_left_to_torch(tables, tmp_path):
    conv = Autoencoder(arch="conv", channels=(2,), code_size=3, epochs=1, device="cpu",
                       random_state=0).fit(np.zeros((20, 16), np.float32) + 0.5)
    path = conv.save(tmp_path / "conv.safetensors")
    assert numpy_engine(*read_model_file(path)) is None
    assert Scorer(path, device="cpu").uses_torch
    pca = AnomalyDetector(method="pca").fit(tables["unit"])  # PCA runs in numpy
    path = pca.save(tmp_path / "pca.safetensors")
    assert not Scorer(path, device="cpu").uses_torch
    np.testing.assert_allclose(Scorer(path, device="cpu").anomaly_score(tables["unit"][:40]),
                               pca.anomaly_score(tables["unit"][:40]), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("change", [
    lambda d, t: d["params"].update(hidden="rm -rf"),
    lambda d, t: d["params"].update(lr=-1),
    lambda d, t: d["params"].update(contamination=3),
    lambda d, t: d.update(estimator="os.system"),
    lambda d, t: d["networks"][0].update(hidden=[25, 12]),
    lambda d, t: d["schema"].update(scale=[0.0] * 30, scaling="standard", center=[0.0] * 30),
    lambda d, t: d["scoring"].update(score_type="max"),
    lambda d, t: d["scoring"].pop("threshold"),
    lambda d, t: d["params"].update(lr="auto"),
    lambda d, t: d["params"].update(threshold=10**400),
    lambda d, t: t.pop(sorted(t)[0]),
    lambda d, t: t.update({k: np.full_like(v, np.nan) for k, v in t.items() if k.endswith("bias")}),
    lambda d, t: t.update({k: v.astype(np.int64) for k, v in t.items() if k.endswith("weight")}),
], ids=["params", "lr", "contamination", "estimator", "config", "scaling", "score", "offset",
        "auto-lr", "huge-threshold", "missing-tensor", "nan-weights", "integer-weights"])
def test_anything_doubtful_is_refused_by_the_scorer_as_by_loading(tables, tmp_path, change,
                                                                 request):
    """The scorer of `aekit detect` refuses what loading with torch refuses: the numpy
    engine declines a doubtful file (so that loading words the error), and the scorer checks
    the rule itself."""
    import aekit
    from aekit.errors import ModelFileError

    path = _fit("detector", tables["unit"]).save(tmp_path / "m.safetensors")
    doc, tensors = read_model_file(path)
    assert numpy_engine(doc, dict(tensors)) is not None
    change(doc, tensors)
    if request.node.callspec.id not in ("score", "offset"):  # the rule is the scorer's check
        assert numpy_engine(doc, tensors) is None
    import json

    from safetensors.numpy import save_file

    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad), metadata={"aekit": json.dumps(doc)})
    with pytest.raises(ModelFileError):  # nor is it scored in numpy by the command
        Scorer(bad, device="cpu")
    with pytest.raises((ModelFileError, ValueError)):
        aekit.load(bad, device="cpu")


def test_detect_on_a_cpu_imports_neither_torch_nor_sklearn(tmp_path):
    rows = np.random.RandomState(0).randint(0, 256, size=(50, 784))
    data = tmp_path / "rows.csv"
    np.savetxt(data, rows, fmt="%d", delimiter=",")
    code = ("import sys\nfrom aekit.cli import cli\n"
            "try:\n    cli(['detect', sys.argv[1], '-q', '-o', sys.argv[2], '--device', 'cpu'])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'pandas') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code, str(data), str(tmp_path / "o.csv")],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert len((tmp_path / "o.csv").read_text().splitlines()) == 51


def test_the_fast_writer_writes_what_pandas_writes():
    import io

    import pandas as pd

    from aekit.tables.writers import TableWriter

    rng = np.random.RandomState(0)
    scores = np.concatenate([rng.exponential(size=500) * 10.0 ** rng.randint(-8, 8, size=500),
                             [0.0, 1e-300, 123456789.0, np.inf]])
    flagged = scores > 1.0
    ours = io.StringIO()
    writer = TableWriter("-")
    writer._file = ours  # the fast path's text, captured
    writer.write_scores(scores[:300], flagged[:300])
    writer.write_scores(scores[300:], flagged[300:])
    theirs = io.StringIO()
    pd.DataFrame({"anomaly_score": scores, "is_anomaly": flagged.astype(np.int8)}).to_csv(
        theirs, index=False, float_format="%.6g", lineterminator="\n")
    assert ours.getvalue() == theirs.getvalue()


def test_gpu_possible_looks_for_device_nodes(monkeypatch):
    import os

    from aekit.device import gpu_possible

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os.path, "exists", lambda p: False)
    assert not gpu_possible()
    monkeypatch.setattr(os.path, "exists", lambda p: p == "/dev/nvidiactl")
    assert gpu_possible()
    monkeypatch.setattr(sys, "platform", "darwin")  # MPS: torch must decide
    assert gpu_possible()


def test_parameters_are_defined_once_by_the_dataclasses():
    """get_params, the __init__ signature and aekit.params are one list: the estimators'
    __init__ is the dataclass's (keyword-only), and its defaults are the fields'."""
    import inspect

    from aekit.params import AutoencoderParams, DenoisingParams, DetectorParams, defaults

    for cls, params in ((Autoencoder, AutoencoderParams), (DenoisingAutoencoder, DenoisingParams),
                        (AnomalyDetector, DetectorParams)):
        assert cls().get_params() == defaults(params)
        sig = inspect.signature(cls)
        assert all(p.kind is p.KEYWORD_ONLY for p in sig.parameters.values())
    assert DenoisingAutoencoder().code_size == 128 and Autoencoder().code_size == 32
    with pytest.raises(TypeError):
        Autoencoder(8)  # keyword-only, as scikit-learn's estimators


def test_a_saturated_sigmoid_gives_zero_without_a_warning():
    import warnings

    cfg = ModelConfig(n_features=4, code_size=2, hidden=())
    shapes, _ = dense_layout(cfg)
    tensors = {k: np.zeros(s, np.float32) for k, s in shapes.items()}
    tensors["decoder.0.bias"][:] = -1000.0  # exp(1000) overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        R = NumpyNetwork(cfg, tensors).reconstruct(np.ones((3, 4), np.float32))
    assert np.array_equal(R, np.zeros((3, 4), np.float32))


def test_ordered_map_keeps_order_and_raises_where_it_failed():
    import time

    from aekit.concurrency import ordered_map

    def slow_square(i):
        time.sleep(0.002 * (7 - i % 7))  # later items often finish first
        if i == 13:
            raise ValueError("item 13")
        return i * i

    assert list(ordered_map(slow_square, range(13), 3)) == [i * i for i in range(13)]
    got = []
    with pytest.raises(ValueError, match="item 13"):
        for v in ordered_map(slow_square, range(40), 3):
            got.append(v)
    assert got == [i * i for i in range(13)]
