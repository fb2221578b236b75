"""How much each parameter mattered to the objective (Optuna's fANOVA importances over the
complete trials), as horizontal bars, most important on top; or the sentence that says why
there are none yet."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnn_core.sweep import SweepReport

from ...widgets.panel_parts import white_box

BAR_COLOUR = "#1e88e5"


class ImportancePlot(QWidget):
    """The bars (``sweepImportancePlot``) and, when there are none, the note
    (``sweepImportanceNote``)."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("sweepImportancePlot")
        self.plot.setMinimumHeight(140)
        item = self.plot.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setTitle("Importance")
        item.setLabel("bottom", "share")
        self.plot.setToolTip("How much of the objective's variance each parameter explains "
                             "(Optuna's fANOVA over the complete trials)")
        self.plot.setMinimumWidth(170)
        item.showGrid(x=True, alpha=0.2)
        item.setXRange(-0.03, 1.08, padding=0)  # room for the end labels
        item.getAxis("bottom").setTicks([[(0, "0"), (0.5, "0.5"), (1, "1")]])
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6, brush=BAR_COLOUR,
                                    pen=pg.mkPen(None))
        item.addItem(self.bars)
        self.note = QLabel(objectName="sweepImportanceNote", wordWrap=True)
        self.note.setStyleSheet("color: #555; padding: 2px 6px;")
        box = white_box()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(box)
        self.importances: dict[str, float] = {}
        self.show_report(None)

    def show_report(self, report: SweepReport | None) -> None:
        """Bars of ``report``'s importances, or its note (None: no sweep shown)."""
        shown = dict(report.importances) if report is not None else {}
        if shown == self.importances and report is not None:
            self._say(report.importance_note if not shown else "")
            return
        self.importances = shown
        names = sorted(shown, key=shown.get)  # the largest at the top
        shares = [float(shown[n]) for n in names]
        self.bars.setOpts(x0=[0.0] * len(names), y=list(range(len(names))), width=shares,
                          height=0.6)
        axis = self.plot.getPlotItem().getAxis("left")
        axis.setTicks([list(enumerate(names))])
        self.plot.getPlotItem().setYRange(-0.6, max(len(names), 1) - 0.4, padding=0)
        self._say("" if shown else (report.importance_note if report is not None
                                    else "No sweep shown."))

    def _say(self, note: str) -> None:
        self.note.setText(note)
        self.note.setVisible(bool(note))
