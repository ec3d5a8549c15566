"""Threads that keep both cores busy: reading ahead, and mapping in order."""

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
