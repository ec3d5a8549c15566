"""aekit's CSV reader beside well-kept readers, on the same files (issue 16).

Each reader turns the same CSV file into float32 arrays chunk by chunk, as `aekit
detect` needs them (bounded memory, rows in order): aekit's reader (its vectorised
integer parser for files of plain integers, pandas' C parser otherwise), pandas
(chunked), polars (scan_csv(...).collect_batches()), pyarrow (open_csv, streaming, two
block sizes). Best of --repeat runs, one reader at a time, in one process; rows per
second and the time relative to aekit's. Rule of issue 16: a reader within 10% of
aekit's time, or faster, replaces aekit's own parser.

    python scripts/bench_csv_readers.py [--rows 100000] [--repeat 3] [--work /tmp/csvbench]
"""

import argparse
import gzip
import os
import time
from pathlib import Path

import numpy as np

MNIST = Path(os.environ.get("AEKIT_DATA", Path(__file__).resolve().parents[2] / "shared" /
                            "data" / "mnist"))


def make_files(work, rows):
    """An MNIST pixel table (784 integers per row) and a table of decimals (50 columns)."""
    work.mkdir(parents=True, exist_ok=True)
    pixels = work / f"pixels_{rows}.csv"
    if not pixels.exists():
        raw = gzip.open(MNIST / "train-images-idx3-ubyte.gz").read()
        X = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784)
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


def aekit_reader(path):
    from aekit.preprocessing import to_matrix
    from aekit.tables.csv_table import CsvTable

    table = CsvTable(path, chunksize=5000)
    return sum(len(to_matrix(c.features, np.float32)) for c in table.chunks())


def pandas_reader(path):
    import pandas as pd

    return sum(len(df.to_numpy(np.float32)) for df in pd.read_csv(path, chunksize=5000,
                                                                   engine="c"))


def polars_reader(path):
    import polars as pl

    return sum(len(df.to_numpy().astype(np.float32, copy=False))
               for df in pl.scan_csv(path).collect_batches(chunk_size=5000))


def pyarrow_reader(block):
    def read(path):
        import pyarrow.csv as pc

        reader = pc.open_csv(path, read_options=pc.ReadOptions(block_size=block))
        return sum(len(np.column_stack([c.to_numpy(zero_copy_only=False) for c in b.columns])
                       .astype(np.float32)) for b in reader)
    return read


READERS = {"aekit (CsvTable)": aekit_reader, "pandas (chunked C parser)": pandas_reader,
           "polars (scan_csv, batches)": polars_reader,
           "pyarrow (open_csv, 1 MiB blocks)": pyarrow_reader(1 << 20),
           "pyarrow (open_csv, 16 MiB blocks)": pyarrow_reader(16 << 20)}


def best_of(fn, path, repeat):
    best, rows = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        rows = fn(path)
        best = min(best, time.perf_counter() - start)
    return best, rows


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--work", type=Path, default=Path("/tmp/aekit_csvbench"))
    a = p.parse_args()
    import pandas
    import polars
    import pyarrow

    print(f"pandas {pandas.__version__}, polars {polars.__version__}, pyarrow "
          f"{pyarrow.__version__}; {os.cpu_count()} cores; best of {a.repeat}\n")
    for what, path in make_files(a.work, a.rows).items():
        size = path.stat().st_size / 2**20
        print(f"**{what}** ({a.rows:,} rows, {size:.0f} MiB)\n")
        print("| reader | seconds | rows/s | time vs aekit |\n|---|---:|---:|---:|")
        base = None
        for name, fn in READERS.items():
            seconds, rows = best_of(fn, path, a.repeat)
            assert rows == a.rows, (name, rows)
            base = base or seconds
            print(f"| {name} | {seconds:.2f} | {rows / seconds:,.0f} | {seconds / base:.2f}x |",
                  flush=True)
        print()


if __name__ == "__main__":
    main()
