"""The one way to run work off the GUI thread.

A task is a plain function ``fn(state, *args)``. Its :class:`TaskState` lets it report
progress, hand messages to the GUI and notice a cancel; the :class:`Task` object lives in
the GUI thread and re-emits there what the function reported, then its result or error.
Tasks run in order on a :class:`Lane`, one long-lived thread, so that torch makes its
thread team for that thread once (see :mod:`gui.runtime.torch_threads`).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from cnn_core.data.datasets import DatasetError, ProgressFn
from cnn_core.train.trainer import TrainingError

from ..runtime.torch_threads import use_one_thread

# Failures that say in a line what a person can do (a damaged file, a full disk, a dataset
# to download, a run that diverged): shown to them, no traceback. Anything else is a bug.
EXPECTED = (OSError, ValueError, DatasetError, TrainingError)


class TaskState:
    """What the function sees: progress and messages out, a cancel request in."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self.cancel_event = threading.Event()
        self._lock = threading.Lock()
        self._on_cancel: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        with self._lock:
            self.cancel_event.set()
            callbacks, self._on_cancel = self._on_cancel, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in the canceller's thread) on cancel; at once if already."""
        with self._lock:
            if not self.cancel_event.is_set():
                self._on_cancel.append(callback)
                return
        callback()

    def emit(self, message: object) -> None:
        """Hand ``message`` to the GUI thread (``Task.message``)."""
        self._task.message.emit(message)

    def progress(self, done: float, total: float, text: str = "") -> None:
        """``total`` 0 means unknown."""
        self._task.progressed.emit(float(done), float(total), text)

    def throttled_progress(self, interval: float = 0.1) -> ProgressFn:
        """A ``progress(done, total_or_None, what)`` for a loader that may report thousands
        of times a second: passed on every ``interval`` seconds, and at the start and end."""
        last = 0.0

        def report(done: int, total: int | None, what: str) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= interval or (total and done >= total) or not done:
                last = now
                self.progress(done, total or 0, what)

        return report


class Task(QObject):
    """One call of ``fn(state, *args, **kwargs)``; every signal arrives in the GUI thread,
    ``finished`` always last."""

    message = Signal(object)
    progressed = Signal(float, float, str)  # done, total (0 = unknown), what
    succeeded = Signal(object)  # the function's return value
    failed = Signal(object)  # the exception it raised
    finished = Signal()

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._call = lambda: fn(self.state, *args, **kwargs)
        self.state = TaskState(self)
        self.done = threading.Event()

    def cancel(self) -> None:
        self.state.cancel()

    def run(self) -> None:
        """In the lane's thread; a task cancelled before it began only finishes."""
        try:
            if self.state.cancelled:
                return
            result = self._call()
        except Exception as exc:  # noqa: BLE001 - handed to whoever listens to `failed`
            if not isinstance(exc, EXPECTED):
                traceback.print_exc(file=sys.stderr)
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)
        finally:
            self.done.set()
            self.finished.emit()


class _Executor(QObject):
    def __init__(self, set_up: Callable[[], None]) -> None:
        super().__init__()
        self._set_up = set_up

    @Slot()
    def set_up(self) -> None:
        self._set_up()  # in the thread, before its first torch op

    @Slot(object)
    def execute(self, task: Task) -> None:
        task.run()


class Lane(QObject):
    """A thread that runs tasks one after another. It starts with its first task, runs
    ``set_up`` in the thread first, and stops with :meth:`shutdown`."""

    _submit = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None, *,
                 set_up: Callable[[], None] = use_one_thread) -> None:
        super().__init__(parent)
        self._name = name
        self._set_up = set_up
        self._thread: QThread | None = None
        self._executor: _Executor | None = None
        self._tasks: list[Task] = []  # queued or running; dropped here, in the GUI thread

    @property
    def busy(self) -> bool:
        return any(not t.done.is_set() for t in self._tasks)

    def start(self, task: Task) -> Task:
        if self._thread is None:
            self._thread = QThread()
            self._thread.setObjectName(self._name)
            self._executor = _Executor(self._set_up)
            self._executor.moveToThread(self._thread)
            self._thread.started.connect(self._executor.set_up,
                                         Qt.ConnectionType.DirectConnection)
            self._submit.connect(self._executor.execute)
            self._thread.start()
        self._tasks.append(task)
        task.finished.connect(lambda: self._forget(task))
        self._submit.emit(task)
        return task

    def run(self, fn: Callable[..., Any], *args: Any,
            on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[Exception], None] | None = None) -> Task:
        """Start ``fn(state, *args)``; ``on_done(result)`` or ``on_error(exc)`` follows."""
        task = Task(fn, *args)
        if on_done is not None:
            task.succeeded.connect(on_done)
        if on_error is not None:
            task.failed.connect(on_error)
        return self.start(task)

    def _forget(self, task: Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def wait(self, timeout_ms: int) -> bool:
        """Block until every task given so far has run; False on time-out."""
        deadline = time.monotonic() + timeout_ms / 1000
        return all(task.done.wait(max(deadline - time.monotonic(), 0))
                   for task in list(self._tasks))

    def shutdown(self, timeout_ms: int = 15_000, *, cancel: bool = True) -> bool:
        """Cancel (or let finish) what is queued, then end the thread; True if it ended."""
        if cancel:
            for task in list(self._tasks):
                task.cancel()
        if not self.wait(timeout_ms):
            return False
        if self._thread is not None:
            self._thread.quit()
            if not self._thread.wait(timeout_ms):
                return False
            self._submit.disconnect(self._executor.execute)
            self._thread = self._executor = None
        return True
