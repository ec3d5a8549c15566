"""Beyond one process: data-parallel training with torchrun (DDP), scoring on a Dask cluster.

The DDP tests launch `torchrun --standalone --nproc_per_node 2 -m aekit train` on the CPU
(the gloo backend); the nccl one runs only where CUDA is. The Dask tests start a
LocalCluster of two worker processes on loopback.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

import aekit
from aekit.cli import cli
from aekit.model_file import read_model_file

FEATURES = [f"f{i}" for i in range(8)]
TRAIN = ["--hidden", "16", "--code-size", "3", "--batch-size", "64", "--seed", "3"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("scale")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 3)) @ rng.normal(size=(3, 8)) + 0.1 * rng.normal(size=(600, 8))
    df = pd.DataFrame(X, columns=FEATURES)
    df.to_csv(d / "t.csv", index=False)
    return d


def torchrun(args, cwd, timeout=300, device="cpu"):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
         "2", "-m", "aekit", *map(str, args), "--device", device],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def tensors(path):
    return {k: v for k, v in read_model_file(path)[1].items() if k.startswith("net.")}


def assert_same_model(a, b, atol=1e-5):
    ta, tb = tensors(a), tensors(b)
    assert ta.keys() == tb.keys()
    for k in ta:
        np.testing.assert_allclose(ta[k], tb[k], rtol=1e-5, atol=atol, err_msg=k)  # (rtol: the
        # early map, measured statistics of a few units, differs in float32 rounding)


def single(table, out, *extra):
    r = CliRunner().invoke(cli, ["train", "--data", str(table / "t.csv"), *TRAIN, *extra,
                                 "--device", "cpu", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.parametrize("objective", ["masked", "reconstruction"])
def test_ddp_training_gives_the_single_process_model(table, tmp_path, objective):
    """Two gloo processes, each its half of every global batch of 64: the same network as
    one process (no batch norm, no dropout; a masked network's masks drawn for the
    global batch), one model file, one progress bar."""
    r = torchrun(["train", "--data", table / "t.csv", *TRAIN, "--epochs", "4",
                  "--objective", objective, "-o", tmp_path / "ddp.safetensors"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp.safetensors"]
    said = "prediction error" if objective == "masked" else "reconstruction error"
    assert r.stderr.count("saved ") == 1 and r.stdout.count(said) == 1
    bars = {line.split("|")[0] for line in r.stderr.replace("\r", "\n").splitlines()
            if line.startswith("training:")}
    assert bars and all("training" in b for b in bars)
    assert r.stderr.count("training:   0%") <= 1  # only rank 0 draws a bar
    doc = read_model_file(tmp_path / "ddp.safetensors")[0]
    assert doc["summary"]["processes"] == 2
    assert_same_model(tmp_path / "ddp.safetensors",
                      single(table, tmp_path / "one.safetensors", "--epochs", "4",
                             "--objective", objective))


def test_ddp_with_batch_norm_on_cpus_trains_per_process_statistics(table, tmp_path):
    """SyncBatchNorm runs on GPUs only: on CPUs each process normalises with its share of the
    batch. The model differs from one process's (it is not the same computation) but
    trains as well, and loads."""
    r = torchrun(["train", "--data", table / "t.csv", *TRAIN, "--epochs", "4", "--batch-norm",
                  "-o", tmp_path / "bn.safetensors"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    one = single(table, tmp_path / "one.safetensors", "--epochs", "4", "--batch-norm")
    ddp, solo = (read_model_file(p)[0]["summary"]["best_loss"]
                 for p in (tmp_path / "bn.safetensors", one))
    assert abs(ddp - solo) < 0.25 * solo
    assert aekit.load(tmp_path / "bn.safetensors").networks_[0].config.batch_norm


def test_an_interrupted_ddp_run_resumes_to_the_same_model(table, tmp_path):
    """SIGINT to torchrun after a checkpoint exists; `torchrun ... --resume` then ends with
    the model of an uninterrupted run."""
    args = ["train", "--data", table / "t.csv", *TRAIN, "--epochs", "40", "--patience", "40",
            "--lr", "1e-4"]
    full = torchrun([*args, "-o", tmp_path / "full.safetensors", "--checkpoint",
                     tmp_path / "full.ckpt"], cwd=tmp_path)
    assert full.returncode == 0, full.stderr[-3000:]
    ckpt = tmp_path / "part.ckpt.safetensors"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "aekit", *map(str, args), "--device", "cpu", "-o",
         str(tmp_path / "part.safetensors")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if ckpt.exists() and read_model_file(ckpt)[0]["training_state"]["epoch"] >= 2:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("training ended before it could be interrupted")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert ckpt.exists() and not (tmp_path / "part.safetensors").exists()
    # the way to continue is torchrun's, with as many processes
    assert f"Continue with: torchrun --nproc_per_node 2 -m aekit train --resume {ckpt}" in err
    stopped_at = read_model_file(ckpt)[0]["training_state"]["epoch"]
    assert 1 <= stopped_at < 40
    r = torchrun(["train", "--resume", ckpt, "-o", tmp_path / "part.safetensors"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.count(f"after epoch {stopped_at}") == 1
    assert_same_model(tmp_path / "full.safetensors", tmp_path / "part.safetensors")


@pytest.mark.skipif(not torch.cuda.is_available() or torch.cuda.device_count() < 2,
                    reason="nccl needs two CUDA devices")
def test_ddp_on_gpus_with_nccl_and_sync_batch_norm(table, tmp_path):
    r = torchrun(["train", "--data", table / "t.csv", *TRAIN, "--epochs", "3", "--batch-norm",
                  "-o", tmp_path / "gpu.safetensors"], cwd=tmp_path, device="cuda")
    assert r.returncode == 0, r.stderr[-3000:]
    assert read_model_file(tmp_path / "gpu.safetensors")[0]["summary"]["processes"] == 2


# -- Dask --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scored(table, tmp_path_factory):
    """Files to score (CSV parts and a Parquet dataset of several row groups), a model, and
    the single-process `aekit detect` scores of every row."""
    d = tmp_path_factory.mktemp("dask")
    single(table, d / "m.safetensors", "--epochs", "3")
    rng = np.random.RandomState(1)
    frames = []
    for i in range(6):
        X = rng.normal(size=(150, 8)) * (1 + i % 2)
        df = pd.DataFrame(X, columns=FEATURES)
        df.insert(0, "id", [f"p{i}-{j}" for j in range(150)])
        df.to_csv(d / f"part{i}.csv", index=False)
        frames.append(df)
    whole = pd.concat(frames, ignore_index=True)
    whole.to_csv(d / "whole.csv", index=False)
    (d / "ds").mkdir()
    whole.to_parquet(d / "ds" / "rows.parquet", row_group_size=100)
    r = CliRunner().invoke(cli, ["detect", str(d / "whole.csv"), "-m", str(d / "m.safetensors"),
                                 "--id-column", "id", "--device", "cpu", "-q",
                                 "-o", str(d / "single.csv")])
    assert r.exit_code == 0, r.output
    return d, pd.read_csv(d / "single.csv")


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as c:
        yield c


@pytest.mark.parametrize("inputs", ["csv-parts", "parquet"])
def test_dask_scores_equal_the_single_process_scores(scored, cluster, inputs, tmp_path):
    d, want = scored
    files = [str(d / f"part{i}.csv") for i in range(6)] if inputs == "csv-parts" else \
        [str(d / "ds" / "rows.parquet")]
    r = CliRunner().invoke(cli, ["detect", *files, "-m", str(d / "m.safetensors"),
                                 "--id-column", "id", "--scheduler", cluster.scheduler_address,
                                 "-q", "-o", str(tmp_path / "out.parquet")])
    assert r.exit_code == 0, r.output
    got = pd.read_parquet(tmp_path / "out.parquet")
    assert list(got.columns) == ["file", "row", "id", "anomaly_score", "is_anomaly"]
    assert got["id"].tolist() == want["id"].tolist()  # every row once, in order
    np.testing.assert_allclose(got["anomaly_score"], want["anomaly_score"], rtol=1e-5)
    assert got["is_anomaly"].tolist() == want["is_anomaly"].tolist()
    if inputs == "parquet":
        assert got["row"].tolist() == list(range(1, 901))


def test_a_worker_killed_mid_run_loses_and_repeats_no_row(scored, tmp_path):
    """SIGKILL to a worker process after the first part arrives: Dask recomputes what it
    held, and every (file, row) comes out exactly once."""
    from dask.distributed import Client, LocalCluster

    from aekit.distributed import detect_files
    from aekit.tables.writers import TableWriter

    d, want = scored
    files = [str(d / f"part{i}.csv") for i in range(6)] * 2  # duplicates are dropped...
    files = list(dict.fromkeys(files))  # ...by expand_inputs; here, by hand
    killed = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        pids = list(client.run(os.getpid).values())

        def kill_one(frame):
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        with TableWriter(tmp_path / "out.csv") as writer:
            rows, _ = detect_files(files, d / "m.safetensors", writer,
                                   {"id_columns": ["id"]}, threshold=1.0,
                                   scheduler=cluster.scheduler_address, on_frame=kill_one)
    got = pd.read_csv(tmp_path / "out.csv")
    assert killed and rows == 900 == len(got)
    assert not got.duplicated(["file", "row"]).any()
    assert got["id"].tolist() == want["id"].tolist()
    np.testing.assert_allclose(got["anomaly_score"], want["anomaly_score"], rtol=1e-5)


def test_a_dask_dataframe_is_scored_partition_by_partition(scored, cluster):
    import dask.dataframe as dd
    from dask.distributed import Client

    from aekit.distributed import score_dask_frame

    d, want = scored
    ddf = dd.read_parquet(d / "ds")
    with Client(cluster.scheduler_address):
        out = score_dask_frame(ddf, d / "m.safetensors", carry=["id"]).compute()
    assert out["id"].tolist() == want["id"].tolist()
    np.testing.assert_allclose(out["anomaly_score"].to_numpy(), want["anomaly_score"],
                               rtol=1e-5)


def test_globs_and_missing_files(scored, tmp_path):
    d, _ = scored
    r = CliRunner().invoke(cli, ["detect", str(d / "part*.csv"), "-m", str(d / "m.safetensors"),
                                 "--workers", "1", "-q", "--id-column", "id",
                                 "-o", str(tmp_path / "g.csv")])
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "g.csv")) == 900
    r = CliRunner().invoke(cli, ["detect", str(d / "nothing*.csv"), "-m",
                                 str(d / "m.safetensors")])
    assert r.exit_code == 1 and "no file matches" in r.output
    assert not Path(tmp_path / "h.csv").exists()
