"""Scoring many files, or a Dask DataFrame, on a Dask cluster; the recipe for Spark.

Each partition is scored as `aekit detect` scores a chunk (:func:`score_frame`: the
same :class:`~aekit.scorer.Scorer` and :class:`~aekit.flagging.RowFlagger`), with the
model file opened once per worker process (:func:`cached_scorer`: the tasks carry the
model's path, never the model).
Every output row carries its input row's identity, ``file`` and ``row`` (1-based
within its file) or the id columns given, so that a task retried after a worker died
gives the same rows again and the result holds every row exactly once.

Dask is an optional dependency: ``pip install "aekit[dask]"``.

Spark (not tested here: no Spark runs in aekit's CI) takes the same per-partition
function through ``mapInPandas``::

    from aekit.distributed import score_partition

    def score(frames):                      # runs on the executors
        for frame in frames:
            yield score_partition(frame, "model.safetensors", carry=["id"])

    schema = "id string, anomaly_score double, is_anomaly byte"
    scores = spark.read.parquet("s3://bucket/rows/").mapInPandas(score, schema)

The model file must be readable at that path on every executor (a shared file system,
or ``SparkContext.addFile`` and ``SparkFiles.get``).
"""

import functools
import glob
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError


@functools.lru_cache(maxsize=4)
def _scorer(path, device, stamp):  # stamp (mtime, size): a changed file is opened again
    from .scorer import Scorer

    return Scorer(path, device=device)


def cached_scorer(model, device="cpu"):
    """The :class:`~aekit.scorer.Scorer` of ``model``, opened once per process (and again
    only when the file changes)."""
    from .pretrained import resolve

    path = resolve(model)
    st = os.stat(path)
    return _scorer(str(path), device, (st.st_mtime_ns, st.st_size))


def score_partition(frame, model, feature_columns=None, carry=(), contamination=None,
                    threshold=None, device="cpu"):
    """Score one pandas DataFrame (a Dask or Spark partition) with the model file ``model``.

    Returns a DataFrame of the ``carry`` columns, ``anomaly_score`` and ``is_anomaly``, one
    row per input row, in order. Columns are matched to the model's features by name
    (:mod:`aekit.preprocessing`). ``threshold`` (a number) flags rows above it; else the
    model's own rule with ``contamination``.
    """
    return score_frame(frame, cached_scorer(model, device), feature_columns, carry,
                       contamination, threshold)


def score_frame(frame, scorer, feature_columns=None, carry=(), contamination=None,
                threshold=None):
    """Score the rows of one DataFrame (a Dask or Spark partition): a DataFrame of the
    ``carry`` columns, ``anomaly_score`` and ``is_anomaly``, one row per input row.

    ``feature_columns``: the columns to score (default: all but ``carry``), matched
    to the model's features by name. ``scorer``: a :class:`~aekit.scorer.Scorer` (open it once per
    worker, not per partition).
    """
    from .flagging import RowFlagger
    from .model_input import ModelInput
    from .tables.columns import Chunk

    carry = list(carry)
    features = frame[feature_columns if feature_columns is not None else
                     [c for c in frame.columns if c not in carry]]
    names = [str(c) for c in features.columns]
    model_input = ModelInput(scorer.schema, names, len(names), "the partition")
    scoring = RowFlagger(scorer, contamination, threshold)
    chunk = Chunk(features, None, 1)
    X = model_input.convert(chunk)
    with model_input.located(chunk):
        scores, flagged, _ = scoring.score(X)
    return scoring.frame(frame[carry] if carry else None, scores, flagged, None)



def score_dask_frame(ddf, model, feature_columns=None, carry=(), contamination=None,
                     threshold=None, device="cpu"):
    """A Dask DataFrame of scores, partition for partition (see :func:`score_partition`).

    The threshold is resolved once, here, so that every partition flags rows alike.
    """
    import pandas as pd

    if threshold is None:
        threshold, _ = cached_scorer(model, device).rule.threshold_for(contamination)
    meta = pd.DataFrame({**{c: pd.Series(dtype=ddf[c].dtype) for c in carry},
                         "anomaly_score": pd.Series(dtype="float64"),
                         "is_anomaly": pd.Series(dtype="int8")})
    return ddf.map_partitions(score_partition, str(model), feature_columns, tuple(carry),
                              None, float(threshold), device, meta=meta)


# -- files on a cluster (`aekit detect FILES... --scheduler`) ---------------------------

@dataclass(frozen=True)
class FilePart:
    """A unit of work: a whole CSV file, or one row group of a Parquet file (whose first
    row is ``first_row``)."""

    path: str
    row_group: int = None
    first_row: int = 1


def expand_inputs(inputs):
    """The files that ``inputs`` (paths and glob patterns) name, in order, each once.

    Raises
    ------
    DataError
        A pattern matches nothing, or a path does not exist.
    """
    out = []
    for spec in inputs:
        matches = sorted(glob.glob(str(spec))) if glob.has_magic(str(spec)) else [str(spec)]
        if not matches:
            raise DataError(f"no file matches {spec}")
        for m in matches:
            if not Path(m).exists():
                raise DataError(f"file not found: {m}")
            if m not in out:
                out.append(m)
    return out


def file_parts(paths):
    """The :class:`FilePart` units of ``paths``: one per CSV file, one per Parquet row group."""
    parts = []
    for path in paths:
        if str(path).lower().endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            first = 1
            for g in range(meta.num_row_groups):
                parts.append(FilePart(str(path), g, first))
                first += meta.row_group(g).num_rows
        else:
            parts.append(FilePart(str(path)))
    return parts


def score_file_part(part, model, table, threshold, device="cpu"):
    """Score one :class:`FilePart`: a DataFrame of ``file``, ``row``, the carried columns,
    ``anomaly_score`` and ``is_anomaly``. ``table``: the column roles, as
    :func:`aekit.tables.open_table` takes them."""
    import pandas as pd

    from .flagging import RowFlagger
    from .model_input import ModelInput
    from .tables import open_table

    scorer = cached_scorer(model, device)
    extra = {} if part.row_group is None else {"row_groups": [part.row_group]}
    source = open_table(part.path, **table, **extra)
    model_input = ModelInput.for_table(source, scorer.schema)
    scoring = RowFlagger(scorer, threshold=threshold)
    frames = []
    for chunk, X in model_input.arrays(source.chunks()):
        with model_input.located(chunk):
            scores, flagged, _ = scoring.score(X)
        frame = scoring.frame(chunk.carried, scores, flagged, None, added=("file", "row"))
        first = part.first_row + chunk.first_row - 1
        frame.insert(0, "row", np.arange(first, first + len(frame)))
        frame.insert(0, "file", part.path)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def detect_files(paths, model, writer, table, threshold, scheduler=None, workers=None,
                 device="cpu", on_frame=None):
    """Score every row of ``paths`` on a Dask cluster into ``writer``, in file and row order.

    ``scheduler``: the address of a running ``dask.distributed`` scheduler, or None for a
    local cluster of ``workers`` processes; ``on_frame(frame)`` sees each part's output
    rows once written. Returns ``(rows, flagged)``.
    """
    from dask.distributed import Client, LocalCluster

    parts = file_parts(paths)
    with _client(scheduler, workers, Client, LocalCluster) as client:
        futures = client.map(score_file_part, parts, model=str(model), table=table,
                             threshold=threshold, device=device, pure=False)
        rows = flagged = 0
        for future in futures:  # written in order; later parts keep computing meanwhile
            frame = future.result()
            writer.write(frame)
            rows += len(frame)
            flagged += int(frame["is_anomaly"].sum())
            if on_frame is not None:
                on_frame(frame)
    return rows, flagged


def _client(scheduler, workers, Client, LocalCluster):
    import logging

    # a failed task is reported once, as aekit's one line; the workers' own logs (multi-line,
    # with tracebacks) stay quiet (worker processes inherit the environment)
    os.environ.setdefault("DASK_DISTRIBUTED__LOGGING__DISTRIBUTED", "critical")
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=workers or min(4, os.cpu_count() or 1),
                           threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0")  # loopback only; any free port
    return _Owned(Client(cluster), cluster)


class _Owned:
    """A client and the local cluster it owns, closed together."""

    def __init__(self, client, cluster):
        self.client, self.cluster = client, cluster

    def __enter__(self):
        return self.client

    def __exit__(self, *exc):
        self.client.close()
        self.cluster.close()
