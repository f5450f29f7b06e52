"""Process-level controls a cell needs: seeds, TensorFlow threads, dying with the parent, gc."""

from __future__ import annotations

import contextlib
import gc
import random
from collections.abc import Iterator

from hpo.errors import HpoError


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and Keras (and through it the backend)."""
    import keras
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def set_threads(n: int) -> None:
    """Size TensorFlow's intra- and inter-op thread pools; only before it runs an op.

    Small models gain little from threads, and parallel cells should not
    oversubscribe the cores: a worker per core runs each with one thread.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError as e:
        raise HpoError(f"cannot set TensorFlow threads to {n}: {e}") from None


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere).

    A session killed with SIGKILL cannot stop its helpers itself; without this
    they would go on searching, orphaned, beside the session that resumes.
    """
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


@contextlib.contextmanager
def frozen_gc() -> Iterator[None]:
    """Keep objects that exist now out of the collector's scans until the block ends.

    Keras Tuner runs a full gc.collect() before every trial, and so does Keras'
    clear_session(); with TensorFlow loaded each took ~0.4 s here. Freezing what
    exists now (modules, data) leaves only the search's own objects to scan.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
