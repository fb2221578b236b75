"""Which runs some process is writing, noticed while the runs list is shown: a run started
or ended from the command line (or in another window) shows without a click."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from ...session.runs_model import RunsModel
from .runs_rows import run_key

POLL_MS = 2000  # how often a shown list asks


class WritersWatch(QObject):
    """The keys of the runs being written, by any process (this one included). While
    ``widget`` is shown it asks every :data:`POLL_MS` and says ``changed`` when a process
    has started or stopped writing one; asking probes locks only, so that the GUI thread,
    which shares the cores with training, hardly notices."""

    changed = Signal()

    def __init__(self, runs: RunsModel, widget: QWidget) -> None:
        super().__init__(widget)
        self._runs = runs
        self.keys: frozenset[str] = frozenset()
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._on_timeout)
        widget.installEventFilter(self)

    def update(self) -> None:
        """Ask now; call it before listing the runs, so that a run starting in between
        shows as a change at the next poll."""
        self.keys = self._ask()

    def _ask(self) -> frozenset[str]:
        return frozenset(run_key(p) for p in self._runs.writers())

    def _on_timeout(self) -> None:
        if self._ask() != self.keys:
            self.changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QEvent.Type.Show:
            self._on_timeout()  # what changed while hidden
            self._timer.start()
        elif event.type() == QEvent.Type.Hide:
            self._timer.stop()
        return False
