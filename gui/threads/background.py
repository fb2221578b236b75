"""Slow one-off jobs (exports, loading a checkpoint) off the GUI thread, one at a time.

A job is a plain function; its result or its error comes back in the GUI thread through
the callbacks given to :meth:`BackgroundJobs.run`. The pool's single thread runs torch
single-threaded (see gui/torch_threads.py), so an export never slows a training run.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, Signal

from ..runtime.torch_threads import single_thread_pool


class _Job(QRunnable):
    def __init__(self, jobs: BackgroundJobs, key: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.jobs, self.key, self.fn = jobs, key, fn

    def run(self) -> None:
        try:
            result, error = self.fn(), None
        except Exception as exc:  # noqa: BLE001 - handed to the caller's on_error
            if not isinstance(exc, (OSError, ValueError)):
                traceback.print_exc(file=sys.stderr)
            result, error = None, exc
        self.jobs._done.emit(self.key, result, error)


class BackgroundJobs(QObject):
    """Runs jobs in order on one helper thread; ``busy`` while any is queued or running."""

    _done = Signal(int, object, object)  # key, result, error (emitted in the pool thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = single_thread_pool(self)
        self._callbacks: dict[int, tuple[Callable[[Any], None], Callable[[Exception], None]]] = {}
        self._next = 0
        self._done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
            on_error: Callable[[Exception], None]) -> None:
        self._next += 1
        self._callbacks[self._next] = (on_done, on_error)
        self._pool.start(_Job(self, self._next, fn))

    def _on_done(self, key: int, result: Any, error: Exception | None) -> None:
        on_done, on_error = self._callbacks.pop(key)
        if error is None:
            on_done(result)
        else:
            on_error(error)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Block until every job has run (closing the window); retires the thread."""
        return self._pool.waitForDone(timeout_ms)
