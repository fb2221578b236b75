"""Each layer's vital signs, epoch by epoch, with plain-language warnings. The panel follows
the run itself and draws only while it is shown."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout,
                               QWidget)

from cnn_core.inspect.analysis import LayerHealth

from ...session.run_session import RunSession
from ...training.messages import HEALTH_PROBE, EpochDetails
from ...widgets.when_shown import WhenShown

# (title in the menu, key, log axis, axis label: short enough for a short axis)
METRICS = (
    ("weight norm (L2)", "weights", True, "weight norm"),
    ("gradient norm (L2) on the probe batch", "grads", True, "gradient norm"),
    ("ReLU units that never fire (%)", "inactive", False, "dead ReLU units (%)"),
    ("tanh outputs saturated near ±1 (%)", "saturated", False, "saturated tanh (%)"),
    ("BatchNorm mean running variance", "bn_var", False, "BN running variance"),
    ("BatchNorm mean |running mean|", "bn_mean", False, "BN |running mean|"),
)
MAX_EPOCH_TICKS = 10
COLOURS = ("#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41",
           "#3949ab", "#c0ca33")


def series(health: LayerHealth, key: str) -> dict[str, float]:
    """One number per layer for one metric."""
    if key == "weights":
        return dict(zip(health.layers, health.weight_norm))
    if key == "grads":
        return dict(zip(health.layers, health.grad_norm))
    if key == "inactive":
        return {k: 100 * v for k, v in health.inactive.items()}
    if key == "saturated":
        return {k: 100 * v for k, v in health.saturated.items()}
    index = 1 if key == "bn_var" else 0
    return {k: v[index] for k, v in health.batchnorm.items()}


class LayerHealthPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric_combo = QComboBox(objectName="layerHealthMetric")
        for title, key, _log, _label in METRICS:
            self.metric_combo.addItem(title, key)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("layerHealthPlot")
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        # the legend beside the plot, not on it: a layer's curve can run anywhere
        self.legend = pg.LegendItem()
        self.legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        cells = self.plot.getPlotItem().layout
        cells.addItem(self.legend, 2, 3)
        cells.setAlignment(self.legend, Qt.AlignmentFlag.AlignTop)
        self.warnings = QLabel(f"Layer health is measured after every epoch on {HEALTH_PROBE} "
                               "training images.", objectName="layerHealthWarnings",
                               wordWrap=True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.metric_combo)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.warnings)
        self.history: list[tuple[int, LayerHealth]] = []
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._drawn: tuple = ()  # (epochs, metric) last drawn: redraw only on a change
        self.metric_combo.currentIndexChanged.connect(lambda _i: self.redraw())

    def follow(self, session: RunSession) -> None:
        """Start afresh with each run and add each epoch's vital signs as they come."""
        self._redraw_due = WhenShown(self, self.redraw)
        session.runStarted.connect(lambda _info: self.clear())
        session.epochDetails.connect(self._on_details)

    def _on_details(self, details: EpochDetails) -> None:
        self.add(details.epoch, details.health)
        self._redraw_due.due()

    def clear(self) -> None:
        self.history = []
        self.redraw()

    def add(self, epoch: int, health: LayerHealth) -> None:
        self.history.append((epoch, health))

    def redraw(self) -> None:
        """Update the curves in place: one per layer, created once, updated with setData
        (clearing the plot and legend instead left the legend painting deleted items)."""
        key = self.metric_combo.currentData()
        if self._drawn == (len(self.history), key):
            return
        self._drawn = (len(self.history), key)
        log, label = next((log, label) for _t, k, log, label in METRICS if k == key)
        self.plot.setLogMode(y=log)
        self.plot.setLabel("left", label)
        layers: dict[str, list[tuple[int, float]]] = {}
        for epoch, health in self.history:
            for layer, value in series(health, key).items():
                layers.setdefault(layer, []).append((epoch, value))
        for layer in [name for name in self._curves if name not in layers]:
            curve = self._curves.pop(layer)
            self.legend.removeItem(curve)
            self.plot.removeItem(curve)
        for i, (layer, points) in enumerate(layers.items()):
            xs, ys = zip(*points)
            curve = self._curves.get(layer)
            if curve is None:
                colour = COLOURS[len(self._curves) % len(COLOURS)]
                curve = self._curves[layer] = self.plot.plot(
                    pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                    symbolBrush=colour)
                self.legend.addItem(curve, layer)
            curve.setData(xs, ys)
        if not layers and self.history:
            self.plot.setTitle("this architecture has no such layers")
        else:
            self.plot.setTitle("")
        if self.history:
            epoch, latest = self.history[-1]
            step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 10**9)
                        if epoch / s <= MAX_EPOCH_TICKS)
            self.plot.getAxis("bottom").setTickSpacing(step, step)  # whole epochs only
            self.warnings.setText(
                "\n".join(f"⚠ {w}" for w in latest.warnings) if latest.warnings else
                f"Epoch {epoch}: every layer looks healthy (no dead layers, no vanishing or "
                "exploding gradients).")
            self.warnings.setStyleSheet("color: #b71c1c;" if latest.warnings else "")
