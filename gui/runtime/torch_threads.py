"""Keep torch's thread teams from competing: the full team for training, one thread elsewhere.

Why: a torch op in any other thread that runs multi-threaded makes OpenMP create a second
team of workers, which slows training for the rest of the process.
"""

from __future__ import annotations

import torch

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


def use_one_thread() -> None:
    """Call at the start of a helper thread, before its first torch op."""
    _remember_full_count()
    torch.set_num_threads(1)
