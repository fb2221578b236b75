"""Live loss and accuracy curves.

Items are created once; slots append to Python buffers and ask for a refresh, which
pushes the buffers to the curves with ``setData`` and repaints them. Refreshes keep to a
frame budget: the next waits ``BUDGET_FACTOR`` times what a refresh costs (a running
average, kept between ``MIN_INTERVAL`` and ``MAX_INTERVAL``), so drawing uses about 1% of
the GUI thread on any machine; requests in between are coalesced by a single-shot timer.
There is no periodic timer: every wake-up of the GUI thread takes a core from training.
The x axis is in epochs for every series, so per-batch losses
(x = epoch - 1 + batch / batches) and per-epoch points share one axis.

Other runs can be overlaid for comparison (:meth:`CurvesWidget.set_overlays`, drawn by
:class:`~gui.panels.curves.run_overlays.RunOverlays`). Markers (:meth:`CurvesWidget.add_marker`)
tag moments of the run, such as settings edited while paused or the point a branch
started from, and a note under the plots says what happened at each.
"""

from __future__ import annotations

import html
import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnn_core.runs.store import BatchLog
from cnn_core.train.callbacks import BatchProgress, EpochMetrics

from ...widgets.hover_readout import HoverReadout
from ...widgets.panel_parts import cache_as_pixmap
from .curve_data import (LrTrace, Overlay, Smoother, batch_positions, best_epoch, lr_ticks,
                         nice_ceiling)
from .fitting_title import FittingTitle
from .run_overlays import DASH, RunOverlays, sample

__all__ = ["CurvesWidget", "Overlay"]  # Overlay: what callers hand to set_overlays

TRAIN_COLOUR = "#1e88e5"
TEST_COLOUR = "#e53935"
LR_COLOUR = "#8e24aa"
MIN_INTERVAL = 0.2  # seconds between refreshes at the least: five a second looks live
MAX_INTERVAL = 1.0  # and at the most: slower than this, the curves look stuck
BUDGET_FACTOR = 100  # wait 100x what a refresh costs: drawing takes ~1% of the time
MARKER_COLOUR = "#546e7a"
LEGEND_BRUSH = (255, 255, 255, 190)  # lines behind a legend do not cross its words
MARKER_TAG_HEIGHT = 0.4  # of the loss plot: under its legend, above its later curves
ACCURACY_TITLE = "Accuracy"


class CurvesWidget(QWidget):
    """``lossPlot`` and ``accuracyPlot`` side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget(title="Loss")
        self.loss_plot.setObjectName("lossPlot")
        self.acc_plot = pg.PlotWidget()
        self.acc_plot.setObjectName("accuracyPlot")
        self.acc_title = FittingTitle(self.acc_plot, ACCURACY_TITLE)
        self.marker_note = QLabel(objectName="curveMarkers", wordWrap=True)
        self.marker_note.setStyleSheet(f"color: {MARKER_COLOUR};")
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(plots, 1)
        layout.addWidget(self.marker_note)

        lp = self.loss_plot.getPlotItem()
        lp.setLabel("bottom", "epoch")
        lp.setLabel("left", "cross-entropy loss")
        lp.showGrid(x=True, y=True, alpha=0.2)
        lp.addLegend(offset=(-10, 10), brush=LEGEND_BRUSH)
        self.raw_loss = lp.plot(name="batch loss", pen=pg.mkPen(TRAIN_COLOUR + "40", width=1))
        self.smooth_loss = lp.plot(name="batch loss (smoothed)",
                                   pen=pg.mkPen(TRAIN_COLOUR, width=2))
        self.train_loss = lp.plot(name="train (epoch)", pen=pg.mkPen(TRAIN_COLOUR, width=2,
                                  style=pg.QtCore.Qt.PenStyle.DashLine),
                                  symbol="o", symbolSize=7, symbolBrush=TRAIN_COLOUR)
        self.test_loss = lp.plot(name="test (epoch)", pen=pg.mkPen(TEST_COLOUR, width=2),
                                 symbol="s", symbolSize=7, symbolBrush=TEST_COLOUR)
        for curve in (self.raw_loss, self.smooth_loss):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")

        ap = self.acc_plot.getPlotItem()
        ap.setLabel("bottom", "epoch")
        ap.setLabel("left", "accuracy", units="%")
        ap.showGrid(x=True, y=True, alpha=0.2)
        ap.addLegend(offset=(-10, -10), colCount=2,  # two columns: low, under the curves
                     brush=LEGEND_BRUSH)
        self.train_acc = ap.plot(name="train", pen=pg.mkPen(TRAIN_COLOUR, width=2),
                                 symbol="o", symbolSize=7, symbolBrush=TRAIN_COLOUR)
        self.test_acc = ap.plot(name="test", pen=pg.mkPen(TEST_COLOUR, width=2),
                                symbol="s", symbolSize=7, symbolBrush=TEST_COLOUR)
        self.best_marker = pg.ScatterPlotItem(symbol="star", size=20, brush="#fdd835",
                                              pen=pg.mkPen("#5d4037"), name="best test")
        ap.addItem(self.best_marker)  # the legend picks it up by its name
        self._best_text = ""  # said in the title, where it can cover no curve
        self._lr_axis_shown: tuple = ()  # (ticks, lowest, highest) as last set
        self._best_point: tuple[float, float] | None = (-1.0, -1.0)  # as last drawn

        # The learning rate on its own log axis at the right of the accuracy plot.
        self.lr_view = pg.ViewBox()
        ap.showAxis("right")
        ap.scene().addItem(self.lr_view)
        ap.getAxis("right").linkToView(self.lr_view)
        ap.getAxis("right").setLabel("learning rate", color=LR_COLOUR)
        ap.getAxis("right").enableAutoSIPrefix(False)  # y is log10(lr): ticks set per epoch
        self.lr_view.setXLink(ap)
        self.lr_view.enableAutoRange(y=False)
        self.lr_curve = pg.PlotDataItem(pen=pg.mkPen(LR_COLOUR, width=1.5,
                                                     style=pg.QtCore.Qt.PenStyle.DotLine))
        self.lr_view.addItem(self.lr_curve)
        ap.legend.addItem(self.lr_curve, "learning rate")
        ap.vb.sigResized.connect(self._sync_lr_view)

        self._readouts = [
            HoverReadout(self.loss_plot, [("batch loss (smoothed)", self.smooth_loss, "{:.4f}"),
                                          ("train loss", self.train_loss, "{:.4f}"),
                                          ("test loss", self.test_loss, "{:.4f}"),
                                          ("batch loss", self.raw_loss, "{:.4f}")]),
            HoverReadout(self.acc_plot, [("train accuracy", self.train_acc, "{:.2f}%"),
                                         ("test accuracy", self.test_acc, "{:.2f}%")]),
        ]
        # Everything but the two per-batch curves changes at most once an epoch: keep it as
        # cached pixmaps, so a frame repaints two curves instead of ~20 Python items.
        # Axes with their grid lines are the costliest; a fixed x range (see reset) keeps
        # their caches valid.
        live = {self.raw_loss.curve, self.smooth_loss.curve}
        for plot in (self.loss_plot, self.acc_plot):
            for item in plot.scene().items():
                if item not in live:
                    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.overlays = RunOverlays(self.loss_plot, self.acc_plot, tuple(self._readouts),
                                    sample(TEST_COLOUR, symbol="s", symbolSize=7,
                                           symbolBrush=TEST_COLOUR))
        self._markers: list[tuple[pg.PlotWidget, pg.InfiniteLine]] = []
        self._interval = MIN_INTERVAL
        self._cost = 0.0  # running average of a refresh's seconds
        self._last_refresh = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        self.reset()

    def _sync_lr_view(self) -> None:
        self.lr_view.setGeometry(self.acc_plot.getPlotItem().vb.sceneBoundingRect())

    # -- data in (slots: store only) -----------------------------------------------------

    def reset(self, epochs: int | None = None) -> None:
        """Forget the previous run and its markers (overlaid runs stay); with ``epochs``, fix
        the x axis to the whole run so the curves grow into a stable frame (and the axes
        need no repainting)."""
        self._run_epochs = epochs or None
        self._batch_x: list[float] = []
        self._batch_loss: list[float] = []
        self._batch_max = 0.0
        self._smooth: list[float] = []
        self._smoother = Smoother()
        self._lrs = LrTrace()  # each batch's rate, where the batches say
        self._epochs: list[EpochMetrics] = []
        for plot, line in self._markers:
            plot.removeItem(line)
        self._markers.clear()
        self._marker_notes: list[tuple[float, str]] = []  # (epoch, what happened)
        self.marker_note.hide()
        self._fit_axes()
        self.refresh()

    def set_epochs(self, epochs: int) -> None:
        """The run's length was edited while paused: fit the x axis to the new length (the
        axes are redrawn once)."""
        self._run_epochs = epochs
        self._fit_axes()
        self.refresh()

    def load_history(self, history: list[EpochMetrics], batches: BatchLog | None = None) -> None:
        """Show what a resumed, branched or opened run already has, so that its live data
        continues after it. Batches after the last epoch of ``history`` are left out: the
        run goes on from that epoch's checkpoint, and its batches will come again."""
        if batches is not None and len(batches):
            last = history[-1].epoch if history else 0
            keep = batches.epoch <= last
            xs = batch_positions(batches.epoch)[keep].tolist()
            self._append_batches(xs, batches.loss[keep].tolist())
            self._lrs.extend(xs, batches.lr[keep].tolist())
        self._epochs.extend(history)
        self._fit_axes()
        self.refresh()

    def set_overlays(self, overlays: list[Overlay]) -> None:
        """Draw other runs behind the live one, each in its own colour, and name them in a
        legend; ``[]`` removes them. Meant for when the overlaid runs change, not per batch:
        it makes new items."""
        self.overlays.set(overlays, live_run_shown=bool(self._epochs or self._batch_x))
        self._fit_axes()
        self.refresh()

    @property
    def run_legends(self) -> dict[pg.PlotWidget, pg.LegendItem]:
        """Each plot's legend of the overlaid runs (hidden while none is)."""
        return self.overlays.legends

    def overlay_items(self) -> dict[str, list[pg.PlotDataItem]]:
        """The curves drawn for each overlaid run, by key."""
        return self.overlays.items()

    def legend_labels(self) -> list[str]:
        """The runs named in the legend of runs ([] when no run is overlaid)."""
        return self.overlays.legend_labels()

    def marker_texts(self) -> list[str]:
        """What the markers say, oldest first."""
        return [text for _, text in self._marker_notes]

    def add_marker(self, epoch: float, text: str) -> None:
        """A dashed vertical line on both plots, tagged with a number that the note under
        the plots explains: a moment worth seeing in the curves, such as settings edited
        while paused or the point a branch started from. :meth:`reset` removes it."""
        self._marker_notes.append((epoch, text))
        tag = str(len(self._marker_notes))
        # A short tag on the line, at a height where the curves and legends rarely are;
        # sentences along the line ran into the legends and off the plot.
        for plot, position in ((self.loss_plot, MARKER_TAG_HEIGHT), (self.acc_plot, 0.5)):
            line = pg.InfiniteLine(
                epoch, angle=90, pen=pg.mkPen(MARKER_COLOUR, width=1, style=DASH), label=tag,
                labelOpts={"position": position, "color": MARKER_COLOUR,
                           "fill": pg.mkBrush(255, 255, 255, 220)})
            line.setToolTip(text)
            plot.addItem(line, ignoreBounds=True)
            cache_as_pixmap(line)
            self._markers.append((plot, line))
        self.marker_note.setText("&nbsp;&nbsp;&nbsp; ".join(
            f"<b>{i}</b> epoch {at:g}: " + html.escape(said).replace("\n", ", ")
            for i, (at, said) in enumerate(self._marker_notes, start=1)))
        self.marker_note.show()

    def _fit_axes(self) -> None:
        """Fit both axes afresh to everything there is to show: the x axis to the longest of
        the planned run, its loaded history and the overlaid runs; the y axes to their
        values. Called when these change, not per batch."""
        span = max(self._run_epochs or 0, self.overlays.span,
                   self._epochs[-1].epoch if self._epochs else 0)
        for plot in (self.loss_plot, self.acc_plot):
            if self._run_epochs:
                plot.setXRange(0, span, padding=0.02)
                plot.getPlotItem().enableAutoRange(x=False)
            else:
                plot.getPlotItem().enableAutoRange(x=True)
        # Loss runs from 0 to a round ceiling that moves only when a loss exceeds it:
        # an axis whose range changes must be redrawn, and that costs training time.
        self._loss_top = 0.0
        self.loss_plot.getPlotItem().enableAutoRange(y=False)
        self.loss_plot.setYRange(0, 1, padding=0)
        self._acc_floor = 100.0
        self.acc_plot.getPlotItem().enableAutoRange(y=False)
        self.acc_plot.setYRange(0, 100, padding=0.02)
        self._fit_loss_axis(self.overlays.loss_max)
        if self.overlays.overlays:
            self._fit_accuracy_axis(self.overlays.acc_min)
        self._batches_dirty = self._epochs_dirty = True  # the live data refits them too

    @property
    def batch_points(self) -> int:
        return len(self._batch_loss)

    def add_batch(self, p: BatchProgress) -> None:
        first_batch = p.batch - len(p.losses)  # batches of this epoch before this report
        xs = [p.epoch - 1 + (first_batch + j + 1) / p.num_batches for j in range(len(p.losses))]
        self._append_batches(xs, p.losses)
        self._lrs.extend(xs, p.lrs)
        self._request_refresh()

    def _append_batches(self, xs: list[float], losses: list[float]) -> None:
        self._batch_x.extend(xs)
        self._batch_loss.extend(losses)
        self._batch_max = max([self._batch_max, *filter(math.isfinite, losses)])
        self._smooth.extend(self._smoother.extend(losses))
        self._batches_dirty = True

    def add_epoch(self, m: EpochMetrics) -> None:
        self._epochs.append(m)
        self._epochs_dirty = True
        self._request_refresh()

    def _request_refresh(self) -> None:
        if self._timer.isActive():
            return  # a refresh is already due
        wait = self._interval - (time.monotonic() - self._last_refresh)
        if wait <= 0:
            self.refresh()
        else:
            self._timer.start(int(wait * 1000) + 1)

    # -- data out (timer) ----------------------------------------------------------------

    def refresh(self) -> None:
        """Push what changed since the last refresh to the curves and repaint them now
        (a synchronous repaint, so that its cost can be measured and budgeted)."""
        started = time.monotonic()
        changed = []
        if self._batches_dirty:
            self._batches_dirty = False
            self.raw_loss.setData(self._batch_x, self._batch_loss)
            self.smooth_loss.setData(self._batch_x, self._smooth)
            self._fit_loss_axis(self._batch_max)
            changed.append(self.loss_plot)
            if len(self._lrs):
                self._draw_lr(*self._lrs.curve())
                changed.append(self.acc_plot)
        if self._epochs_dirty:
            self._epochs_dirty = False
            self._refresh_epochs()
            changed += [self.loss_plot, self.acc_plot]
        if self.isVisible():
            for plot in dict.fromkeys(changed):
                plot.viewport().repaint()
        self._last_refresh = time.monotonic()
        self._cost = 0.7 * self._cost + 0.3 * (self._last_refresh - started)
        self._interval = min(MAX_INTERVAL, max(MIN_INTERVAL, BUDGET_FACTOR * self._cost))

    def _fit_accuracy_axis(self, lowest: float) -> None:
        """Accuracy from a multiple of 5% below the lowest point up to 100%: the floor
        moves only when a new low appears, so the axis is rarely redrawn."""
        floor = max(0.0, 5 * math.floor((lowest - 2) / 5))
        if floor < self._acc_floor:
            self._acc_floor = floor
            self.acc_plot.setYRange(floor, 100, padding=0.02)

    def _fit_loss_axis(self, highest: float) -> None:
        if highest > self._loss_top:
            self._loss_top = nice_ceiling(highest * 1.05)
            self.loss_plot.setYRange(0, self._loss_top, padding=0)

    def _refresh_epochs(self) -> None:
        ep = np.array([m.epoch for m in self._epochs], dtype=float)
        self.train_loss.setData(ep, [m.train_loss for m in self._epochs])
        self.test_loss.setData(ep, [m.test_loss for m in self._epochs])
        self.train_acc.setData(ep, [100 * m.train_acc for m in self._epochs])
        self.test_acc.setData(ep, [100 * m.test_acc for m in self._epochs])
        if self._epochs:
            self._fit_accuracy_axis(min(100 * min(m.train_acc, m.test_acc)
                                        for m in self._epochs))
        losses = [v for m in self._epochs for v in (m.train_loss, m.test_loss)]
        self._fit_loss_axis(max(filter(math.isfinite, losses), default=0.0))
        best = best_epoch(self._epochs)
        if best is not None:
            self._set_best_marker((best.epoch, 100 * best.test_acc))
            if not len(self._lrs):  # no batches: epoch k's rate over (k-1, k]
                logs = [math.log10(m.lr) for m in self._epochs]
                self._draw_lr([x for k in range(len(logs)) for x in (k, k + 1)],
                              [y for y in logs for _ in (0, 1)])
            self._set_best_text(f"best test {best.test_acc:.1%} (epoch {best.epoch})",
                                f"best {best.test_acc:.1%}")
        else:
            self._set_best_marker(None)
            self.lr_curve.setData([])
            self._set_lr_axis([])
            self._set_best_text("")

    def _set_best_marker(self, point: tuple[float, float] | None) -> None:
        if point != self._best_point:  # a symbol's setData costs a millisecond or two
            self._best_point = point
            self.best_marker.setData(*([[point[0]], [point[1]]] if point else [[]]))

    def _draw_lr(self, xs: list[float], logs: list[float]) -> None:
        """The learning-rate curve (``logs``: log10 of the rate) and its axis."""
        self.lr_curve.setData(xs, logs)
        self._set_lr_axis(lr_ticks([10 ** y for y in logs]), min(logs), max(logs))

    def _set_lr_axis(self, ticks: list, low: float = 0.0, high: float = 0.0) -> None:
        """The learning-rate axis's ticks (none before the first epoch), set only on a
        change. The axis itself is always there, so the plot never shifts to make room."""
        shown = (ticks, low, high)
        if shown == self._lr_axis_shown:
            return
        self._lr_axis_shown = shown
        if ticks:
            self.lr_view.setYRange(low - 0.5, high + 0.5, padding=0)
        self.acc_plot.getPlotItem().getAxis("right").setTicks([ticks, []])

    def _set_best_text(self, text: str, short: str = "") -> None:
        """``text``, or ``short`` where the plot is narrow, in the accuracy plot's title."""
        self._best_text = text
        self.acc_title.set(f"{ACCURACY_TITLE} · {text}" if text else ACCURACY_TITLE,
                           f"{ACCURACY_TITLE} · {short}" if text else ACCURACY_TITLE)

    def best_text(self) -> str:
        """What the accuracy plot's title says of the best epoch ("" before the first)."""
        return self._best_text
