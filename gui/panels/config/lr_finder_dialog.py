"""The learning-rate finder's view: the loss against the learning rate on a log axis, the
suggested rate marked, and a button that puts it in the learning-rate field.

The find starts as the view opens, with the settings in the panel as Start would take them,
and runs off the GUI thread (:mod:`gui.session.lr_finder`). The view is modal to the
window: while it is open no run starts or resumes (a find beside a training thread would
change the run's random draws) and the settings stay those the curve was made with. Esc,
Close or Cancel stop a find at its next step; the view closes once it has stopped.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from cnn_core.export.plots import lr_loss_range
from cnn_core.nn.models import MODELS
from cnn_core.train.config import TrainConfig
from cnn_core.train.lr_find import LrFinding

from ...session.lr_finder import END_LR, START_LR, STEPS, LrFinderService, find_learning_rate
from ...threads.tasks import Task

CURVE_COLOUR = "#1e88e5"  # the curves' train colour
SUGGESTION_COLOUR = "#e53935"
DEFAULT_STEPS = 100
OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD"}


class DecadeAxis(pg.AxisItem):
    """A log axis labelled 1e-7 .. 1e+1 at whole decades (pyqtgraph mixes 10^-7 and 0.001)."""

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [f"1e{round(v):+d}" if abs(v - round(v)) < 1e-6 else "" for v in values]


def rate_text(lr: float) -> str:
    """1e-7 rather than Python's 1e-07."""
    return f"{lr:g}".replace("e-0", "e-").replace("e+0", "e+")


def rounded(lr: float) -> float:
    """The rate as the field shows and a run uses it: two significant digits."""
    return float(f"{lr:.2g}")


class LrFinderDialog(QDialog):
    """``config()`` gives the panel's settings (ValueError naming a bad field); ``use(lr)``
    puts a rate in the learning-rate field."""

    def __init__(self, finder: LrFinderService, config: Callable[[], TrainConfig],
                 use: Callable[[float], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lrFinderDialog")
        self.setWindowTitle("Learning-rate finder")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._finder, self._config, self._use = finder, config, use
        self._task: Task | None = None
        self._closing: int | None = None  # the result to close with once the find stops
        self.suggestion: float | None = None

        self.about = QLabel(wordWrap=True, objectName="lrFindAbout")
        self.plot = pg.PlotWidget(axisItems={"bottom": DecadeAxis("bottom")})
        self.plot.setObjectName("lrFinderPlot")
        self.steps_spin = QSpinBox(objectName="lrFindStepsSpin", minimum=10, maximum=10_000,
                                   value=DEFAULT_STEPS, suffix=" steps")
        self.steps_spin.setToolTip(f"Learning rates tried, one batch each, from "
                                   f"{rate_text(START_LR)} to {rate_text(END_LR)}.")
        self.run_button = QPushButton("Find &again", objectName="lrFindRunButton",
                                      autoDefault=False)
        self.progress = QProgressBar(objectName="lrFindProgress", textVisible=True)
        self.cancel_button = QPushButton("&Cancel", objectName="lrFindCancelButton",
                                         autoDefault=False)
        self.status = QLabel(wordWrap=True, objectName="lrFindStatus")
        self.use_button = QPushButton("&Use the suggested rate",
                                      objectName="useSuggestedLrButton", default=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self._build_plot()
        self._build_layout()
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self._use_suggestion)
        self.buttons.rejected.connect(self.reject)
        self._show_idle()

    def _build_plot(self) -> None:
        plot = self.plot
        plot.setLogMode(x=True)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setLabel("bottom", "learning rate (log scale)")
        plot.setLabel("left", "cross-entropy loss")
        plot.setMouseEnabled(x=False, y=False)
        # the axis is in log10; padded so the end labels fit
        plot.setXRange(math.log10(START_LR), math.log10(END_LR), padding=0.06)
        # bottom left: the loss is high at the smallest rates, so nothing is drawn there
        plot.addLegend(offset=(10, -10), brush=(255, 255, 255, 190))
        self.raw_curve = plot.plot(name="loss of each batch",
                                   pen=pg.mkPen(CURVE_COLOUR + "55", width=1))
        self.curve = plot.plot(name="loss (smoothed)", pen=pg.mkPen(CURVE_COLOUR, width=2))
        self.marker = pg.InfiniteLine(
            angle=90, pen=pg.mkPen(SUGGESTION_COLOUR, width=1.5, style=Qt.PenStyle.DashLine),
            label="", labelOpts={"position": 0.5, "color": SUGGESTION_COLOUR,
                                 "fill": pg.mkBrush(255, 255, 255, 220),
                                 "anchors": [(0, 0.5), (0, 0.5)]})  # right of the line
        plot.addItem(self.marker, ignoreBounds=True)
        self.marker.hide()

    def _build_layout(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(self.steps_spin)
        controls.addWidget(self.run_button)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addWidget(self.plot, 1)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(760, 520)

    # -- the find ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Find again with the panel's settings as they are now; a bad one is said, and
        nothing runs."""
        if self.running:
            return
        self._show_finding(None)
        try:
            config = self._config()
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            self.about.clear()
            self._show_idle(f"Cannot find a learning rate: {field.replace('_', ' ')} — "
                            f"{reason}. Fix it in the Configuration panel and find again.")
            return
        network = MODELS[config.arch].display_name if config.arch in MODELS else config.arch
        optimizer = OPTIMIZER_NAMES.get(config.optimizer, config.optimizer)
        self.about.setText(
            f"{network} with {optimizer}, batch {config.batch_size}, seed {config.seed}: a "
            "fresh copy of the network trains one batch per step while the learning rate "
            f"grows from {rate_text(START_LR)} to {rate_text(END_LR)}. Where the loss falls "
            "fastest, training goes fastest. Nothing of your runs changes.")
        task = self._task = Task(find_learning_rate, config, self.steps_spin.value())
        task.progressed.connect(self._on_progress)
        task.succeeded.connect(self._on_found)
        task.failed.connect(self._on_failed)
        task.finished.connect(lambda: self._on_finished(task))
        self.progress.setRange(0, 0)
        self.progress.setFormat("reading the pictures…")
        self.cancel_button.setEnabled(True)
        self.run_button.setEnabled(False)
        self.steps_spin.setEnabled(False)
        self.status.setText("Finding…")
        self._finder.start(task)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Stopping…")

    def _on_progress(self, done: float, total: float, what: str) -> None:
        if what == STEPS and total > 0:
            self.progress.setRange(0, int(total))
            self.progress.setValue(int(done))
            self.progress.setFormat("step %v of %m")

    def _on_found(self, finding: LrFinding | None) -> None:
        self._show_result(finding)
        self._stopped()

    def _show_result(self, finding: LrFinding | None) -> None:
        if finding is None:  # cancelled: what was tried so far suggests nothing
            self._show_idle("Cancelled; the learning rate is unchanged.")
            return
        if len(finding.lrs) < 2 or not math.isfinite(finding.suggestion):
            self._show_idle("The loss was not a number from the first step: nothing to "
                            "suggest. Try another optimizer or a smaller batch.")
            return
        self._show_finding(finding)
        steps = self.steps_spin.value()
        self._show_idle(
            f"Suggested learning rate: {rounded(finding.suggestion):g}, halfway down the "
            "longest fall of the smoothed loss (fastai's valley rule)."
            + (" The find stopped where the loss diverged." if len(finding.lrs) < steps
               else ""))
        self.progress.setRange(0, steps)
        self.progress.setValue(len(finding.lrs))
        self.progress.setFormat("%v of %m steps")
        self.suggestion = rounded(finding.suggestion)
        self.use_button.setText(f"&Use {self.suggestion:g}")
        self.use_button.setEnabled(True)

    def _on_failed(self, exc: Exception) -> None:
        self._show_idle(f"Cannot find a learning rate: {exc}")
        self._stopped()

    def _on_finished(self, task: Task) -> None:
        if task is self._task:  # cancelled before it began: it neither succeeded nor failed
            self._on_found(None)

    def _stopped(self) -> None:
        """The find has answered: its function has returned, though its thread may not yet
        have said ``finished``. A new find may start (it waits on the lane) and a close
        waiting for this one happens now."""
        self._task = None
        closing, self._closing = self._closing, None
        if closing is not None:
            super().done(closing)

    def _show_finding(self, finding: LrFinding | None) -> None:
        """The curves of ``finding``, or none."""
        if finding is None:
            self.curve.setData([], [])
            self.raw_curve.setData([], [])
            self.marker.hide()
            self.suggestion = None
            self.use_button.setText("&Use the suggested rate")
            self.use_button.setEnabled(False)
            return
        self.raw_curve.setData(finding.lrs, finding.raw_losses)
        self.curve.setData(finding.lrs, finding.losses)
        self.plot.setYRange(*lr_loss_range(finding))  # the range the --plot PNG shows
        self.marker.show()  # first: a hidden line's label does not take new text
        self.marker.setPos(math.log10(rounded(finding.suggestion)))  # the axis is log10
        self.marker.label.setFormat(f"suggested {rounded(finding.suggestion):g}")

    def _show_idle(self, message: str = "") -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.cancel_button.setEnabled(False)
        self.run_button.setEnabled(True)
        self.steps_spin.setEnabled(True)
        self.status.setText(message)

    # -- using it and closing ------------------------------------------------------------

    def _use_suggestion(self) -> None:
        if self.suggestion is not None:
            self._use(self.suggestion)
            self.accept()

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name; Esc, Close, Use end here
        """Closing stops a find first; the view closes once it has stopped, so that no run
        can start beside it."""
        if self._task is None:
            super().done(result)
            return
        self._closing = result
        self.cancel()
