"""A sweep's trials in parallel coordinates (as optuna-dashboard draws them): one vertical
axis per varied parameter and one for the objective, each scaled to [0, 1] and labelled
with real values (log parameters by decades, choices by category); one line per finished
trial through its values, coloured by its objective. The objective axis is itself the
colour bar: a line's colour is that of the point where it ends. Pruned trials are drawn
thin and grey beneath: their value is an early epoch's, not comparable."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QResizeEvent

from cnn_core.sweep import SweepReport, TrialRow

from .axes import Axis, report_axes

COLOUR_MAP = "viridis"  # dark purple (worst) to yellow (best), readable in grey too
PRUNED_COLOUR = (150, 150, 150, 110)
AXIS_COLOUR = "#555"
TEXT_COLOUR = "#333"
STRIP = 0.045  # the objective's colour strip, in axis spacings
LABEL_FILL = (255, 255, 255, 200)  # tick labels stay readable over the lines
TOP, BOTTOM = 1.16, -0.05  # room for the titles above the axes
MARGIN = 56  # pixels left of the first axis and right of the last, for their labels


class ParallelPlot(pg.PlotWidget):
    """``show_report(report)`` draws it; ``trial_lines()`` says how many trial lines are
    drawn. Clicking a line emits ``trialClicked`` with the trial's number."""

    trialClicked = Signal(int)
    _axes = 0  # how many axes are drawn (a class default: Qt resizes before __init__ ends)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("sweepParallelPlot")
        self.setMinimumHeight(180)
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            plot.hideAxis(side)
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self._colours = pg.colormap.get(COLOUR_MAP)
        self._lines: list[pg.PlotDataItem] = []  # reused: hidden when not needed
        self._drawn: list[int] = []  # the trial of each line shown
        self._decor: list[pg.GraphicsObject] = []  # axes, ticks and titles
        self._shape: tuple = ()  # what the decor was drawn for
        self._strip = pg.ImageItem()
        self._strip.setZValue(-5)
        plot.addItem(self._strip)
        self._note = pg.TextItem("", color=TEXT_COLOUR, anchor=(0.5, 0.5))
        plot.addItem(self._note)
        self.show_report(None)

    # -- reading ---------------------------------------------------------------------------

    def trial_lines(self) -> int:
        """How many trials are drawn as lines (complete and pruned ones)."""
        return len(self._drawn)

    def drawn_trials(self) -> list[int]:
        """The numbers of the trials drawn, in drawing order."""
        return list(self._drawn)

    def line_colour(self, trial: int) -> QColor | None:
        """The colour ``trial``'s line is drawn in (None: it is not drawn)."""
        for line in self._lines[:len(self._drawn)]:
            if line.trial == trial:
                return line.opts["pen"].color()
        return None

    # -- drawing ---------------------------------------------------------------------------

    def show_report(self, report: SweepReport | None) -> None:
        """Draw ``report``'s finished trials (None: nothing, with a note)."""
        if report is None:
            self._draw_axes([], "test_acc")
            self._show_lines([], [], "test_acc")
            self._note.setText("Start a sweep, or pick one, to see its trials here.")
            self._note.setPos(0.5, 0.5)
            self.getPlotItem().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        axes = report_axes(report)
        objective = report.settings.objective
        self._draw_axes(axes, objective)
        finished = [t for t in report.trials if t.finished]
        finished.sort(key=lambda t: (t.state == "complete", t.number))  # pruned beneath
        self._show_lines(axes, finished, objective)
        self._note.setText("" if finished else "No trial has finished yet.")
        self._note.setPos((len(axes) - 1) / 2, 0.5)

    def _show_lines(self, axes: Sequence[Axis], trials: Sequence[TrialRow],
                    objective: str) -> None:
        plot = self.getPlotItem()
        self._drawn = []
        objective_axis = axes[-1] if axes else None
        for trial in trials:
            points = [a.position(trial.params.get(a.key)) for a in axes[:-1]]
            points.append(objective_axis.position(trial.value))
            if any(p is None for p in points):
                continue  # a value the space no longer holds
            if len(self._lines) <= len(self._drawn):
                line = pg.PlotDataItem()
                line.setCurveClickable(True, width=6)
                line.sigClicked.connect(self._on_line_clicked)
                plot.addItem(line)
                self._lines.append(line)
            line = self._lines[len(self._drawn)]
            if trial.state == "complete":
                goodness = points[-1] if objective == "test_acc" else 1 - points[-1]
                pen = pg.mkPen(self._colours.map(goodness, mode="qcolor"), width=2.2)
                line.setZValue(1 + points[-1])
            else:
                pen = pg.mkPen(PRUNED_COLOUR, width=1, style=Qt.PenStyle.DashLine)
                line.setZValue(0)
            line.setData(np.arange(len(points), dtype=float), np.asarray(points, float),
                         pen=pen)
            line.trial = trial.number
            line.show()
            self._drawn.append(trial.number)
        for line in self._lines[len(self._drawn):]:
            line.hide()

    def _on_line_clicked(self, line: pg.PlotDataItem) -> None:
        self.trialClicked.emit(line.trial)

    def _draw_axes(self, axes: Sequence[Axis], objective: str) -> None:
        """The axis lines, their ticks and titles, and the objective's colour strip;
        drawn again only when the axes change."""
        shape = tuple((a.title, a.kind, a.low, a.high, tuple(map(repr, a.choices)))
                      for a in axes) + (objective,)
        if shape == self._shape:
            return
        self._shape = shape
        plot = self.getPlotItem()
        for item in self._decor:
            plot.removeItem(item)
        self._decor = []
        self._strip.setVisible(bool(axes))
        self._axes = len(axes)
        if not axes:
            return
        font = QFont()
        font.setPointSizeF(8.5)
        bold = QFont(font)
        bold.setBold(True)
        for x, axis in enumerate(axes):
            line = pg.PlotDataItem([x, x], [0, 1], pen=pg.mkPen(AXIS_COLOUR, width=1.2))
            self._add(line)
            title = pg.TextItem(axis.title + (" (log)" if axis.kind == "log" else ""),
                                color=TEXT_COLOUR, anchor=(0.5, 0))
            title.setFont(bold)
            title.setPos(x, TOP)
            self._add(title)
            last = x == len(axes) - 1  # the objective's labels: right of its colour strip
            for y, text in axis.ticks(objective):
                ends = [x + STRIP, x + STRIP + 0.025] if last else [x - 0.025, x]
                tick = pg.PlotDataItem(ends, [y, y], pen=pg.mkPen(AXIS_COLOUR))
                label = pg.TextItem(text, color=TEXT_COLOUR, anchor=(0 if last else 1, 0.5),
                                    fill=LABEL_FILL)
                label.setZValue(10)  # over the lines
                label.setFont(font)
                label.setPos(ends[1] + 0.005 if last else x - 0.03, y)
                self._add(tick)
                self._add(label)
        self._colour_strip(len(axes) - 1, objective)
        self._fit_width()

    def _fit_width(self) -> None:
        """Keep :data:`MARGIN` pixels either side of the outer axes, whatever the width,
        for the first axis's tick labels and the objective's."""
        if not self._axes:
            return
        span = max(self._axes - 1, 1)
        unit = max(self.getPlotItem().vb.width() - 2 * MARGIN, 40) / span  # pixels per axis
        self.getPlotItem().setRange(xRange=(-MARGIN / unit, self._axes - 1 + MARGIN / unit),
                                    yRange=(BOTTOM, TOP), padding=0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._fit_width()

    def _add(self, item: pg.GraphicsObject) -> None:
        self.getPlotItem().addItem(item)
        self._decor.append(item)

    def _colour_strip(self, x: int, objective: str) -> None:
        """The objective's axis painted with the colours of the values along it."""
        goodness = np.linspace(0, 1, 128) if objective == "test_acc" else np.linspace(1, 0, 128)
        colours = self._colours.map(goodness, mode="byte")[:, :3]
        self._strip.setImage(colours[:, None, :].astype(np.uint8), levels=(0, 255))
        self._strip.setRect(QRectF(x, 0, STRIP, 1))

