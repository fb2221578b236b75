"""Owns the worker thread of the current run: start, pause, stop, shut down cleanly.

The standard wiring (superqt's ``_qthreading``): the worker is moved to a fresh QThread,
``started`` runs it, and its ``finished`` quits the thread (a direct connection, so it
works even while the GUI thread is blocked waiting for it at exit). Never
``QThread.terminate``.

Deletion is deterministic rather than ``deleteLater``: both objects are created (and so
owned) by Python, and a ``deleteLater`` running in the worker thread raced with Python
dropping its references in the GUI thread -- an intermittent segfault. Instead, once the
thread has finished, the GUI thread waits for it to exit and then drops both objects.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal

from cnn_core.train.config import TrainConfig

from ..runtime.collector import hold_full_collections, release_full_collections
from .worker import TrainingWorker


class RunState(str, Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class RunController(QObject):
    stateChanged = Signal(str)  # a RunState value
    workerCreated = Signal(object)  # TrainingWorker: connect its signals before it runs
    runFinished = Signal(str)  # "completed", "stopped" or "failed"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._state = RunState.IDLE
        self._last_status = "stopped"

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, config: TrainConfig, **options: Any) -> None:
        """Start a run in a new thread; ``options`` go to :class:`TrainingWorker` (resume,
        branch or inspect a checkpoint, where to record the run)."""
        if self.busy:
            raise RuntimeError("a run is already in progress")
        thread = QThread()
        thread.setObjectName("TrainingThread")
        worker = TrainingWorker(config, **options)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.finished.connect(self._on_worker_finished)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        self._last_status = "stopped"
        hold_full_collections()
        self.workerCreated.emit(worker)
        self._set_state(RunState.RUNNING)
        thread.start()

    def toggle_pause(self) -> None:
        if self._worker is None or self._state == RunState.STOPPING:
            return
        paused = self._state != RunState.PAUSED
        self._worker.set_paused(paused)
        self._set_state(RunState.PAUSED if paused else RunState.RUNNING)

    def request_changes(self, changes: dict[str, Any]) -> None:
        """Edit the paused run's settings; raises ValueError("field: reason") if refused."""
        if self._worker is None:
            raise ValueError("run: there is no run to change")
        self._worker.request_changes(changes)

    def stop(self) -> None:
        if self._worker is None or self._state == RunState.STOPPING:
            return
        self._worker.request_stop()
        self._set_state(RunState.STOPPING)

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop any run and wait (bounded) for its thread; True if nothing is left running."""
        if self._thread is None:
            return True
        self.stop()
        return self._thread.wait(timeout_ms)

    def _on_worker_finished(self, status: str) -> None:
        self._last_status = status

    def _on_thread_finished(self) -> None:
        status = self._last_status
        if self._thread is not None:
            self._thread.wait()  # `finished` comes just before the thread exits
        self._thread = self._worker = None  # the only references: both are deleted here
        release_full_collections()
        self._set_state(RunState.IDLE)
        self.runFinished.emit(status)

    def _set_state(self, state: RunState) -> None:
        self._state = state
        self.stateChanged.emit(state.value)
