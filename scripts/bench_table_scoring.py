"""`aekit detect` end to end on tables: what the masked objective costs at scoring time
(issue 17), and what the CSV reader costs (issue 22), beside another checkout's reader.

Cases (each an `aekit detect TABLE -m MODEL -q -o scores.csv`, timed end to end:
start-up, reading, scoring and writing):

- ``decimals``: for each of --widths, a table of --rows rows of correlated Gaussian
  features written with 5 significant digits, scored by a masked and by a
  reconstruction model (`aekit train --data` on its first 5,000 rows, auto sizes, 5
  epochs: the speed of scoring does not depend on how well the model was trained);
- ``pixels``: --pixels rows of MNIST test digits (784 integers 0..255, a header
  px0..px783), scored by the bundled mnist-detector;
- ``million``: 1,000,000 rows of 20 numbers d.ddd (as tests/test_large_input.py
  writes them), scored by a small reconstruction model: peak memory.

Each command runs in a fresh wrapper process that reads its peak resident memory
(getrusage). With ``--compare DIR`` (another checkout of aekit, e.g. made by
``git worktree add /tmp/aekit-old 19268e3``), every command is also run with DIR's code
(PYTHONPATH), alternately with this checkout's, --repeat times each, so that both
see the same machine load; the table gives the best and the median of each and the
ratio of the medians (this checkout / DIR: below 1 is faster).

    python scripts/bench_table_scoring.py [--cases decimals,pixels,million] [--rows 200000]
        [--widths 10,50] [--pixels 100000] [--repeat 3] [--compare DIR] [--work DIR]
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
WRAPPER = ("import resource, subprocess, sys, time\n"
           "t = time.perf_counter()\n"
           "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
           "t = time.perf_counter() - t\n"
           "assert p.returncode == 0, p.stderr.decode()[-2000:]\n"
           "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def aekit(code, *args):
    """``(wall seconds, peak RSS MiB)`` of `aekit ARGS` run with the package at ``code``
    (from the root folder, so that no checkout in the working folder comes first)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "aekit", *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd="/")
    if r.returncode:
        raise SystemExit(f"aekit {' '.join(map(str, args))} failed ({code}):\n{r.stderr[-2000:]}")
    t, rss = r.stdout.split()
    return float(t), int(rss) / 1024


def decimal_table(work, rows, width):
    path = work / f"table_{width}x{rows}.csv"
    if not path.exists():
        rng = np.random.RandomState(0)
        latent = rng.normal(size=(rows, 3))
        X = latent @ rng.normal(size=(3, width)) + 0.3 * rng.normal(size=(rows, width))
        np.savetxt(path, X, fmt="%.5g", delimiter=",",
                   header=",".join(f"f{j}" for j in range(width)), comments="")
    train = work / f"train_{width}.csv"
    if not train.exists():
        with open(path) as src, open(train, "w") as dst:
            for i, line in enumerate(src):
                if i > 5000:
                    break
                dst.write(line)
    return path, train


def pixel_table(work, rows):
    """MNIST test digits, repeated, as 0..255 integers with a header."""
    path = work / f"pixels_{rows}.csv"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        from aekit.datasets import load_mnist, mnist_folder

        # found as the library and the tests find it ($AEKIT_DATA, the cache, shared/)
        folder = mnist_folder(also=[HERE.parent / "shared" / "data" / "mnist"], download=False)
        X = np.round(load_mnist("test", root=folder)[0] * 255).astype(np.uint8)
        lines = [",".join(map(str, r)) for r in X.tolist()]
        with open(path, "w") as f:
            f.write(",".join(f"px{i}" for i in range(784)) + "\n")
            for i in range(rows):
                f.write(lines[i % len(lines)] + "\n")
    return path


def million_table(work):
    sys.path.insert(0, str(HERE / "tests"))
    from test_large_input import write_table

    path, small = work / "million.csv", work / "million_train.csv"
    if not path.exists():
        write_table(path, 1_000_000, seed=3)
        write_table(small, 2000, seed=1)
    return path, small


def cases(a, work):
    """``(case, rows, table, model)`` to time, training the models with this checkout."""
    out = []
    for case in a.cases.split(","):
        if case == "decimals":
            for width in map(int, a.widths.split(",")):
                path, train = decimal_table(work, a.rows, width)
                for objective in a.objectives.split(","):
                    model = work / f"{objective}_{width}.safetensors"
                    aekit(HERE, "train", "--data", train, "--objective", objective, "--epochs",
                          5, "--seed", 0, "--device", "cpu", "-q", "-o", model)
                    out.append((f"{width} decimals, {objective}", a.rows, path, model))
        elif case == "pixels":
            out.append(("784 pixels, mnist-detector", a.pixels, pixel_table(work, a.pixels),
                        "mnist-detector"))
        elif case == "million":
            path, train = million_table(work)
            model = work / "million.safetensors"
            aekit(HERE, "train", "--data", train, "--hidden", 16, "--code-size", 4,
                  "--objective", "reconstruction", "--epochs", 2, "--device", "cpu", "-q",
                  "-o", model)
            out.append(("20 decimals d.ddd, reconstruction", 1_000_000, path, model))
        else:
            raise SystemExit(f"unknown case {case!r}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default="decimals,pixels")
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--widths", default="10,50")
    p.add_argument("--objectives", default="masked,reconstruction")
    p.add_argument("--pixels", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--compare", type=Path, help="another checkout of aekit, run alternately")
    p.add_argument("--work", type=Path, default=Path("/tmp/aekit_table_scoring"))
    a = p.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    codes = {"this checkout": HERE, **({"--compare": a.compare} if a.compare else {})}
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start; "
          f"{a.repeat} runs of each, alternately\n")
    print("| table | rows | code | best (s) | median (s) | rows/s (median) | peak RSS (MiB) "
          "| median vs --compare | load (1 min) |\n|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for case, rows, path, model in cases(a, a.work):
        runs = {name: [] for name in codes}
        for _ in range(a.repeat):
            for name, code in codes.items():
                runs[name].append(aekit(code, "detect", path, "-m", model, "-q", "-o",
                                        a.work / "scores.csv"))
        load = os.getloadavg()[0]  # other jobs share the machine: say how busy it was
        base = statistics.median(t for t, _ in runs["--compare"]) if a.compare else None
        for name, got in runs.items():
            median = statistics.median(t for t, _ in got)
            ratio = f"{median / base:.2f}x" if base else ""
            print(f"| {case} | {rows:,} | {name} | {min(t for t, _ in got):.2f} | {median:.2f} "
                  f"| {rows / median:,.0f} | {max(m for _, m in got):,.0f} | {ratio} "
                  f"| {load:.1f} |",
                  flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
