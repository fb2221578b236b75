"""Reading and downloading datasets off the GUI thread, for whichever view asks: one lane,
so a folder being decoded and a download never compete for the two cores."""

from __future__ import annotations

from PySide6.QtCore import QObject

from ..threads.tasks import Lane, Task


class DatasetService(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lane = Lane("DatasetThread", self)

    def start(self, task: Task) -> Task:
        """Run a dataset task (``threads.dataset_preview.load_preview``,
        ``threads.download.download``) once those before it are done; connect to it first."""
        return self._lane.start(task)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel what is running and wait (bounded) for the thread."""
        return self._lane.shutdown(timeout_ms)
