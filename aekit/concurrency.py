"""Threads that keep both cores busy: reading ahead, mapping in order, and numpy's work
on rows split across the cores."""

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


def scoring_threads():
    """(scoring threads, BLAS threads each): numpy's elementwise work (sigmoid, errors) runs
    on one core, so chunks are scored side by side, the cores shared out among them."""
    import os

    cores = os.cpu_count() or 1
    workers = max(1, min(4, cores))
    return workers, max(1, cores // workers)


def across_cores(fn, X):
    """``fn(part)`` over the rows of ``X`` split into one part per scoring thread
    (:func:`scoring_threads`), the parts side by side, each with its share of BLAS
    threads; the results (arrays, one row per row of ``X``) concatenated in order.
    numpy releases the GIL in its loops and products, so the parts run at once."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    workers, blas_threads = scoring_threads()
    step = -(-len(X) // workers) if len(X) else 1
    with threadpool_limits(blas_threads, user_api="blas"):
        parts = list(ordered_map(fn, (X[s:s + step] for s in range(0, len(X), step)), workers))
    return np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else fn(X)
