"""Where a table's chunks run: worker processes, each importing TensorFlow once.

A worker process is spawned (a clean interpreter), dies with its parent, and
sizes TensorFlow's thread pools to one thread before any op runs: the rows
are small, and one thread per process keeps N workers on N cores. A pool of N
processes is given N x `CHUNKS_PER_PROCESS` chunks (a round), reusing its traced
graphs, then a fresh pool takes over (the models it built leave a little memory
behind each). Pools are recycled by their callers, not by `max_tasks_per_child`:
on Python releases without the fix of CPython gh-115634 (3.11 among them) a pool
whose workers retire at that limit while chunks wait can hang forever instead of
replacing them (a 3,159-row build hung so, at 2 x 40 chunks).

On a Dask cluster each chunk is one task; the Dask worker hands it to such a
process of its own (`run_chunk_on_dask_worker`), as hpo's cells run there.
Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from hpo.tables.plan import ChunkDone, ChunkJob

CHUNKS_PER_PROCESS = 40  # ~1,000 rows: a few hundred MB of leftovers, then a fresh process
TF_THREADS = 1


def prepare_process() -> None:
    """A worker process's start: quiet TensorFlow, one thread, die with the parent."""
    from hpo.run.runtime import (
        die_with_parent,
        import_tensorflow_quietly,
        set_threads,
        skip_teardown_at_exit,
    )

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    die_with_parent()
    skip_teardown_at_exit()  # the parent waits for the process to end: end it quickly
    import_tensorflow_quietly()
    set_threads(TF_THREADS)
    import hpo.tables.rows  # noqa: F401 (Keras, Keras Tuner and hpo's engine, once)

    gc.collect()
    gc.freeze()  # what exists now is never garbage: later collections skip it


def run_chunk(job: ChunkJob) -> ChunkDone:
    """A chunk, trained in this process."""
    from hpo.tables.rows import train_chunk

    return train_chunk(job)


def pool(workers: int) -> ProcessPoolExecutor:
    """`workers` spawned worker processes, kept until the pool is shut down."""
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=prepare_process
    )


_DASK_POOL: ProcessPoolExecutor | None = None
_DASK_CHUNKS = 0  # chunks given to _DASK_POOL's process
_DASK_LOCK = threading.Lock()


def run_chunk_on_dask_worker(job: ChunkJob) -> ChunkDone:
    """A Dask task: the chunk in this Dask worker's own worker process (one, kept for
    `CHUNKS_PER_PROCESS` chunks)."""
    global _DASK_POOL, _DASK_CHUNKS
    with _DASK_LOCK:
        if _DASK_POOL is not None and _DASK_CHUNKS >= CHUNKS_PER_PROCESS:
            _DASK_POOL.shutdown(wait=False)  # its process ends after the chunks it was given
            _DASK_POOL = None
        if _DASK_POOL is None:
            _DASK_POOL, _DASK_CHUNKS = pool(1), 0
        _DASK_CHUNKS += 1
        executor = _DASK_POOL
        # Submitted under the lock: another thread's swap cannot shut this pool down first
        # (a pool shut down with wait=False still runs what it was given).
        future = executor.submit(run_chunk, job)
    try:
        return future.result()
    except BrokenProcessPool:
        with _DASK_LOCK:  # the process died: the next chunk gets a new one
            if _DASK_POOL is executor:
                _DASK_POOL = None
        raise
