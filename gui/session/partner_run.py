"""The second run of compare mode (run B): opened for looking at, off the GUI thread, the way
File > Open shows a run, and reported with the signals a :class:`RunSession` gives, so that
an :class:`InsideState` and the views follow it as they follow the window's run. It has
its own inference lane, so the views of B never wait for A's."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cnn_core.train.callbacks import RunStatus
from cnn_core.train.launch import RunKind, open_continuation

from ..threads.tasks import Lane, Task, TaskState
from ..training.messages import EpochDetails, RunInfo, Snapshot
from ..training.run_task import RunControls, RunRequest, run_training
from .inference import InferenceClient
from .inside_state import InsideState


def _show_run(state: TaskState, path: Path, data_dir: Path, runs_dir: Path) -> RunStatus:
    continuation = open_continuation(path, RunKind.INSPECT)
    request = RunRequest(continuation.inspection(data_dir), runs_dir, continuation)
    return run_training(state, request, RunControls())


class PartnerRun(QObject):
    """``runStarted``, ``snapshotTaken``, ``epochDetails`` and ``runFinished`` as a
    :class:`RunSession` sends them; ``failed(reason)`` when the run cannot be shown.
    :attr:`state` is B's :class:`InsideState`; :attr:`inference` answers B's views."""

    runStarted = Signal(RunInfo)
    snapshotTaken = Signal(Snapshot)
    epochDetails = Signal(EpochDetails)
    runFinished = Signal(RunStatus)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lane = Lane("PartnerRunThread", self)
        self._inference_lane = Lane("PartnerInferenceThread", self)
        self.inference = InferenceClient(self._inference_lane, self)
        self.state = InsideState(self, self)
        self.path: Path | None = None
        self._task: Task | None = None

    @property
    def loading(self) -> bool:
        return self._task is not None

    def open(self, path: str | Path, data_dir: Path, runs_dir: Path) -> None:
        """Show the checkpoint (or run folder) ``path``; what was shown before is dropped."""
        self.cancel()
        self.path = Path(path)
        task = Task(_show_run, self.path, Path(data_dir), Path(runs_dir))
        task.message.connect(lambda message: self._on_message(task, message))
        ended = {"status": RunStatus.FAILED}
        task.failed.connect(lambda exc: self.failed.emit(f"Could not open {self.path.name}: "
                                                         f"{exc}"))
        task.succeeded.connect(lambda status: ended.update(status=status))
        task.finished.connect(lambda: self._finished(task, ended["status"]))
        self._task = task
        self._lane.start(task)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _finished(self, task: Task, status: RunStatus) -> None:
        """The run is shown (or failed): no longer :attr:`loading` when runFinished says so."""
        if self._task is task:
            self._task = None
            self.runFinished.emit(status)

    def _on_message(self, task: Task, message: object) -> None:
        if task is not self._task:
            return  # a run dropped for another
        if isinstance(message, RunInfo):
            self.runStarted.emit(message)
        elif isinstance(message, Snapshot):
            self.inference.set_weights(self.state.info.model_meta, message.state)
            self.snapshotTaken.emit(message)
        elif isinstance(message, EpochDetails):
            self.epochDetails.emit(message)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        self.cancel()
        self.inference.close()
        return (self._lane.shutdown(timeout_ms)
                and self._inference_lane.shutdown(timeout_ms))
