"""Process-level controls a cell needs: seeds, TensorFlow threads, dying with the parent, gc."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

from hpo.errors import HpoError


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up lines kept off this process's stderr.

    TensorFlow's absl logging prints oneDNN and CUDA notes straight to file
    descriptor 2 at import and at its first device query, before any Python
    setting can reach it (TF_CPP_MIN_LOG_LEVEL does not stop them). Each cell
    runs in a fresh process, so a session printed them once per cell. Errors
    still surface: an import that fails raises after stderr is restored.
    """
    import os
    import sys

    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


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


# SIGINTs (Ctrl-C) the running command's handler has seen (`counting_interrupts`): read by a
# search, whose trial may fail of the interrupt inside TensorFlow instead of raising it.
_INTERRUPTS: list[int] = []


def interrupted() -> bool:
    """Whether a Ctrl-C reached the running command (`counting_interrupts`)."""
    return bool(_INTERRUPTS)


@contextlib.contextmanager
def counting_interrupts(ignore_after: bool = False) -> Iterator[None]:
    """Within the block, count SIGINTs (Ctrl-C) as they arrive, raising KeyboardInterrupt as
    Python does; `interrupted()` says whether one has arrived. Only
    in the main thread (where signals can be set). Afterwards the previous handler is
    restored, or with `ignore_after` SIGINT is ignored: a Ctrl-C while the process exits
    (its exit handlers, output flushed) would otherwise be a traceback after the work was
    done and saved."""
    import _thread
    import signal
    import threading

    received = _INTERRUPTS
    received.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    leaving = False

    def on_sigint(signum: int, frame: object) -> None:
        received.append(signum)
        if not leaving:
            raise KeyboardInterrupt

    def unraisable(hook_args: Any) -> None:
        # Ctrl-C landing in a weakref callback or a __del__ cannot be raised there: Python
        # would print it as a traceback and go on. Deliver it to the main thread again,
        # once this hook has returned (from here it would land in the hook itself).
        if hook_args.exc_type is KeyboardInterrupt:
            threading.Timer(0.01, _thread.interrupt_main).start()
        else:
            previous_hook(hook_args)

    previous, previous_hook = signal.signal(signal.SIGINT, on_sigint), sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        leaving = ignore_after
        signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_after else previous)
        sys.unraisablehook = previous_hook
        received.clear()  # a later search in this process was not interrupted


def exit_now(code: int) -> NoReturn:
    """Exit with `code` after the exit handlers, skipping the interpreter's teardown.

    With TensorFlow loaded, tearing down the interpreter (freeing every module and
    object one by one) takes a second or two, after all work is done and saved.
    Exit handlers (logging, MLflow, TensorBoard writers) still run; output is flushed.
    """
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def skip_teardown_at_exit() -> None:
    """In a worker process: once the exit handlers registered after this call have run, exit.

    Registered before TensorFlow is imported, this handler runs after the ones
    TensorFlow and Keras register (handlers run last-registered first), and ends
    the process as `exit_now` does.
    """
    import atexit

    def leave() -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0)

    atexit.register(leave)
