"""A zoomable view of one :class:`~cnn_core.export.render.Grid` with labels, hover text,
clickable tiles and marks over chosen tiles."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from cnn_core.export.render import Grid

MAX_TILE_LABELS = 64  # past this, only the first tile of each row is numbered
LABEL_BACKING = QColor(255, 255, 255, 170)
MARK_SHADE = QColor(0, 0, 0, 110)  # a marked tile stays visible, darkened
MARK_INK = QColor("#e53935")


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


class _TileMarks(pg.GraphicsObject):
    """A dark shade, a red frame and a red cross over each marked tile, all in one
    ``paint`` call for the same reason as :class:`_TileLabels`."""

    def __init__(self) -> None:
        super().__init__()
        self._tiles: list[QRectF] = []
        self._rect = QRectF()

    def set_tiles(self, tiles: list[QRectF], rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._tiles, self._rect = tiles, rect
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt naming
        return self._rect

    def paint(self, painter: QPainter, *args: object) -> None:
        pen = QPen(MARK_INK, 2)
        pen.setCosmetic(True)  # two screen pixels, however far the view is zoomed
        painter.setPen(pen)
        for tile in self._tiles:
            painter.fillRect(tile, MARK_SHADE)
            painter.drawRect(tile)
            painter.drawLine(tile.topLeft(), tile.bottomRight())
            painter.drawLine(tile.topRight(), tile.bottomLeft())


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

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - Qt naming
        grid = self._view.grid
        if ev.button() != Qt.MouseButton.LeftButton or grid is None:
            super().mouseClickEvent(ev)
            return
        index = grid.tile_at(ev.pos().x(), ev.pos().y())
        if index is not None:
            ev.accept()
            self._view.tileClicked.emit(index)


class GridView(pg.GraphicsLayoutWidget):
    """Shows a rendered grid; ``describe(index)`` gives the hover text of a tile.

    ``tileClicked(index)``: a tile was clicked with the left button (a gap: nothing).
    """

    tileClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, object_name: str = "") -> None:
        super().__init__(parent)
        if object_name:
            self.setObjectName(object_name)
        self.setBackground("w")
        self.title = self.addLabel("", row=0, col=0, color="#333")
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True)
        self.image = _HoverImage(self)
        self.view.addItem(self.image)
        self.marks = _TileMarks()  # above the tiles, under their numbers
        self.view.addItem(self.marks, ignoreBounds=True)
        self.marked: tuple[int, ...] = ()
        self.labels = _TileLabels()
        self.view.addItem(self.labels, ignoreBounds=True)
        self.grid: Grid | None = None
        self.describe: Callable[[int], str] | None = None
        self._texts: Sequence[str] | None = None

    def aspect(self) -> float:
        """Width / height of the drawing area, for choosing a grid that fills it."""
        return max(self.width(), 1) / max(self.height() - 30, 1)

    def set_grid(self, grid: Grid, title: str = "", labels: bool = True,
                 describe: Callable[[int], str] | None = None,
                 texts: Sequence[str] | None = None) -> None:
        """``texts``: each tile's label in place of its number."""
        same_layout = self.grid is not None and (self.grid.rgba.shape == grid.rgba.shape
                                                 and self.grid.count == grid.count)
        self.grid, self.describe = grid, describe
        self.image.setImage(grid.rgba, autoLevels=False, levels=(0, 255))
        self.title.setText(title)
        if not same_layout or texts is not None or self._texts is not None:
            self._texts = texts
            self._place_labels(labels)
            self.set_marked(())  # the marked tiles belonged to another layout
            self.view.autoRange(padding=0.02)

    def clear_grid(self, title: str = "") -> None:
        """No grid; ``title`` may say why."""
        self.grid, self.describe = None, None
        self.image.clear()
        self.labels.set_labels([], QRectF())
        self.set_marked(())
        self.title.setText(title)

    def set_marked(self, indices: Iterable[int]) -> None:
        """Mark these tiles (say, switched off); kept while the grid's layout stays."""
        grid = self.grid
        if grid is None:
            self.marked = ()
            self.marks.set_tiles([], QRectF())
            return
        self.marked = tuple(sorted({int(i) for i in indices if 0 <= int(i) < grid.count}))
        h, w = grid.rgba.shape[:2]
        self.marks.set_tiles([QRectF(*map(float, grid.tile_origin(i)), grid.tile_w, grid.tile_h)
                              for i in self.marked], QRectF(0, 0, w, h))

    @property
    def tile_texts(self) -> list[str]:
        """What each tile is labelled with: its number, or the text given."""
        count = self.grid.count if self.grid is not None else 0
        return list(self._texts) if self._texts is not None else [str(i) for i in range(count)]

    def tile_centre(self, index: int) -> QPoint:
        """Where tile ``index`` is on screen, in the viewport's coordinates (tests click
        there, as a person would)."""
        x, y = self.grid.tile_origin(index)
        at = self.image.mapToScene(QPointF(x + self.grid.tile_w / 2, y + self.grid.tile_h / 2))
        return self.mapFromScene(at)

    def _place_labels(self, enabled: bool) -> None:
        grid = self.grid
        if grid is None or not enabled:
            self.labels.set_labels([], QRectF())
            return
        step = 1 if grid.count <= MAX_TILE_LABELS else grid.cols
        texts = self._texts or [str(i) for i in range(grid.count)]
        points = [(*map(float, grid.tile_origin(i)), texts[i]) for i in range(0, grid.count, step)]
        h, w = grid.rgba.shape[:2]
        self.labels.set_labels(points, QRectF(0, 0, w, h))
