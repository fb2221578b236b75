"""Keep torch's thread teams from competing: one for training, none for the GUI.

A torch op in the GUI thread (the layer summary's dry run, say) makes OpenMP create a
second team of worker threads. On a 2-core machine that second team slows a training
thread by about 35% for the rest of the process (measured: 0.72 s -> 0.99 s per SimpleCNN
epoch on the bundled sample). So the GUI thread runs torch single-threaded, and the
training thread asks for the machine's full count when it starts.
"""

from __future__ import annotations

import torch

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
