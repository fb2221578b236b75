"""Keep torch's thread teams from competing: the full team for training, one thread elsewhere.

Why: a torch op in any other thread that runs multi-threaded makes OpenMP create a second
team of workers, which slows training for the rest of the process.
"""

from __future__ import annotations

import threading

import torch
from PySide6.QtCore import QObject, QRunnable, QThreadPool

_full_count: int | None = None  # torch's thread count before we changed any


def _remember_full_count() -> None:
    global _full_count
    if _full_count is None:
        _full_count = torch.get_num_threads()


def reserve_threads_for_training() -> None:
    """Run torch single-threaded in the GUI thread; call there before its first torch op."""
    _remember_full_count()
    torch.set_num_threads(1)


def share_threads_with_gui() -> None:
    """Undo :func:`reserve_threads_for_training`: the GUI thread gets the full count back."""
    if _full_count is not None:
        torch.set_num_threads(_full_count)


def use_training_threads() -> None:
    """Call at the start of a training thread: the full count, whatever helpers set."""
    if _full_count is not None:
        torch.set_num_threads(_full_count)


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

    Create it in the GUI thread as the window is built, before a run starts: its warm-up
    lowers the count later threads start with, so the full count is remembered first.
    """
    _remember_full_count()
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    pool.setExpiryTimeout(-1)
    warmed = threading.Event()
    pool.start(_Warm(warmed))
    warmed.wait(10)  # not waitForDone: that would also retire the thread just warmed
    return pool
