"""Pay torch's one-off import cost before the first run, not during it.

The first ``torch.optim`` optimizer imports ``torch._dynamo`` (about 900 modules, 1.5 s
on a 2-core machine). Done inside the first run's worker thread, that import holds the
GIL for long stretches and froze the window for over 100 ms. Importing it in a
background thread as the window opens moves the cost to a moment when nothing is
happening yet; a run started sooner simply waits for the import to finish.
"""

from __future__ import annotations

import threading

_thread: threading.Thread | None = None


def _import_optimizer_machinery() -> None:
    import torch._dynamo  # noqa: F401 - imported for its side effect (module cache)


def warm_up_in_background() -> None:
    """Start the warm-up once per process (idempotent)."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_import_optimizer_machinery, name="torch-warmup",
                                   daemon=True)
        _thread.start()


def wait(timeout: float | None = None) -> bool:
    """Block until the warm-up is done (for measurements); True if it is."""
    if _thread is not None:
        _thread.join(timeout)
    return _thread is None or not _thread.is_alive()
