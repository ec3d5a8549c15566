"""Threads that keep both cores busy: reading ahead, mapping in order, and numpy's work
on rows split across the cores."""

import contextlib
import threading


def prefetch(items, depth=2):
    """Iterate over ``items`` in a background thread, at most ``depth`` items ahead.

    polars releases the GIL while it parses, so the next chunk of a CSV is parsed
    on one core while the current one is scored on another.
    An exception in the producer is raised here, at the item where it happened;
    leaving the loop early stops the producer and closes ``items``.
    """
    import queue
    import threading

    q = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(entry):
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as e:  # re-raised in the consumer's thread
            put((end, e))

    worker = threading.Thread(target=produce, name="aekit-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = q.get()
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()


def ordered_map(fn, items, workers):
    """fn over items on ``workers`` threads, results in the items' order, few in flight."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix="aekit-score")
    pending = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # an error or an early stop (Ctrl-C, a closed pipe): drop the queued work
        pool.shutdown(wait=True, cancel_futures=True)


def available_cores():
    """The CPUs this process may run on (its affinity: a container's or taskset's share),
    else the machine's."""
    import os

    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


def scoring_threads(cores=None):
    """(scoring threads, BLAS threads each) on ``cores`` CPUs (default:
    :func:`available_cores`): numpy's elementwise work (sigmoid, errors) runs on one core,
    so chunks are scored side by side, the cores shared out among them."""
    cores = max(1, int(cores or available_cores()))
    workers = min(4, cores)
    return workers, max(1, cores // workers)


_BLAS_LIMIT = threading.RLock()


@contextlib.contextmanager
def blas_threads(n):
    """BLAS held to ``n`` threads inside (threadpoolctl). The limit is the whole
    process's, and two threads that set and restore it at once would leave it at the
    smaller: one holder at a time, the others wait."""
    from threadpoolctl import threadpool_limits

    with _BLAS_LIMIT, threadpool_limits(n, user_api="blas"):
        yield


def across_cores(fn, X, cores=None):
    """``fn(part)`` over the rows of ``X`` split into one part per scoring thread on
    ``cores`` CPUs (:func:`scoring_threads`), the parts side by side, each with its share
    of BLAS threads (:func:`blas_threads`); the results (arrays, one row per row of
    ``X``) concatenated in order. numpy releases the GIL in its loops and products, so
    the parts run at once."""
    import numpy as np

    workers, threads = scoring_threads(cores)
    step = max(1, -(-len(X) // workers))  # (no part at all for no rows)
    with blas_threads(threads):
        parts = list(ordered_map(fn, (X[s:s + step] for s in range(0, len(X), step)), workers))
    return np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else fn(X)
