"""aekit's CSV reader beside well-kept readers, on the same files (issues 16 and 22).

Each reader turns the same CSV file into float64 arrays chunk by chunk, as `aekit
detect` gets them (bounded memory, rows in order, about 5,000 rows a chunk): aekit's
reader (`CsvTable`: blocks of records parsed by polars), the same from another checkout
(``--compare DIR``, e.g. the hand-written reader of commit 19268e3), pandas (chunked C
parser), polars (scan_csv(...).collect_batches()) and pyarrow (open_csv, streaming).
Every run is a fresh process that imports its library first and times only the
reading; the readers take turns, --repeat rounds, so that all see the same machine
load. Best and median seconds, rows per second (median), and the median relative to
aekit's.

    python scripts/bench_csv_readers.py [--rows 100000] [--repeat 5] [--compare DIR]
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
CHUNK = 5000

# each reader: code run in a fresh process with the file as sys.argv[1]; it prints the
# rows read and the seconds the reading took
TIMED = "import sys, time\n{setup}\nt = time.perf_counter()\nrows = read(sys.argv[1])\n" \
        "print(rows, time.perf_counter() - t)\n"
READERS = {
    "aekit (CsvTable)": (  # to_matrix: a DataFrame (the old reader's decimals) as an array
        "from aekit.preprocessing import to_matrix\n"
        "from aekit.tables.csv_table import CsvTable\n"
        "def read(path):\n"
        "    return sum(len(to_matrix(c.features))\n"
        "               for c in CsvTable(path, chunksize=%d).chunks())" % CHUNK),
    "pandas (chunked C parser)": (
        "import numpy as np, pandas as pd\n"
        "def read(path):\n"
        "    return sum(len(df.to_numpy(np.float64))\n"
        "               for df in pd.read_csv(path, chunksize=%d, engine='c'))" % CHUNK),
    "polars (scan_csv, batches)": (
        "import numpy as np, polars as pl\n"
        "def read(path):\n"
        "    return sum(len(df.to_numpy().astype(np.float64, copy=False))\n"
        "               for df in pl.scan_csv(path).collect_batches(chunk_size=%d))" % CHUNK),
    "pyarrow (open_csv, 1 MiB blocks)": (
        "import numpy as np, pyarrow.csv as pc\n"
        "def read(path):\n"
        "    reader = pc.open_csv(path, read_options=pc.ReadOptions(block_size=1 << 20))\n"
        "    return sum(len(np.column_stack([c.to_numpy(zero_copy_only=False)\n"
        "                                    for c in b.columns]).astype(np.float64))\n"
        "               for b in reader)"),
}


def make_files(work, rows):
    """An MNIST pixel table (784 integers per row) and a table of decimals (50 columns)."""
    work.mkdir(parents=True, exist_ok=True)
    pixels = work / f"pixels_{rows}.csv"
    if not pixels.exists():
        sys.path.insert(0, str(HERE))
        from aekit.datasets import load_mnist, mnist_folder

        # found as the library and the tests find it ($AEKIT_DATA, the cache, shared/)
        folder = mnist_folder(also=[HERE.parent / "shared" / "data" / "mnist"], download=False)
        X = np.round(load_mnist("train", root=folder)[0] * 255).astype(np.uint8)
        X = np.tile(X, (rows // len(X) + 1, 1))[:rows]
        with open(pixels, "w") as f:
            f.write(",".join(f"px{i}" for i in range(784)) + "\n")
            for s in range(0, rows, 10_000):
                f.write("\n".join(",".join(map(str, r)) for r in X[s:s + 10_000].tolist()) + "\n")
    decimals = work / f"decimals_{rows}.csv"
    if not decimals.exists():
        rng = np.random.RandomState(0)
        X = rng.normal(size=(rows, 50)) * 100
        np.savetxt(decimals, X, fmt="%.6f", delimiter=",",
                   header=",".join(f"c{i}" for i in range(50)), comments="")
    return {"MNIST pixels, 784 integer columns": pixels, "decimals, 50 columns": decimals}


def timed(code, path, pythonpath):
    """``(rows, seconds)`` of one reading in a fresh process (from the root folder, so
    that no checkout in the working folder comes first)."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    r = subprocess.run([sys.executable, "-c", TIMED.format(setup=code), str(path)],
                       capture_output=True, text=True, env=env, cwd="/")
    if r.returncode:
        raise SystemExit(r.stderr[-2000:])
    rows, seconds = r.stdout.split()
    return int(rows), float(seconds)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--compare", type=Path, help="another checkout of aekit")
    p.add_argument("--work", type=Path, default=Path("/tmp/aekit_csvbench"))
    a = p.parse_args()
    import pandas
    import polars
    import pyarrow

    readers = [(name, code, HERE) for name, code in READERS.items()]
    if a.compare:
        readers.insert(1, (f"aekit at {a.compare}", READERS["aekit (CsvTable)"], a.compare))
    print(f"pandas {pandas.__version__}, polars {polars.__version__}, pyarrow "
          f"{pyarrow.__version__}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start; {a.repeat} rounds\n")
    for what, path in make_files(a.work, a.rows).items():
        size = path.stat().st_size / 2**20
        times = {name: [] for name, _, _ in readers}
        for _ in range(a.repeat):
            for name, code, pythonpath in readers:
                rows, seconds = timed(code, path, pythonpath)
                assert rows == a.rows, (name, rows)
                times[name].append(seconds)
        base = statistics.median(times[readers[0][0]])
        print(f"**{what}** ({a.rows:,} rows, {size:.0f} MiB)\n")
        print("| reader | best (s) | median (s) | rows/s (median) | median vs aekit |\n"
              "|---|---:|---:|---:|---:|")
        for name, got in times.items():
            median = statistics.median(got)
            print(f"| {name} | {min(got):.2f} | {median:.2f} | {a.rows / median:,.0f} | "
                  f"{median / base:.2f}x |", flush=True)
        print()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
