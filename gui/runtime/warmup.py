"""Import torch's optimizer machinery (``torch._dynamo``) in the background at start-up.

Why: the first optimizer imports it, and done by the first run's worker that import holds
the GIL long enough to freeze the window; a run started sooner waits for it to finish.
The app starts it once its window is on the screen (:func:`warm_up_once_on_screen`): on
two cores, an import running beside the window's building and first painting slows them.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

FALLBACK_MS = 3000  # a window never exposed (minimised, another desktop) waits no longer

_thread: threading.Thread | None = None
_scheduled = False  # to start once a window is on the screen


def _import_optimizer_machinery() -> None:
    import torch._dynamo  # noqa: F401 - imported for its side effect (module cache)


def warm_up_in_background() -> None:
    """Start the warm-up once per process (idempotent)."""
    global _thread
    if _thread is None:
        # Not a daemon: cut off mid-import by an early exit, it raised a traceback.
        _thread = threading.Thread(target=_import_optimizer_machinery, name="torch-warmup")
        _thread.start()


class _AfterFirstFrame(QObject):
    """Starts the warm-up when the event loop next turns after the window's first exposure
    (whose handling paints the first frame)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QEvent.Type.Expose and watched.isExposed():
            watched.removeEventFilter(self)
            QTimer.singleShot(0, warm_up_in_background)
        return False


def warm_up_once_on_screen(window: QWidget) -> None:
    """Start the warm-up once ``window`` (shown) has painted its first frame on the screen,
    or after :data:`FALLBACK_MS` at the latest."""
    global _scheduled
    _scheduled = True
    handle = window.windowHandle()
    if handle is None or handle.isExposed():
        QTimer.singleShot(0, warm_up_in_background)
        return
    handle.installEventFilter(_AfterFirstFrame(handle))
    QTimer.singleShot(FALLBACK_MS, warm_up_in_background)


def done() -> bool:
    """Whether no warm-up is under way or waiting for its window."""
    if _thread is None:
        return not _scheduled
    return not _thread.is_alive()


def wait(timeout: float | None = None) -> bool:
    """Block until the warm-up is done (for measurements), starting one that still waits
    for its window; True if it is done."""
    if _scheduled:
        warm_up_in_background()
    if _thread is not None:
        _thread.join(timeout)
    return done()
