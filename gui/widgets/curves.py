"""Live loss and accuracy curves.

Items are created once; slots append to Python buffers and ask for a refresh, which
pushes the buffers to the curves with ``setData`` and repaints them. Refreshes keep to a
frame budget: the next waits ``BUDGET_FACTOR`` times what a refresh costs (a running
average, kept between ``MIN_INTERVAL`` and ``MAX_INTERVAL``), so drawing uses about 2%
of the GUI thread on any machine; requests in between are coalesced by a single-shot timer. There is no periodic
timer: on a 2-core machine every wake-up of the GUI thread takes a core from training. The x axis is in epochs
for every series, so per-batch losses (x = epoch - 1 + batch / batches) and per-epoch
points share one axis.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QWidget

from cnn_core.callbacks import BatchProgress, EpochMetrics

TRAIN_COLOUR = "#1e88e5"
TEST_COLOUR = "#e53935"
LR_COLOUR = "#8e24aa"
SMOOTHING = 0.9  # weight of the past in the smoothed batch loss (TensorBoard-style, debiased)
MIN_INTERVAL = 0.2  # seconds between refreshes at the least: five a second looks live
MAX_INTERVAL = 1.0  # and at the most: slower than this, the curves look stuck
BUDGET_FACTOR = 50  # wait 50x what a refresh costs: drawing takes ~2% of the time


def nice_ceiling(value: float) -> float:
    """The next of 1, 1.5, 2, 3, 5, 7.5 x 10^k at or above ``value``."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    decade = 10 ** math.floor(math.log10(value))
    return next(m * decade for m in (1, 1.5, 2, 3, 5, 7.5, 10) if m * decade >= value)


class HoverReadout:
    """Shows the exact value of the data point nearest the mouse on a plot."""

    def __init__(self, plot: pg.PlotWidget, series: list[tuple[str, pg.PlotDataItem, str]]) -> None:
        self.plot, self.series = plot, series
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
        for name, item, fmt in self.series:
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
        """Forget the previous run; with ``epochs``, fix the x axis to the whole run so the
        curves grow into a stable frame (and the axes need no repainting)."""
        for plot in (self.loss_plot, self.acc_plot):
            if epochs:
                plot.setXRange(0, epochs, padding=0.02)
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
        self._batch_x: list[float] = []
        self._batch_loss: list[float] = []
        self._batch_max = 0.0
        self._smooth: list[float] = []
        self._ema = 0.0
        self._ema_n = 0
        self._epochs: list[EpochMetrics] = []
        self._batches_dirty = self._epochs_dirty = True
        self.refresh()

    @property
    def batch_points(self) -> int:
        return len(self._batch_loss)

    def add_batch(self, p: BatchProgress) -> None:
        first_batch = p.batch - len(p.losses)  # batches of this epoch before this report
        for j, loss in enumerate(p.losses):
            self._batch_x.append(p.epoch - 1 + (first_batch + j + 1) / p.num_batches)
            self._batch_loss.append(loss)
            if math.isfinite(loss):
                self._batch_max = max(self._batch_max, loss)
            self._ema_n += 1
            self._ema = SMOOTHING * self._ema + (1 - SMOOTHING) * loss
            self._smooth.append(self._ema / (1 - SMOOTHING**self._ema_n))
        self._batches_dirty = True
        self._request_refresh()

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
