"""Keep torch's thread teams from competing: the full team for training, one thread elsewhere.

Why: a torch op in any other thread that runs multi-threaded makes OpenMP create a second
team of workers, which slows training for the rest of the process (with more workers than
cores, OpenMP's threads sleep at every barrier instead of spinning).

torch's count is a process-wide number that each thread copies into its own OpenMP setting
at its first parallel op, not when it sets the number: so each function here sets the
number and makes this thread take it at once, under one lock, or a helper whose first op
came after a training thread raised the number would run a second team.
"""

from __future__ import annotations

import threading

import torch

_full_count: int | None = None  # torch's thread count before we changed any
_lock = threading.Lock()


def _remember_full_count() -> None:
    global _full_count
    if _full_count is None:
        _full_count = torch.get_num_threads()


def _use(count: int) -> None:
    """This thread runs torch ops on ``count`` threads from now on."""
    with _lock:
        torch.set_num_threads(count)
        torch.get_num_threads()  # this thread's first parallel op would copy it only now


def reserve_threads_for_training() -> None:
    """Run torch single-threaded in the GUI thread; call there before its first torch op."""
    _remember_full_count()
    _use(1)


def share_threads_with_gui() -> None:
    """Undo :func:`reserve_threads_for_training`: the GUI thread gets the full count back."""
    if _full_count is not None:
        _use(_full_count)


def use_training_threads() -> None:
    """Call at the start of a training thread: the full count, whatever helpers set."""
    if _full_count is not None:
        _use(_full_count)


def use_one_thread() -> None:
    """Call at the start of a helper thread, before its first torch op."""
    _remember_full_count()
    _use(1)
