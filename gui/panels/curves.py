"""Live loss and accuracy curves.

Items are created once; slots append to Python buffers and ask for a refresh, which
pushes the buffers to the curves with ``setData`` and repaints them. Refreshes keep to a
frame budget: the next waits ``BUDGET_FACTOR`` times what a refresh costs (a running
average, kept between ``MIN_INTERVAL`` and ``MAX_INTERVAL``), so drawing uses about 2%
of the GUI thread on any machine; requests in between are coalesced by a single-shot timer. There is no periodic
timer: on a 2-core machine every wake-up of the GUI thread takes a core from training. The x axis is in epochs
for every series, so per-batch losses (x = epoch - 1 + batch / batches) and per-epoch
points share one axis.

Other runs can be overlaid for comparison (:meth:`CurvesWidget.set_overlays`), each in its
own colour and named in a legend of runs; their items are made only when the overlaid
runs change. Markers (:meth:`CurvesWidget.add_marker`) label moments of the run, such as
settings edited while paused or the point a branch started from.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QWidget

from cnn_core.train.callbacks import BatchProgress, EpochMetrics
from cnn_core.runs.store import BatchLog

Series = list[tuple[str, pg.PlotDataItem, str]]  # (name, curve, value format) for a readout

TRAIN_COLOUR = "#1e88e5"
TEST_COLOUR = "#e53935"
LR_COLOUR = "#8e24aa"
SMOOTHING = 0.9  # weight of the past in the smoothed batch loss (TensorBoard-style, debiased)
MIN_INTERVAL = 0.2  # seconds between refreshes at the least: five a second looks live
MAX_INTERVAL = 1.0  # and at the most: slower than this, the curves look stuck
BUDGET_FACTOR = 50  # wait 50x what a refresh costs: drawing takes ~2% of the time
# Overlaid runs, one colour each: a qualitative palette without the live run's blue and
# red, and with the learning rate's purple last.
OVERLAY_COLOURS = ("#ff7f0e", "#2ca02c", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
                   "#7f7f7f", "#9467bd")
MARKER_COLOUR = "#546e7a"
DASH = Qt.PenStyle.DashLine


def nice_ceiling(value: float) -> float:
    """The next of 1, 1.5, 2, 3, 5, 7.5 x 10^k at or above ``value``."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    decade = 10 ** math.floor(math.log10(value))
    return next(m * decade for m in (1, 1.5, 2, 3, 5, 7.5, 10) if m * decade >= value)


@dataclass
class Overlay:
    """Another run drawn behind the live one, to compare against."""

    key: str  # stable identity (the run folder): the run keeps its colour while overlaid
    name: str
    history: list[EpochMetrics]
    batches: BatchLog | None = None


class Smoother:
    """The smoothed batch loss: an exponential moving average, debiased like TensorBoard's
    so that the first points are not pulled towards zero."""

    def __init__(self) -> None:
        self._ema = 0.0
        self._n = 0

    def extend(self, losses: Iterable[float]) -> list[float]:
        out = []
        for loss in losses:
            self._n += 1
            self._ema = SMOOTHING * self._ema + (1 - SMOOTHING) * loss
            out.append(self._ema / (1 - SMOOTHING**self._n))
        return out


def batch_positions(epochs: np.ndarray) -> np.ndarray:
    """x (in epochs) of every batch of a log, where :meth:`CurvesWidget.add_batch` puts a
    live one: batch i of n in epoch e at e - 1 + i / n. A last, unfinished epoch is
    spread over as many batches as the one before it had."""
    if len(epochs) == 0:
        return np.zeros(0)
    _, first, inverse, counts = np.unique(epochs, return_index=True, return_inverse=True,
                                          return_counts=True)
    if len(counts) > 1:
        counts[-1] = max(counts[-1], counts[-2])
    rank = np.arange(len(epochs)) - first[inverse] + 1
    return epochs - 1 + rank / counts[inverse]


class HoverReadout:
    """Shows the exact value of the data point nearest the mouse on a plot."""

    def __init__(self, plot: pg.PlotWidget, series: Series) -> None:
        self.plot, self.series = plot, series
        self.extra: Series = []  # the overlaid runs' curves
        self.text = pg.TextItem(anchor=(0, 1), color="#222", fill=pg.mkBrush(255, 255, 255, 220),
                                border=pg.mkPen("#999"))
        self.text.setZValue(100)
        self.text.hide()
        plot.addItem(self.text, ignoreBounds=True)
        self.marker = pg.ScatterPlotItem(size=9, pen=pg.mkPen("#222"), brush=None)
        plot.addItem(self.marker, ignoreBounds=True)
        plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def _on_mouse_moved(self, pos) -> None:
        vb = self.plot.getPlotItem().vb
        if not self.plot.sceneBoundingRect().contains(pos) or not vb.sceneBoundingRect().contains(pos):
            self.text.hide()
            self.marker.setData([])
            return
        mouse = vb.mapSceneToView(pos)
        (x_px, y_px) = vb.viewPixelSize()
        best = None
        for name, item, fmt in self.series + self.extra:
            xs, ys = item.getData()
            if xs is None or len(xs) == 0 or not item.isVisible():
                continue
            d = ((xs - mouse.x()) / x_px) ** 2 + ((ys - mouse.y()) / y_px) ** 2
            i = int(np.nanargmin(d))
            if best is None or d[i] < best[0]:
                best = (d[i], name, xs[i], ys[i], fmt)
        if best is None or best[0] > 30**2:  # nothing within 30 pixels
            self.text.hide()
            self.marker.setData([])
            return
        _, name, x, y, fmt = best
        self.text.setText(f"{name}\nepoch {x:.2f}: {fmt.format(y)}")
        self.text.setPos(x, y)
        self.text.show()
        self.marker.setData([x], [y])


class CurvesWidget(QWidget):
    """``lossPlot`` and ``accuracyPlot`` side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget(title="Loss")
        self.loss_plot.setObjectName("lossPlot")
        self.acc_plot = pg.PlotWidget(title="Accuracy")
        self.acc_plot.setObjectName("accuracyPlot")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.acc_plot)

        lp = self.loss_plot.getPlotItem()
        lp.setLabel("bottom", "epoch")
        lp.setLabel("left", "cross-entropy loss")
        lp.showGrid(x=True, y=True, alpha=0.2)
        lp.addLegend(offset=(-10, 10))
        self.raw_loss = lp.plot(name="batch loss", pen=pg.mkPen(TRAIN_COLOUR + "40", width=1))
        self.smooth_loss = lp.plot(name="batch loss (smoothed)", pen=pg.mkPen(TRAIN_COLOUR, width=2))
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
        ap.addLegend(offset=(-10, -10))
        self.train_acc = ap.plot(name="train", pen=pg.mkPen(TRAIN_COLOUR, width=2),
                                 symbol="o", symbolSize=7, symbolBrush=TRAIN_COLOUR)
        self.test_acc = ap.plot(name="test", pen=pg.mkPen(TEST_COLOUR, width=2),
                                symbol="s", symbolSize=7, symbolBrush=TEST_COLOUR)
        self.best_marker = pg.ScatterPlotItem(symbol="star", size=20, brush="#fdd835",
                                              pen=pg.mkPen("#5d4037"), name="best test")
        ap.addItem(self.best_marker)  # the legend picks it up by its name
        self.best_label = pg.TextItem(color="#5d4037", anchor=(1.0, 1.2))
        ap.addItem(self.best_label, ignoreBounds=True)

        # The learning rate on its own log axis at the right of the accuracy plot.
        self.lr_view = pg.ViewBox()
        ap.showAxis("right")
        ap.scene().addItem(self.lr_view)
        ap.getAxis("right").linkToView(self.lr_view)
        ap.getAxis("right").setLabel("learning rate", color=LR_COLOUR)
        ap.getAxis("right").setLogMode(True)
        ap.getAxis("right").enableAutoSIPrefix(False)
        self.lr_view.setXLink(ap)
        self.lr_view.enableAutoRange(y=False)
        self.lr_curve = pg.PlotDataItem(pen=pg.mkPen(LR_COLOUR, width=1.5,
                                                     style=pg.QtCore.Qt.PenStyle.DotLine),
                                        stepMode="center")
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
        # cached pixmaps, so a frame repaints two curves instead of ~20 Python items (each
        # Python paint() must win the GIL back from training). Axes with their grid lines
        # are the costliest; a fixed x range (see reset) keeps their caches valid.
        live = {self.raw_loss.curve, self.smooth_loss.curve}
        for plot in (self.loss_plot, self.acc_plot):
            for item in plot.scene().items():
                if item not in live:
                    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # While runs are overlaid, a legend of runs takes the place of the legend of series,
        # in the corner where the curves rarely go: the top right of the loss, the bottom
        # right of the accuracy. Its last rows say which line style is which series.
        self.run_legends = {self.loss_plot: self._make_run_legend(lp),
                            self.acc_plot: self._make_run_legend(ap)}
        self._this_run_sample = _sample(TEST_COLOUR, symbol="s", symbolSize=7,
                                        symbolBrush=TEST_COLOUR)
        self._style_keys = {
            self.loss_plot: [(_sample("#757575", width=2), "test (solid)"),
                             (_sample("#757575", width=1), "batch loss, smoothed (thin)")],
            self.acc_plot: [(_sample("#757575", width=2), "test (solid)"),
                            (_sample("#757575", width=1.5, style=DASH), "train (dashed)")],
        }
        self._overlays: list[Overlay] = []
        self._overlay_items: dict[str, list[pg.PlotDataItem]] = {}
        self._colours: dict[str, str] = {}  # overlay key -> colour, kept while overlaid
        self._overlay_span = 0.0  # epochs covered by the longest overlaid run
        self._overlay_loss_max = 0.0
        self._overlay_acc_min = 100.0
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

    @staticmethod
    def _make_run_legend(plot: pg.PlotItem) -> pg.LegendItem:
        legend = pg.LegendItem(offset=plot.legend.opts["offset"], pen=pg.mkPen("#bdbdbd"),
                               brush=pg.mkBrush(255, 255, 255, 190), labelTextColor="#333",
                               verSpacing=-4)
        legend.setParentItem(plot.vb)
        legend.setVisible(False)
        return legend

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
        self._epochs: list[EpochMetrics] = []
        for plot, line in self._markers:
            plot.removeItem(line)
        self._markers.clear()
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
            self._append_batches(batch_positions(batches.epoch)[keep].tolist(),
                                 batches.loss[keep].tolist())
        self._epochs.extend(history)
        self._fit_axes()
        self.refresh()

    def set_overlays(self, overlays: list[Overlay]) -> None:
        """Draw other runs behind the live one, each in its own colour, and name them in a
        legend; ``[]`` removes them. Meant for when the overlaid runs change, not per batch:
        it makes new items."""
        for items in self._overlay_items.values():
            for item in items:
                for plot in (self.loss_plot, self.acc_plot):
                    if item in plot.getPlotItem().items:
                        plot.removeItem(item)
        self._overlay_items.clear()
        keys = {o.key for o in overlays}
        self._colours = {k: c for k, c in self._colours.items() if k in keys}
        for o in overlays:
            if o.key not in self._colours:
                free = [c for c in OVERLAY_COLOURS if c not in self._colours.values()]
                self._colours[o.key] = free[0] if free else \
                    OVERLAY_COLOURS[len(self._colours) % len(OVERLAY_COLOURS)]
        self._overlays = list(overlays)
        for plot, legend in self.run_legends.items():
            legend.clear()
            legend.setVisible(bool(overlays))
            plot.getPlotItem().legend.setVisible(not overlays)
            if overlays and (self._epochs or self._batch_x):
                legend.addItem(self._this_run_sample, "this run")
        loss_series: Series = []
        acc_series: Series = []
        self._overlay_span, self._overlay_loss_max, self._overlay_acc_min = 0.0, 0.0, 100.0
        for o in overlays:
            curves = self._draw_overlay(o, self._colours[o.key])
            self._overlay_items[o.key] = list(curves.values())
            name = html.escape(o.name)
            self.run_legends[self.loss_plot].addItem(curves["test loss"], name)
            self.run_legends[self.acc_plot].addItem(curves["test accuracy"], name)
            for series, item in curves.items():
                readout = acc_series if "accuracy" in series else loss_series
                readout.append((f"{o.name}: {series}", item,
                                "{:.2f}%" if "accuracy" in series else "{:.4f}"))
        self._readouts[0].extra, self._readouts[1].extra = loss_series, acc_series
        for plot, legend in self.run_legends.items():
            if overlays:
                for sample, label in self._style_keys[plot]:
                    legend.addItem(sample, label)
            _cache(legend)
        self._fit_axes()
        self.refresh()

    def _draw_overlay(self, o: Overlay, colour: str) -> dict[str, pg.PlotDataItem]:
        """One run's curves by series name; also widens what the axes must show."""
        lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
        ep = np.array([m.epoch for m in o.history], dtype=float)
        dots = {"symbol": "o", "symbolSize": 5, "symbolBrush": colour, "symbolPen": None}
        curves = {}
        if o.batches is not None and len(o.batches):
            x = batch_positions(o.batches.epoch)
            smoothed = Smoother().extend(o.batches.loss.tolist())
            smooth = curves["batch loss (smoothed)"] = lp.plot(x, smoothed,
                                                               pen=pg.mkPen(colour, width=1))
            smooth.setClipToView(True)
            smooth.setDownsampling(auto=True, method="peak")
            self._overlay_span = max(self._overlay_span, float(x[-1]))
            self._overlay_loss_max = max(self._overlay_loss_max,
                                         max(filter(math.isfinite, smoothed), default=0.0))
        curves["test loss"] = lp.plot(ep, [m.test_loss for m in o.history],
                                      pen=pg.mkPen(colour, width=2), **dots)
        curves["train accuracy"] = ap.plot(ep, [100 * m.train_acc for m in o.history],
                                           pen=pg.mkPen(colour, width=1.5, style=DASH))
        curves["test accuracy"] = ap.plot(ep, [100 * m.test_acc for m in o.history],
                                          pen=pg.mkPen(colour, width=2), **dots)
        for item in curves.values():
            item.setZValue(-1)  # behind the live run
            _cache(item)
        if o.history:
            self._overlay_span = max(self._overlay_span, float(ep[-1]))
            self._overlay_loss_max = max(
                [self._overlay_loss_max] + [m.test_loss for m in o.history
                                            if math.isfinite(m.test_loss)])
            self._overlay_acc_min = min(
                [self._overlay_acc_min] + [100 * min(m.train_acc, m.test_acc) for m in o.history])
        return curves

    def overlay_items(self) -> dict[str, list[pg.PlotDataItem]]:
        """The curves drawn for each overlaid run, by key."""
        return dict(self._overlay_items)

    def legend_labels(self) -> list[str]:
        """The runs named in the legend of runs ([] when no run is overlaid)."""
        keys = {id(sample) for sample, _ in self._style_keys[self.loss_plot]}
        return [label.text for sample, label in self.run_legends[self.loss_plot].items
                if id(sample.item) not in keys]

    def marker_texts(self) -> list[str]:
        """The labels of the markers, oldest first."""
        return [line.label.toPlainText() for plot, line in self._markers
                if plot is self.loss_plot]

    def add_marker(self, epoch: float, text: str) -> None:
        """A dashed vertical line, labelled, on both plots: a moment worth seeing in the
        curves, such as settings edited while paused or the point a branch started from.
        :meth:`reset` removes it."""
        # The label runs along the line, so that it covers little, at the end where the
        # curves rarely are: the top of the loss, the bottom of the accuracy.
        for plot, position, anchor in ((self.loss_plot, 0.98, (1, 1)),
                                       (self.acc_plot, 0.02, (0, 1))):
            line = pg.InfiniteLine(
                epoch, angle=90, pen=pg.mkPen(MARKER_COLOUR, width=1, style=DASH), label=text,
                labelOpts={"position": position, "anchors": [anchor, anchor],
                           "rotateAxis": (1, 0), "color": MARKER_COLOUR,
                           "fill": pg.mkBrush(255, 255, 255, 200)})
            plot.addItem(line, ignoreBounds=True)
            _cache(line)
            self._markers.append((plot, line))

    def _fit_axes(self) -> None:
        """Fit both axes afresh to everything there is to show: the x axis to the longest of
        the planned run, its loaded history and the overlaid runs; the y axes to their
        values. Called when these change, not per batch."""
        span = max(self._run_epochs or 0, self._overlay_span,
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
        self._fit_loss_axis(self._overlay_loss_max)
        if self._overlays:
            self._fit_accuracy_axis(self._overlay_acc_min)
        self._batches_dirty = self._epochs_dirty = True  # the live data refits them too

    @property
    def batch_points(self) -> int:
        return len(self._batch_loss)

    def add_batch(self, p: BatchProgress) -> None:
        first_batch = p.batch - len(p.losses)  # batches of this epoch before this report
        self._append_batches([p.epoch - 1 + (first_batch + j + 1) / p.num_batches
                              for j in range(len(p.losses))], p.losses)
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
        if self._epochs:
            best = max(self._epochs, key=lambda m: m.test_acc)
            self.best_marker.setData([best.epoch], [100 * best.test_acc])
            self.best_label.setText(f"best {best.test_acc:.1%} (epoch {best.epoch})")
            self.best_label.setPos(best.epoch, 100 * best.test_acc)
            # above the star, unless that would leave the plot: then below it
            near_top = 100 * (1 - best.test_acc) < 0.1 * (100 - self._acc_floor)
            self.best_label.setAnchor((1.0, -0.2) if near_top else (1.0, 1.2))
            # lr of epoch k applies over (k-1, k]; a step curve needs one more x than y
            lrs = [math.log10(m.lr) for m in self._epochs]
            self.lr_curve.setData(np.arange(len(lrs) + 1, dtype=float), lrs)
            self.lr_view.setYRange(min(lrs) - 0.5, max(lrs) + 0.5, padding=0)
            self.acc_plot.getPlotItem().showAxis("right")
        else:
            self.best_marker.setData([])
            self.best_label.setText("")
            self.lr_curve.setData([])
            self.acc_plot.getPlotItem().hideAxis("right")


def _sample(colour: str, width: float = 2, style: Qt.PenStyle = Qt.PenStyle.SolidLine,
            **symbol) -> pg.PlotDataItem:
    """A curve for a legend to draw its sample from, shown in no plot (one point: a
    PlotDataItem styles its symbols only once it has data)."""
    return pg.PlotDataItem([0], [0], pen=pg.mkPen(colour, width=width, style=style), **symbol)


def _cache(item: QGraphicsItem) -> None:
    """Keep ``item`` and its children as cached pixmaps (see CurvesWidget.__init__)."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    for child in item.childItems():
        _cache(child)
