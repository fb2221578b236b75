"""The learning-rate finder, off the GUI thread: the configuration's data read through the
dataset source a run reads it through, then :func:`cnn_core.train.lr_find.find_lr` on a
fresh copy of the network, with progress and Cancel.

It has a lane of its own, with torch on one thread there (as every helper thread), so the
training thread keeps its team of threads to itself. A find must never overlap a run that
trains: ``find_lr`` reseeds torch's global generator inside ``fork_rng`` and restores it
at the end, which, in a second thread, would change the draws a run's dropout makes. The
window therefore offers the finder only while no run trains (see
:class:`gui.panels.config.lr_finder_dialog.LrFinderDialog`).
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from cnn_core.data.bundle import DatasetError
from cnn_core.data.folders import DecodeCancelled
from cnn_core.data.source import resolve
from cnn_core.train.config import TrainConfig
from cnn_core.train.lr_find import LrFinding, find_lr

from ..threads.tasks import Lane, Task, TaskState

START_LR, END_LR = 1e-7, 10.0  # the rates tried, as the command line's defaults
STEPS = "steps"  # the progress text while learning rates are tried


def find_learning_rate(state: TaskState, config: TrainConfig, steps: int) -> LrFinding | None:
    """The finder's curve for ``config`` (None when cancelled); DatasetError or ValueError
    says in a line why it cannot be made."""
    source = resolve(config)
    problem = source.problem(config.data_dir)
    if problem is not None:
        raise DatasetError(problem)
    try:
        data = source.load_for(config, progress=state.throttled_progress(),
                               cancel=state.cancel_event)
    except DecodeCancelled:
        return None
    if state.cancelled:
        return None
    finding = find_lr(config, data, start_lr=START_LR, end_lr=END_LR, steps=steps,
                      cancel=state.cancel_event,
                      progress=lambda done, total: state.progress(done, total, STEPS))
    return None if state.cancelled else finding


class LrFinderService(QObject):
    """Runs finds one after another on its lane."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lane = Lane("LrFinderThread", self)

    def start(self, task: Task) -> Task:
        """Run ``Task(find_learning_rate, config, steps)``; connect to it first."""
        return self._lane.start(task)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel a find under way and wait (bounded) for the thread."""
        return self._lane.shutdown(timeout_ms)
