"""A zoomable view of one :class:`~cnn_core.export.render.Grid` with labels and hover text."""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QWidget

from cnn_core.export.render import Grid

MAX_TILE_LABELS = 64  # past this, only the first tile of each row is numbered
LABEL_BACKING = QColor(255, 255, 255, 170)


class _TileLabels(pg.GraphicsObject):
    """Every tile's number, drawn in one ``paint`` call at a constant pixel size.

    One item rather than one ``TextItem`` per tile: while training holds the GIL, each
    Python ``paint`` callback has to win it back, and dozens of them stalled the window.
    """

    def __init__(self) -> None:
        super().__init__()
        self._points: list[tuple[float, float, str]] = []
        self._rect = QRectF()
        self._font = QFont("sans", 7)

    def set_labels(self, points: list[tuple[float, float, str]], rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._points, self._rect = points, rect
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt naming
        return self._rect

    def paint(self, painter: QPainter, *args: object) -> None:
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        painter.setPen(QColor("#444"))
        metrics = painter.fontMetrics()
        for x, y, text in self._points:
            at = transform.map(QPointF(x, y))
            # on a light patch: a number stays legible on the darkest tile
            painter.fillRect(QRectF(at.x(), at.y(), metrics.horizontalAdvance(text) + 2,
                                    metrics.height()), LABEL_BACKING)
            painter.drawText(QPointF(at.x() + 1, at.y() + metrics.ascent()), text)
        painter.restore()


class _HoverImage(pg.ImageItem):
    def __init__(self, view: GridView) -> None:
        super().__init__(axisOrder="row-major")  # whatever the global pyqtgraph options say
        self._view = view

    def hoverEvent(self, ev) -> None:  # noqa: N802 - Qt naming
        grid, describe = self._view.grid, self._view.describe
        if ev.isExit() or grid is None or describe is None:
            self.setToolTip("")
            return
        index = grid.tile_at(ev.pos().x(), ev.pos().y())
        self.setToolTip("" if index is None else describe(index))


class GridView(pg.GraphicsLayoutWidget):
    """Shows a rendered grid; ``describe(index)`` gives the hover text of a tile."""

    def __init__(self, parent: QWidget | None = None, object_name: str = "") -> None:
        super().__init__(parent)
        if object_name:
            self.setObjectName(object_name)
        self.setBackground("w")
        self.title = self.addLabel("", row=0, col=0, color="#333")
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True)
        self.image = _HoverImage(self)
        self.view.addItem(self.image)
        self.labels = _TileLabels()
        self.view.addItem(self.labels, ignoreBounds=True)
        self.grid: Grid | None = None
        self.describe: Callable[[int], str] | None = None

    def aspect(self) -> float:
        """Width / height of the drawing area, for choosing a grid that fills it."""
        return max(self.width(), 1) / max(self.height() - 30, 1)

    def set_grid(self, grid: Grid, title: str = "", labels: bool = True,
                 describe: Callable[[int], str] | None = None) -> None:
        same_layout = self.grid is not None and (self.grid.rgba.shape == grid.rgba.shape
                                                 and self.grid.count == grid.count)
        self.grid, self.describe = grid, describe
        self.image.setImage(grid.rgba, autoLevels=False, levels=(0, 255))
        self.title.setText(title)
        if not same_layout:
            self._place_labels(labels)
            self.view.autoRange(padding=0.02)

    def clear_grid(self, title: str = "") -> None:
        """No grid; ``title`` may say why."""
        self.grid, self.describe = None, None
        self.image.clear()
        self.labels.set_labels([], QRectF())
        self.title.setText(title)

    def _place_labels(self, enabled: bool) -> None:
        grid = self.grid
        if grid is None or not enabled:
            self.labels.set_labels([], QRectF())
            return
        step = 1 if grid.count <= MAX_TILE_LABELS else grid.cols
        points = [(*map(float, grid.tile_origin(i)), str(i)) for i in range(0, grid.count, step)]
        h, w = grid.rgba.shape[:2]
        self.labels.set_labels(points, QRectF(0, 0, w, h))
