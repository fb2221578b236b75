"""The current run's life: start it on the training lane, pause, edit, stop, shut down.

Stop is cooperative (the trainer checks between batches); never ``QThread.terminate``.
"""

from __future__ import annotations

import threading
from enum import Enum
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal

from cnn_core.train.callbacks import RunStatus

from ..runtime.collector import hold_full_collections, release_full_collections
from ..runtime.torch_threads import use_training_threads
from ..threads.tasks import Lane, Task
from .run_task import RunControls, RunRequest, run_training
from .watch_task import WatchRequest, watch_run


class RunState(str, Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class RunController(QObject):
    stateChanged = Signal(RunState)
    message = Signal(object)  # any of the messages a run reports (gui.training.messages)
    failed = Signal(Exception)  # what ended the run
    runFinished = Signal(RunStatus)  # always after the run's last message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lane = Lane("TrainingThread", self, set_up=use_training_threads)
        self._task: Task | None = None
        self._controls = RunControls()
        self._state = RunState.IDLE
        self._status = RunStatus.STOPPED
        self._trains = False  # the task under way trains (full collections wait for it)

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def busy(self) -> bool:
        return self._task is not None

    def start(self, request: RunRequest) -> None:
        controls = RunControls()
        self._start(Task(run_training, request, controls), controls)

    def watch(self, request: WatchRequest, wake: threading.Event) -> None:
        """Follow a run another process writes; ``wake`` hurries its next look."""
        # nothing to pause; nothing trains here, so full collections may run meanwhile
        self._start(Task(watch_run, request, wake), RunControls(), trains=False)

    def _start(self, task: Task, controls: RunControls, trains: bool = True) -> None:
        if self.busy:
            raise RuntimeError("a run is already in progress")
        self._controls = controls
        task.message.connect(self.message)
        task.succeeded.connect(self._on_succeeded)
        task.failed.connect(self._on_failed)
        task.finished.connect(self._on_finished)
        self._task, self._status, self._trains = task, RunStatus.STOPPED, trains
        if trains:
            hold_full_collections()
        self._set_state(RunState.RUNNING)
        self._lane.start(task)

    def toggle_pause(self) -> None:
        if self._task is None or self._state == RunState.STOPPING:
            return
        paused = self._state != RunState.PAUSED
        self._controls.set_paused(paused)
        self._set_state(RunState.PAUSED if paused else RunState.RUNNING)

    def request_changes(self, changes: dict[str, Any]) -> None:
        """Edit the paused run's settings; raises ValueError("field: reason") if refused."""
        if self._task is None:
            raise ValueError("run: there is no run to change")
        self._controls.request_changes(changes)

    def stop(self) -> None:
        if self._task is None or self._state == RunState.STOPPING:
            return
        self._task.cancel()
        self._set_state(RunState.STOPPING)

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop any run and end the training thread; True if nothing is left running.

        The run's last reports, its end included, are queued for the GUI thread: they are
        delivered here, so that its end is seen (and the full collections it held
        resume) even if this object is gone before the event loop runs again."""
        self.stop()
        ended = self._lane.shutdown(timeout_ms)
        if ended:
            QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        return ended

    def _on_succeeded(self, status: RunStatus) -> None:
        self._status = status

    def _on_failed(self, exc: Exception) -> None:
        self._status = RunStatus.FAILED
        self.failed.emit(exc)

    def _on_finished(self) -> None:
        self._task = None
        if self._trains:
            release_full_collections()
        self._set_state(RunState.IDLE)
        self.runFinished.emit(self._status)

    def _set_state(self, state: RunState) -> None:
        self._state = state
        self.stateChanged.emit(state)
