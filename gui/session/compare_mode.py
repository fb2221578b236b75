"""Compare mode: the window's run (A) and a second one (B, a :class:`PartnerRun`) looked at
side by side, at the same moment and on the same test image.

The moment is A's, chosen on the time-lapse bar; B shows its moment at the same fraction
of its training (the same epoch when both ran as long). The image A inspects, B inspects
too when both were tested on the same images."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from cnn_core.inspect.embedding import embedding_sample, project
from cnn_core.train.continuation import run_name, run_of

from ..training.messages import RunInfo
from ..threads.tasks import Lane
from .inside_state import InsideState, Inspected, MomentChoice
from .partner_run import PartnerRun
from .timelapse import TimeLapse


def _fraction(timelapse: TimeLapse, index: int) -> float:
    last = timelapse[-1].progress
    return timelapse[index].progress / last if last > 0 else 1.0


def matching_moment(a: TimeLapse, index: int, b: TimeLapse) -> int:
    """B's moment at the fraction of training A's moment ``index`` is at."""
    wanted = _fraction(a, min(index, len(a) - 1))
    return int(np.argmin([abs(_fraction(b, j) - wanted) for j in range(len(b))]))


def same_test_set(a: RunInfo | None, b: RunInfo | None) -> bool:
    return (a is not None and b is not None and a.test_images.shape == b.test_images.shape
            and np.array_equal(a.test_labels, b.test_labels)
            and np.array_equal(a.test_images, b.test_images))


NAMED = 4  # layers named, the rest counted: a backbone has dozens


def _names(layers: list[str]) -> str:
    more = len(layers) - NAMED
    return ", ".join(layers[:NAMED]) + (f" and {more} more" if more > 0 else "")


def layers_without_counterpart(a: dict[str, object], b: dict[str, object]) -> str:
    """A sentence naming the conv layers only one of the runs has ('' when none)."""
    only_a = [n for n in a if n not in b]
    only_b = [n for n in b if n not in a]
    parts = ([f"only in A: {_names(only_a)}"] if only_a else []) + (
        [f"only in B: {_names(only_b)}"] if only_b else [])
    return "; ".join(parts)


@dataclass(frozen=True)
class Projected:
    """Both runs' last hidden layer of the embedding's test images (``indices``), in 2-D."""

    xy_a: np.ndarray
    xy_b: np.ndarray
    indices: np.ndarray


class CompareMode(QObject):
    """``changed(active)`` when compare mode starts or ends; ``partnerChanged()`` when B's
    run, moment or details change (its :attr:`b` state has them)."""

    changed = Signal(bool)
    partnerChanged = Signal()

    def __init__(self, a: InsideState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.a = a
        self.partner = PartnerRun(self)
        self.b = self.partner.state
        self.active = False
        self.run_a: Path | None = None
        self.names = ("A", "B")  # the runs' own names
        self._same_images = False
        self._lane = Lane("CompareEmbeddingThread", self)
        a.momentChosen.connect(lambda _choice: self._follow_moment())
        a.inspectedChanged.connect(self._follow_inspected)
        a.runStarted.connect(lambda _info: self._on_images())
        self.b.runStarted.connect(lambda _info: self._on_images())
        self.b.momentAdded.connect(lambda _snap: self._follow_moment())
        self.b.detailsChanged.connect(lambda _details: self.partnerChanged.emit())
        self.partner.runFinished.connect(lambda _status: self.partnerChanged.emit())
        self.partner.failed.connect(lambda _reason: self.leave())

    @property
    def same_images(self) -> bool:
        """Whether both runs were tested on the same images (so that they can be compared
        image by image)."""
        return self._same_images

    def enter(self, run_a: Path, run_b: Path, data_dir: Path, runs_dir: Path) -> None:
        """Show ``run_b`` beside the window's run (the window opens ``run_a``)."""
        self.run_a = Path(run_a)
        self.names = tuple(run_name(run_of(p), Path(p).name) for p in (run_a, run_b))
        self.partner.open(run_b, data_dir, runs_dir)
        if not self.active:
            self.active = True
            self.changed.emit(True)

    def leave(self) -> None:
        self.partner.cancel()
        if self.active:
            self.active = False
            self.changed.emit(False)

    def structure_note(self) -> str:
        """Which conv layers have no counterpart in the other run ('' when all do)."""
        if self.a.moment is None or self.b.moment is None:
            return ""
        return layers_without_counterpart(self.a.moment.filters, self.b.moment.filters)

    def _on_images(self) -> None:
        if not self.active:  # the window's runs, outside compare mode
            return
        self._same_images = same_test_set(self.a.info, self.b.info)
        self._follow_inspected(self.a.inspected)
        self.partnerChanged.emit()

    def _follow_moment(self) -> None:
        if not self.active or not len(self.a.timelapse) or not len(self.b.timelapse):
            return
        index = matching_moment(self.a.timelapse, self.a.choice.index, self.b.timelapse)
        self.b.choose_moment(MomentChoice(index, -1, index == len(self.b.timelapse) - 1))
        self.partnerChanged.emit()

    def _follow_inspected(self, inspected: Inspected | None) -> None:
        if (self.active and inspected is not None and not inspected.is_drawing
                and self._same_images and inspected != self.b.inspected):
            self.b.inspect(inspected)

    def project(self, on_done: Callable[[Projected], None],
                on_error: Callable[[str], None]) -> None:
        """Project both runs' latest details (PCA) off the GUI thread; ``on_done`` is not
        called if either run changed meanwhile."""
        a, b = self.a.details, self.b.details
        indices = embedding_sample(len(self.a.info.test_labels))

        def done(projected: Projected) -> None:
            if self.a.details is a and self.b.details is b:
                on_done(projected)

        self._lane.run(lambda _state: Projected(project(a.hidden), project(b.hidden), indices),
                       on_done=done, on_error=lambda exc: on_error(str(exc)))

    def shutdown(self) -> None:
        self.partner.shutdown()
        self._lane.shutdown()
