"""Keep torch's thread teams from competing: one for training, none for the GUI.

A torch op in the GUI thread (the layer summary's dry run, say) makes OpenMP create a
second team of worker threads. On a 2-core machine that second team slows a training
thread by about 35% for the rest of the process (measured: 0.72 s -> 0.99 s per SimpleCNN
epoch on the bundled sample). So the GUI thread runs torch single-threaded, and the
training thread asks for the machine's full count when it starts.
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
        # torch initialises a thread's OpenMP count at its first parallel op, from the
        # process-wide setting; an op big enough to go parallel makes that happen now.
        torch.set_num_threads(1)
        torch.ones(1 << 17).add_(1)
        self.done.set()


def single_thread_pool(parent: QObject) -> QThreadPool:
    """A pool of one thread that never expires and runs torch single-threaded.

    Create it as the window is built, before any run raises the process-wide count: a
    helper thread started later would make a second OpenMP team (see above).
    """
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    pool.setExpiryTimeout(-1)
    warmed = threading.Event()
    pool.start(_Warm(warmed))
    warmed.wait(10)  # not waitForDone: that would also retire the thread just warmed
    return pool
