"""`aekit detect` on a million rows: bounded memory, one output line per input row.

The table (10^6 rows x 20 columns, ~120 MB) is written by the test; the model
is trained by the test on a small table of the same kind. detect runs in its own
process, whose peak resident memory is read with getrusage(RUSAGE_CHILDREN) in a
small wrapper process (so no other child of the test runner counts).
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from aekit.cli import cli

N_ROWS = 1_000_000
N_COLS = 20
MiB = 2**20
# How much more memory the million rows may take than a thousand: far below the table
# itself (160 MB as float64, 120 MB as text), which reading it whole would need.
MAX_GROWTH = 100 * MiB
# An absolute guard as well. Importing torch alone takes 650 MB here (a CUDA build), so
# the bound that says "streaming" is MAX_GROWTH; this one catches anything gross.
MAX_PEAK = 1536 * MiB

WRAPPER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
           "sys.exit(r.returncode)")


def write_table(path, n_rows, seed=0, chunk=100_000):
    """Rows of 20 numbers 'd.ddd' in [0, 10), written fast: bytes built with numpy."""
    rng = np.random.RandomState(seed)
    with open(path, "wb") as f:
        f.write((",".join(f"x{j}" for j in range(N_COLS)) + "\n").encode())
        for start in range(0, n_rows, chunk):
            m = min(chunk, n_rows - start)
            v = rng.randint(0, 10_000, size=(m, N_COLS))
            cells = np.empty((m, N_COLS, 6), np.uint8)
            cells[..., 0] = ord("0") + v // 1000
            cells[..., 1] = ord(".")
            cells[..., 2] = ord("0") + v // 100 % 10
            cells[..., 3] = ord("0") + v // 10 % 10
            cells[..., 4] = ord("0") + v % 10
            cells[..., 5] = ord(",")
            cells[:, -1, 5] = ord("\n")
            f.write(cells.tobytes())


def peak_rss(*command):
    """(peak resident memory in bytes, stderr) of ``command`` run in its own process."""
    env = {**os.environ, "AEKIT_DEBUG": ""}
    r = subprocess.run([sys.executable, "-c", WRAPPER, *map(str, command)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip().splitlines()[-1]) * 1024, r.stderr  # Linux: KiB


def count_lines(path, block=16 * MiB):
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(block):
            n += chunk.count(b"\n")
    return n


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("large")
    write_table(d / "small.csv", 2000, seed=1)
    write_table(d / "thousand.csv", 1000, seed=2)
    write_table(d / "million.csv", N_ROWS, seed=3)
    # a reconstructing model: the streaming is the same for a masked one, which scores
    # ~30x slower (32 masks; scripts/bench.py measures it)
    r = CliRunner().invoke(cli, ["train", "--data", str(d / "small.csv"), "--hidden", "16",
                                 "--code-size", "4", "--objective", "reconstruction",
                                 "--epochs", "2", "--device", "cpu", "-q",
                                 "-o", str(d / "model.safetensors")])
    assert r.exit_code == 0, r.output
    yield d
    (d / "million.csv").unlink()  # pytest keeps recent tmp folders: don't keep 120 MB


def detect(files, name, out):
    return peak_rss(sys.executable, "-m", "aekit", "detect", files / name,
                    "--model", files / "model.safetensors", "--device", "cpu", "-q", "-o", out)


def test_detect_a_million_rows_with_bounded_memory(files, tmp_path):
    small, _ = detect(files, "thousand.csv", tmp_path / "thousand_scores.csv")
    out = tmp_path / "scores.csv"
    big, err = detect(files, "million.csv", out)
    assert "Traceback" not in err
    assert count_lines(out) == N_ROWS + 1  # one line per row, plus the header
    with open(out, "rb") as f:
        assert f.readline() == b"anomaly_score,is_anomaly\n"
        f.seek(-200, os.SEEK_END)
        last = f.read().splitlines()[-1].split(b",")
    assert len(last) == 2 and float(last[0]) >= 0 and last[1] in (b"0", b"1")
    print(f"peak RSS: {small / MiB:.0f} MiB for 1000 rows, {big / MiB:.0f} MiB for "
          f"{N_ROWS} rows")
    assert big < MAX_PEAK
    assert big - small < MAX_GROWTH, (small / MiB, big / MiB)
    out.unlink()


def test_the_memory_bound_would_catch_reading_the_table_whole(files):
    """The control: the same table read in one piece grows far past MAX_GROWTH."""
    read_whole = ("import sys; from aekit.tables.csv_table import CsvTable; "
                  "X, _ = CsvTable(sys.argv[1], chunksize=10**7).read_all(); print(X.shape)")
    small, _ = peak_rss(sys.executable, "-c", read_whole, files / "thousand.csv")
    big, _ = peak_rss(sys.executable, "-c", read_whole, files / "million.csv")
    assert big - small > MAX_GROWTH, (small / MiB, big / MiB)


# -- a bad cell near the end of a large CSV: one line on stderr, every time ----------------

RUNS = 50  # of `aekit detect`: 45 in one process (the threads of each run must be gone
#            before the next), 5 in their own processes (nothing more at exit either)
LATE_ROWS, LATE_BAD = 60_000, 59_990

REPEATED = ("import sys\nfrom aekit.cli import cli\nfor _ in range(int(sys.argv[1])):\n"
            "    try:\n        cli.main(args=sys.argv[2:], prog_name='aekit')\n"
            "    except SystemExit as e:\n        print(e.code, flush=True)\n")


@pytest.fixture(scope="module")
def late_bad_cell(tmp_path_factory):
    """60,000 rows of 10 decimals whose row 59,990 holds a bad cell, and a model for them."""
    d = tmp_path_factory.mktemp("late")
    X = np.random.RandomState(0).normal(size=(LATE_ROWS, 10))
    header = ",".join(f"x{j}" for j in range(10))
    lines = [",".join(f"{v:.4f}" for v in row) for row in X.tolist()]
    (d / "train.csv").write_text("\n".join([header] + lines[:2000]) + "\n")
    lines[LATE_BAD] = lines[LATE_BAD].replace(",", ",oops", 1)  # in column x1
    (d / "late.csv").write_text("\n".join([header] + lines) + "\n")
    (d / "bad_cell.txt").write_text(lines[LATE_BAD].split(",")[1])
    r = CliRunner().invoke(cli, ["train", "--data", str(d / "train.csv"), "--objective",
                                 "reconstruction", "--hidden", "8", "--code-size", "2",
                                 "--epochs", "1", "--device", "cpu", "-q",
                                 "-o", str(d / "m.safetensors")])
    assert r.exit_code == 0, r.output
    return d


@pytest.mark.slow
def test_a_bad_cell_near_the_end_gives_one_line_in_every_run(late_bad_cell):
    """The chunk before the bad one is being scored on other threads when the reader
    fails: exactly the one line, in every run (issue 22; pandas' DtypeWarning and a
    traceback once came with it)."""
    d = late_bad_cell
    args = ["detect", d / "late.csv", "-m", d / "m.safetensors", "--device", "cpu",
            "-o", d / "out.csv"]
    cell = (d / "bad_cell.txt").read_text()
    expected = f"Error: {d / 'late.csv'}: line {LATE_BAD + 2}, column 'x1' holds {cell!r}, " \
        "not a number"
    env = {**os.environ, "AEKIT_DEBUG": ""}
    in_one = RUNS - 5
    r = subprocess.run([sys.executable, "-c", REPEATED, str(in_one), *map(str, args)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.stdout.split() == ["1"] * in_one, r.stdout
    assert r.stderr.splitlines() == [expected] * in_one, r.stderr[-3000:]
    for _ in range(RUNS - in_one):
        r = subprocess.run([sys.executable, "-m", "aekit", *map(str, args)],
                           capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 1 and r.stderr.splitlines() == [expected], r.stderr[-3000:]
    assert not (d / "out.csv").exists()


def test_a_bad_cell_deep_in_a_chunk_brings_no_library_warning(tmp_path):
    """pandas' DtypeWarning ("Columns (1) have mixed types") once came before aekit's line
    for a bad cell 40,000 rows into a file of 20 columns (issue 23, item 2)."""
    X = np.random.RandomState(1).normal(size=(60_000, 20))
    header = ",".join(f"c{j}" for j in range(20))
    lines = [",".join(f"{v:.4f}" for v in row) for row in X.tolist()]
    (tmp_path / "train.csv").write_text("\n".join([header] + lines[:1000]) + "\n")
    lines[40_000] = lines[40_000].replace(",", ",oops", 1)
    (tmp_path / "bad.csv").write_text("\n".join([header] + lines) + "\n")
    runner = CliRunner()
    r = runner.invoke(cli, ["train", "--data", str(tmp_path / "train.csv"), "--objective",
                            "reconstruction", "--hidden", "8", "--code-size", "2", "--epochs",
                            "1", "--device", "cpu", "-q", "-o", str(tmp_path / "m.safetensors")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["detect", str(tmp_path / "bad.csv"), "-m",
                            str(tmp_path / "m.safetensors"), "--device", "cpu", "-o",
                            str(tmp_path / "out.csv")])
    cell = lines[40_000].split(",")[1]
    assert r.exit_code == 1 and r.stderr.splitlines() == [
        f"Error: {tmp_path / 'bad.csv'}: line 40002, column 'c1' holds {cell!r}, not a number"], \
        r.stderr
