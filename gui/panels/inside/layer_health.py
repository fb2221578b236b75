"""Each layer's vital signs, epoch by epoch, with plain-language warnings. The panel follows
the run itself and draws only while it is shown."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout,
                               QWidget)

from cnn_core.inspect.analysis import LayerHealth

from ...session.analysis_jobs import AnalysisClient
from ...session.health_history import measure_saved, saved_epochs
from ...session.run_session import RunSession
from ...training.messages import HEALTH_PROBE, EpochDetails, RunInfo
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
MEASURE = "measure"  # the key of the job measuring saved epochs
INTRO = (f"Layer health is measured from the weights saved after every epoch, on "
         f"{HEALTH_PROBE} training images.")
# curves whose legend fits beside the plot; more (a backbone's) are named below it, in
# lines that wrap, where a tall legend would run over the plot
LEGEND_BESIDE = 9
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
        self.layers_combo = QComboBox(objectName="layerHealthLayers")
        self.layers_combo.addItem("layers that train", True)
        self.layers_combo.addItem("every layer", False)
        self.layers_combo.setToolTip("A frozen backbone's layers do not train: their numbers "
                                     "stay as they are, epoch after epoch.")
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
        self.key = QLabel(objectName="layerHealthKey", wordWrap=True)
        self.key.hide()
        self.warnings = QLabel(INTRO, objectName="layerHealthWarnings", wordWrap=True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.metric_combo)
        bar.addWidget(QLabel("of"))
        bar.addWidget(self.layers_combo)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.key)
        layout.addWidget(self.warnings)
        self.history: list[tuple[int, LayerHealth]] = []
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._drawn: tuple = ()  # (epochs, metric) last drawn: redraw only on a change
        self.metric_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.layers_combo.currentIndexChanged.connect(lambda _i: self.redraw())

    def follow(self, session: RunSession, client: AnalysisClient) -> None:
        """Start afresh with each run; while shown, measure the epochs it has saved (all
        of them the first time) on ``client``'s lane, and draw them."""
        self._client = client
        self._info: RunInfo | None = None
        self._upto = -1  # the latest epoch whose details came: its weights are saved
        self._again = False  # more epochs came while measuring
        self._measure_due = WhenShown(self, self._measure)
        session.runStarted.connect(self._on_run_started)
        session.epochDetails.connect(self._on_details)
        session.runFinished.connect(lambda _status: self._measure_due.due())
        client.finished.connect(self._on_measured)
        client.failed.connect(lambda _key, message: self._say(
            f"Could not measure layer health: {message}", error=True))
        client.progressed.connect(self._on_progress)

    def _on_run_started(self, info: RunInfo) -> None:
        self._client.cancel_all()
        self._info, self._upto, self._again = info, info.start_epoch, False
        self.clear()
        self._measure_due.due()

    def _on_details(self, details: EpochDetails) -> None:
        self._upto = max(self._upto, details.epoch)
        self._measure_due.due()

    def _measure(self) -> None:
        info = self._info
        if info is None or info.history is None or info.health_probe is None:
            return
        if self._client.busy(MEASURE):
            self._again = True
            return
        measured = {epoch for epoch, _ in self.history}
        files = [path for epoch, path in saved_epochs(info.history, self._upto).items()
                 if epoch not in measured]
        if files:
            images, labels = info.health_probe
            self._client.submit(MEASURE, None, lambda _model, state: measure_saved(
                files, info.model_meta, images, labels, state))

    def _on_measured(self, _key: str, measured: list[tuple[int, LayerHealth]]) -> None:
        for epoch, health in measured:
            self.add(epoch, health)
        self._drawn = ()  # the warnings say what was measured, not the progress any more
        self.redraw()
        if self._again:
            self._again = False
            self._measure_due.due()

    def _on_progress(self, _key: str, done: float, total: float) -> None:
        if total > 1:  # a run's history read at once; one new epoch needs no word
            self._say(f"Measuring layer health from the saved weights: epoch {int(done) + 1} "
                      f"of {int(total)}…")

    def _say(self, text: str, error: bool = False) -> None:
        self.warnings.setText(text)
        self.warnings.setStyleSheet("color: #b71c1c;" if error else "")

    def clear(self) -> None:
        self.history = []
        self.redraw()

    def add(self, epoch: int, health: LayerHealth) -> None:
        self.history.append((epoch, health))
        self.history.sort(key=lambda entry: entry[0])

    def _name_curves(self) -> None:
        """The legend beside the plot, or for many layers a key below it."""
        many = len(self._curves) > LEGEND_BESIDE
        for curve in self._curves.values():
            self.legend.removeItem(curve)
        if not many:
            for layer, curve in self._curves.items():
                self.legend.addItem(curve, layer)
        self.key.setVisible(many)
        self.key.setText("&nbsp;&nbsp; ".join(
            f'<span style="color:{curve.opts["pen"].color().name()}">&#9632;</span>&nbsp;{layer}'
            for layer, curve in self._curves.items()) if many else "")

    def redraw(self) -> None:
        """Update the curves in place: one per layer, created once, updated with setData
        (clearing the plot and legend instead left the legend painting deleted items)."""
        key, training = self.metric_combo.currentData(), self.layers_combo.currentData()
        if self._drawn == (len(self.history), key, training):
            return
        self._drawn = (len(self.history), key, training)
        frozen = set(self.history[-1][1].frozen) if self.history else set()
        self.layers_combo.setEnabled(bool(frozen))
        log, label = next((log, label) for _t, k, log, label in METRICS if k == key)
        self.plot.setLogMode(y=log)
        self.plot.setLabel("left", label)
        layers: dict[str, list[tuple[int, float]]] = {}
        for epoch, health in self.history:
            for layer, value in series(health, key).items():
                if not (training and layer in frozen):
                    layers.setdefault(layer, []).append((epoch, value))
        for layer in [name for name in self._curves if name not in layers]:
            curve = self._curves.pop(layer)
            self.legend.removeItem(curve)
            self.plot.removeItem(curve)
        for i, (layer, points) in enumerate(layers.items()):
            xs, ys = zip(*points)
            curve = self._curves.get(layer)
            if curve is None:
                colour = (COLOURS[len(self._curves)] if len(layers) <= len(COLOURS) else
                          pg.intColor(len(self._curves), hues=len(layers)))
                curve = self._curves[layer] = self.plot.plot(
                    pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                    symbolBrush=colour)
            curve.setData(xs, ys)
        self._name_curves()
        if not layers and self.history and training and frozen:
            self.plot.setTitle("no layer that trains has these: choose every layer")
        elif not layers and self.history:
            self.plot.setTitle("this architecture has no such layers")
        else:
            self.plot.setTitle("")
        if self.history:
            epoch, latest = self.history[-1]
            step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 10**9)
                        if epoch / s <= MAX_EPOCH_TICKS)
            self.plot.getAxis("bottom").setTickSpacing(step, step)  # whole epochs only
            still = (f" {len(latest.frozen)} layers and activations are frozen: they do not "
                     "train, and are not judged." if latest.frozen else "")
            self._say("\n".join(f"⚠ {w}" for w in latest.warnings) + still
                      if latest.warnings else
                      f"Epoch {epoch}: every layer looks healthy (no dead layers, no vanishing "
                      f"or exploding gradients).{still}", error=bool(latest.warnings))
        else:
            self._say(INTRO)
