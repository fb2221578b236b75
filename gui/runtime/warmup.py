"""Import torch's optimizer machinery (``torch._dynamo``) in the background at start-up.

Why: the first optimizer imports it, and done by the first run's worker that import holds
the GIL long enough to freeze the window; a run started sooner waits for it to finish.
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
        # Not a daemon: cut off mid-import by an early exit, it raised a traceback.
        _thread = threading.Thread(target=_import_optimizer_machinery, name="torch-warmup")
        _thread.start()


def wait(timeout: float | None = None) -> bool:
    """Block until the warm-up is done (for measurements); True if it is."""
    if _thread is not None:
        _thread.join(timeout)
    return _thread is None or not _thread.is_alive()
