"""What the views inside the network show, kept in one place: the run's info, its latest
epoch's details, the time-lapse of its moments, the moment the time-lapse bar chooses and
the image being inspected. The views read it and connect to its typed signals, which come
after it has taken each change in, so that a view built late catches up from it and a view
that hears a signal finds the state already current."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..training.messages import EpochDetails, RunInfo, Snapshot
from .run_session import RunSession
from .timelapse import Moment, TimeLapse

PROBE = 0  # the test image whose feature maps each snapshot carries


@dataclass(frozen=True)
class MomentChoice:
    """The time-lapse moment shown (``index``), the one compared with it (``compare``, -1
    for none), and whether the bar follows the run (``live``: its newest moment)."""

    index: int = 0
    compare: int = -1
    live: bool = True


@dataclass(frozen=True)
class Inspected:
    """The image the feature maps' detail, saliency and the convolution explainer look at:
    a test image (``index``) or a drawing (``field``, (H, W) in 0..1)."""

    index: int = PROBE
    field: np.ndarray | None = None

    @property
    def is_drawing(self) -> bool:
        return self.field is not None


class InsideState(QObject):
    """``runStarted(RunInfo)``: a new run (the details and time-lapse cleared);
    ``momentAdded(Snapshot)``: a snapshot, now the time-lapse's last moment;
    ``detailsChanged(EpochDetails)``: an epoch's details, now :attr:`details`;
    ``momentChosen(MomentChoice)``: the moment to show may have changed (after each new
    moment, too); ``inspectedChanged(Inspected)``: another image to inspect."""

    runStarted = Signal(RunInfo)
    momentAdded = Signal(Snapshot)
    detailsChanged = Signal(EpochDetails)
    momentChosen = Signal(MomentChoice)
    inspectedChanged = Signal(Inspected)

    def __init__(self, session: RunSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.info: RunInfo | None = None
        self.details: EpochDetails | None = None
        self.timelapse = TimeLapse()
        self.choice = MomentChoice()
        self.inspected: Inspected | None = None
        session.runStarted.connect(self._on_run_started)
        session.snapshotTaken.connect(self._on_snapshot)
        session.epochDetails.connect(self._on_details)

    def _on_run_started(self, info: RunInfo) -> None:
        self.info, self.details = info, None
        self.timelapse.clear()
        self.choice = MomentChoice()
        self.inspected = Inspected() if info.has_pictures else None  # the probe image
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

    # -- what is looked at ---------------------------------------------------------------

    def choose_moment(self, choice: MomentChoice) -> None:
        """The time-lapse bar's choice (also after each new moment, which a live bar
        shows)."""
        self.choice = choice
        if len(self.timelapse):
            self.momentChosen.emit(choice)

    def inspect(self, inspected: Inspected) -> None:
        self.inspected = inspected
        self.inspectedChanged.emit(inspected)

    @property
    def moment(self) -> Moment | None:
        """The time-lapse moment chosen, if there is one."""
        if not len(self.timelapse):
            return None
        return self.timelapse[min(self.choice.index, len(self.timelapse) - 1)]

    @property
    def compared(self) -> Moment | None:
        compare = self.choice.compare
        return self.timelapse[compare] if 0 <= compare < len(self.timelapse) else None

    @property
    def shows_latest(self) -> bool:
        """Whether the moment chosen is the newest (its weights are the latest's)."""
        return self.choice.index >= len(self.timelapse) - 1

    # -- the run's images, as the views show them and the network takes them ------------

    def display(self, index: int) -> np.ndarray:
        """Test image ``index`` as (C, H, W) in 0..1."""
        return self.info.test_images[index].transpose(2, 0, 1).astype(np.float32) / 255.0

    def normalise(self, image: np.ndarray) -> np.ndarray:
        """A (C, H, W) image in 0..1 as the network takes it."""
        mean = np.asarray(self.info.dataset.mean, np.float32).reshape(-1, 1, 1)
        std = np.asarray(self.info.dataset.std, np.float32).reshape(-1, 1, 1)
        return (image - mean) / std

    def inspected_image(self) -> tuple[np.ndarray, str] | None:
        """The image inspected, (C, H, W) in 0..1, and its name; None if there is none."""
        what = self.inspected
        if what is None or self.info is None:
            return None
        if what.is_drawing:
            return what.field[None], "your drawing"
        names = self.info.dataset.class_names
        label = names[self.info.test_labels[what.index]]
        return self.display(what.index), f"test image #{what.index} (a {label})"


def moment_caption(moment: Moment) -> str:
    return "initial weights" if moment.progress == 0 else f"epoch {moment.progress:.2f}"
