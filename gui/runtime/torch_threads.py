"""Keep torch's thread teams from competing: the full team for training, one thread elsewhere.

Why: a torch op in any other thread that runs multi-threaded makes OpenMP create a second
team of workers, which slows training for the rest of the process.
"""

from __future__ import annotations

import threading

import torch
from PySide6.QtCore import QObject, QRunnable, QThreadPool

_training_threads: int | None = None


def reserve_threads_for_training() -> None:
    """Call in the GUI thread before it runs any torch op (idempotent)."""
    global _training_threads
    if _training_threads is None:
        _training_threads = torch.get_num_threads()
        torch.set_num_threads(1)


def use_training_threads() -> None:
    """Call at the start of a training thread."""
    if _training_threads is not None:
        torch.set_num_threads(_training_threads)


class _Warm(QRunnable):
    def __init__(self, done: threading.Event) -> None:
        super().__init__()
        self.done = done

    def run(self) -> None:
        # torch fixes a thread's OpenMP count at its first parallel op; make that happen now.
        torch.set_num_threads(1)
        torch.ones(1 << 17).add_(1)
        self.done.set()


def single_thread_pool(parent: QObject) -> QThreadPool:
    """A pool of one thread that never expires and runs torch single-threaded.

    Create it as the window is built, before a run starts.
    """
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    pool.setExpiryTimeout(-1)
    warmed = threading.Event()
    pool.start(_Warm(warmed))
    warmed.wait(10)  # not waitForDone: that would also retire the thread just warmed
    return pool
