"""What the views inside the network show, kept in one place: the run's info, its latest
epoch's details and the time-lapse of its moments. The views read it and connect to its
typed signals, which come after it has taken each message in, so that a view built late
catches up from it and a view that hears a signal finds the state already current."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..training.messages import EpochDetails, RunInfo, Snapshot
from .run_session import RunSession
from .timelapse import TimeLapse


class InsideState(QObject):
    """``runStarted(RunInfo)``: a new run (the details and time-lapse cleared);
    ``momentAdded(Snapshot)``: a snapshot, now the time-lapse's last moment;
    ``detailsChanged(EpochDetails)``: an epoch's details, now :attr:`details`."""

    runStarted = Signal(RunInfo)
    momentAdded = Signal(Snapshot)
    detailsChanged = Signal(EpochDetails)

    def __init__(self, session: RunSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.info: RunInfo | None = None
        self.details: EpochDetails | None = None
        self.timelapse = TimeLapse()
        session.runStarted.connect(self._on_run_started)
        session.snapshotTaken.connect(self._on_snapshot)
        session.epochDetails.connect(self._on_details)

    def _on_run_started(self, info: RunInfo) -> None:
        self.info, self.details = info, None
        self.timelapse.clear()
        self.runStarted.emit(info)

    def _on_snapshot(self, snap: Snapshot) -> None:
        if self.info is None:
            return
        self.timelapse.add(snap.progress, snap.step, snap.filters, snap.maps, snap.probabilities,
                           snap.state)
        self.momentAdded.emit(snap)

    def _on_details(self, details: EpochDetails) -> None:
        self.details = details
        self.detailsChanged.emit(details)
