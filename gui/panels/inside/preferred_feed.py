"""What each filter of the Filters panel's layer wants to see: the preferred inputs, found by
gradient ascent on the analysis lanes for the time-lapse moment shown (while training, the
latest epoch's end), on a CPU copy of the weights.

Following the run, they take at most ``LIVE_SHARE`` of the time (each costs a second or so
of a core training would otherwise use); a person's own choices never wait.
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QObject

from cnn_core.data.bundle import denormalize
from cnn_core.export.render import first_reads_colour
from cnn_core.inspect.activation_max import maximize_activation

from ...session.analysis_jobs import AnalysisClient, Pace, Weights
from ...session.inside_state import InsideState
from ...session.timelapse import TimeLapse
from ...threads.tasks import TaskState
from ...training.messages import RunInfo, Snapshot
from .filters import FiltersPanel

STEPS = 64  # gradient-ascent steps for a preferred input
LIVE_SHARE = 0.03  # of the time, at most, that following the run takes
KEY = "preferred"


class PreferredFeed(QObject):
    """Feeds ``filters``' preferred-inputs view with the moment ``state`` chooses, while
    that view is shown."""

    def __init__(self, filters: FiltersPanel, state: InsideState, client: AnalysisClient,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.filters = filters
        self.view = filters.preferred
        self.state = state
        self.client = client
        self.latest: Snapshot | None = None
        self.epoch_end: Snapshot | None = None  # the latest snapshot at an epoch's end
        self._asked: tuple[str, float] | None = None  # (layer, epochs) computing
        self._declined: tuple[str, float] | None = None  # ... and cancelled
        self._pace = Pace(LIVE_SHARE, self)
        self._pace.due.connect(self._follow)
        client.finished.connect(lambda _key, result: self._on_finished(result))
        client.failed.connect(lambda _key, message: self.view.clear(
            f"Could not find the preferred inputs: {message}"))
        client.progressed.connect(lambda _key, done, total: self.view.set_progress(done, total))
        self.view.cancelRequested.connect(self._cancel)
        state.runStarted.connect(self._start)
        state.momentAdded.connect(self._add_snapshot)
        state.momentChosen.connect(lambda _choice: self._follow())
        filters.preferredWanted.connect(self._follow)

    @property
    def info(self) -> RunInfo | None:
        return self.state.info

    @property
    def timelapse(self) -> TimeLapse:
        return self.state.timelapse

    def _start(self, _info: RunInfo) -> None:
        self.client.cancel_all()
        self.latest, self.epoch_end = None, None
        self._asked = self._declined = None
        self.view.clear()

    def _add_snapshot(self, snap: Snapshot) -> None:
        self.latest = snap
        if float(snap.progress).is_integer():
            self.epoch_end = snap

    def _follow(self) -> None:
        if self.filters.showing_preferred and self.filters.isVisible():
            self.show(self.state.choice.index, self.state.choice.live)

    def _cancel(self) -> None:
        self.client.cancel(KEY)
        self._declined = self._asked
        self.view.set_busy(False)

    def show(self, index: int, live: bool) -> None:
        """Preferred inputs of the Filters panel's layer at time-lapse moment ``index``
        (``live``: the bar follows the run, so the latest epoch's end is shown)."""
        layer = self.filters.current_layer()
        if layer is None or self.info is None or not len(self.timelapse):
            return
        if live:
            ends = [i for i, m in enumerate(self.timelapse) if float(m.progress).is_integer()]
            index = ends[-1] if ends else index
        moment = self.timelapse[index]
        wanted = (layer, moment.progress)
        if self.latest is None or wanted in (self.view.shown_for, self._declined) or (
                wanted == self._asked and self.client.busy(KEY)):
            return  # shown already, on its way, or cancelled by the person
        shown = self.view.shown_for
        if live and shown is not None and shown[0] == layer and self._pace.hold():
            return  # only the run moved on: later
        self._asked = wanted
        self._pace.begin()
        meta = self.info.model_meta
        whole = next((s for s in (self.latest, self.epoch_end)
                      if s is not None and s.progress == moment.progress), None)
        weights = (Weights(meta, whole.state) if whole is not None else  # the exact weights
                   Weights(meta, self.latest.state, moment.features_state()))
        dataset = self.info.dataset
        mean, std = np.asarray(dataset.mean, np.float32), np.asarray(dataset.std, np.float32)
        bounds = ((0 - mean) / std, (1 - mean) / std)
        channels = range(len(moment.filters[layer]))

        def job(model, state: TaskState) -> tuple[str, float, np.ndarray]:
            found = maximize_activation(model, layer, channels, steps=STEPS, seed=0,
                                        input_range=bounds,
                                        progress=lambda done, total: state.progress(done, total),
                                        cancel=lambda: state.cancelled)
            return layer, moment.progress, denormalize(torch.from_numpy(found), dataset).numpy()

        self.view.set_progress(0, STEPS)
        self.client.submit(KEY, weights, job)

    def _on_finished(self, result: tuple[str, float, np.ndarray] | None) -> None:
        if result is None:  # cancelled
            return
        self._pace.end()
        layer, progress, images = result
        first = layer == next(iter(self.filters.filters), None)
        moment = next((m for m in self.timelapse if m.progress == progress), None)
        kernels = moment.filters[layer] if first and moment is not None else None
        caption = "initial weights" if progress == 0 else f"epoch {progress:.2f}"
        rgb = first_reads_colour(self.filters.filters)
        self.view.show_inputs(layer, progress, images, kernels, rgb, caption)

    def shutdown(self) -> None:
        self._pace.stop()
