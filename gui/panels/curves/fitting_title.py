"""A plot title that gives way on a narrow panel.

pyqtgraph makes a plot at least as wide as its title. On a narrow panel (1280x800 with a
dock open) a long title therefore widens the plot past its widget and pushes the right
axis out of sight; this title says its short form there instead.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF


class FittingTitle(QObject):
    """The title of ``plot``, set with ``set(full, short)``; it fits itself as the plot
    resizes."""

    def __init__(self, plot: pg.PlotWidget, text: str) -> None:
        super().__init__(plot)
        self._plot = plot
        self._full = self._short = self._shown = text
        self._full_width = 0.0
        plot.setTitle(text)
        # measures a title off the plot: showing it would relayout the plot and redraw its
        # cached axes, twice when it does not fit
        self._ruler = pg.LabelItem("", **plot.getPlotItem().titleLabel.opts)
        plot.installEventFilter(self)

    def set(self, full: str, short: str) -> None:
        if (full, short) == (self._full, self._short):
            return  # a new title relayouts the plot: only on a change
        self._full, self._short = full, short
        self._ruler.setText(full)
        self._full_width = self._ruler.itemRect().width()
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        item = self._plot.getPlotItem()
        room = (self._plot.width() - item.getAxis("left").width()
                - item.getAxis("right").width())
        self._show(self._full if self._full_width <= room else self._short)

    def _show(self, text: str) -> None:
        if text != self._shown:
            self._shown = text
            self._plot.setTitle(text)
            item, room = self._plot.getPlotItem(), QRectF(self._plot.rect())
            if item.geometry() != room:  # sized to a longer title's minimum: fit it again
                item.setGeometry(room)
