"""A small matrix drawn cell by cell: a colour per cell and, where the cells are big enough
to read them, the numbers themselves. A rectangle of cells can be outlined, and a
pickable view reports the cell clicked or reached with the arrow keys."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetrics, QImage, QKeyEvent,
                           QMouseEvent, QPainter, QPaintEvent, QPen)
from PySide6.QtWidgets import QToolTip, QWidget

from cnn_core.export.render import DIVERGING, to_unit

MAX_CELL = 64  # pixels: a 1x1 kernel stays a cell, not a poster
MIN_FONT, MAX_FONT = 9, 16  # pixel sizes; below the first, numbers give way to colour
OUTLINE = QColor("#ff3d00")
MUTED = QColor(120, 120, 120)
Rect = tuple[int, int, int, int]  # top, left, bottom, right: cells, inclusive


def decimals(values: np.ndarray) -> int:
    """Decimals that show a matrix's values below 10 to two figures at least (products of
    small weights are often a few thousandths), the same for every cell."""
    peak = float(np.abs(values).max()) if values.size else 0.0
    return 2 if peak >= 0.095 or peak == 0 else 3 if peak >= 0.0095 else 4


def number(value: float, places: int = 2, compact: bool = False) -> str:
    """``value`` with ``places`` decimals below 10, one below 100, none above: 0.53,
    -2.41, 12.3, 140. ``compact``: without the leading zero (.53, -.41) and a figure less
    from 1 on (2.4, 12)."""
    magnitude = abs(value)
    if compact:
        text = (f"{value:.{places}f}".replace("0.", ".", 1) if magnitude < 0.995 else
                f"{value:.1f}" if magnitude < 9.95 else f"{value:.0f}")
    else:
        text = (f"{value:.{places}f}" if magnitude < 9.995 else
                f"{value:.1f}" if magnitude < 99.95 else f"{value:.0f}")
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def colours(values: np.ndarray, table: np.ndarray = DIVERGING,
            signed: bool = True) -> np.ndarray:
    """(h, w) values -> (h, w, 3) uint8 through ``table``: symmetric about zero when
    ``signed`` (white is zero), else from the smallest to the largest value."""
    unit = to_unit(values[None].astype(np.float32), per_tile=False, signed=signed)[0]
    return table[np.clip(np.rint(unit * 255), 0, 255).astype(np.uint8), :3]


class MatrixView(QWidget):
    """``picked(row, col)``: a cell was clicked, or the arrow keys moved the outline."""

    picked = Signal(int, int)

    def __init__(self, object_name: str = "", pickable: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if object_name:
            self.setObjectName(object_name)
        self.pickable = pickable
        self.setMinimumSize(36, 36)
        if pickable:
            self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.setCursor(Qt.CursorShape.CrossCursor)
        self.values: np.ndarray | None = None  # (h, w), for the numbers and the tooltips
        self._image = QImage()
        self._muted: np.ndarray | None = None
        self.outline: Rect | None = None
        self.show_numbers = True
        self.describe = "value"  # what a cell's tooltip calls its number

    # -- content -------------------------------------------------------------------------

    def set_values(self, values: np.ndarray, rgb: np.ndarray | None = None,
                   muted: np.ndarray | None = None, numbers: bool = True) -> None:
        """``values`` (h, w); ``rgb`` (h, w, 3) uint8 colours (default: diverging);
        ``muted`` (h, w) bool cells drawn hatched (padding); ``numbers``: print them where
        they fit."""
        self.values = np.asarray(values, np.float32)
        rgb = colours(self.values) if rgb is None else rgb
        pixels = np.ascontiguousarray(rgb, np.uint8)
        h, w = pixels.shape[:2]
        self._image = QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self._muted, self.show_numbers = muted, numbers
        self.update()

    def set_outline(self, rect: Rect | None) -> None:
        self.outline = rect
        self.update()

    def clear(self) -> None:
        self.values, self._image, self.outline = None, QImage(), None
        self.update()

    # -- geometry ------------------------------------------------------------------------

    def _cell(self) -> tuple[float, QPointF]:
        """Side of one cell and the top-left corner of the matrix, centred in the widget."""
        if self.values is None:
            return 0.0, QPointF()
        h, w = self.values.shape
        side = min(self.width() / w, self.height() / h, MAX_CELL)
        return side, QPointF((self.width() - side * w) / 2, (self.height() - side * h) / 2)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        side, origin = self._cell()
        if side <= 0:
            return None
        row, col = int((y - origin.y()) // side), int((x - origin.x()) // side)
        h, w = self.values.shape
        return (row, col) if 0 <= row < h and 0 <= col < w else None

    def cell_centre(self, row: int, col: int) -> QPointF:
        """Where cell (row, col) is on screen (tests click there, as a person would)."""
        side, origin = self._cell()
        return origin + QPointF((col + 0.5) * side, (row + 0.5) * side)

    def _font(self, side: float) -> tuple[QFont, bool] | None:
        """A font in which every number fits its cell, and whether they must be written
        compactly for that; None when no number would be legible."""
        if not self.show_numbers or self.values is None:
            return None
        font = QFont(self.font())
        font.setPixelSize(int(min(MAX_FONT, side * 0.36)))
        if font.pixelSize() < MIN_FONT:
            return None
        metrics = QFontMetrics(font)
        places = decimals(self.values)
        for compact in (False, True):
            widest = max(metrics.horizontalAdvance(number(float(v), places, compact))
                         for v in self.values.flat)
            if widest <= side - 3:
                return font, compact
        return None

    # -- painting and input --------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        side, origin = self._cell()
        if side <= 0:
            return
        painter = QPainter(self)
        h, w = self.values.shape
        area = QRectF(origin.x(), origin.y(), side * w, side * h)
        painter.drawImage(area, self._image)  # no smoothing: a cell is a cell
        cells = [(r, c) for r in range(h) for c in range(w)]
        if self._muted is not None:
            painter.setBrush(QBrush(MUTED, Qt.BrushStyle.BDiagPattern))
            painter.setPen(Qt.PenStyle.NoPen)
            for r, c in cells:
                if self._muted[r, c]:
                    painter.drawRect(QRectF(origin.x() + c * side, origin.y() + r * side,
                                            side, side))
        if side >= 12:  # thin white lines between cells that are big enough to count
            painter.setPen(QPen(QColor("white"), 1))
            for i in range(1, w):
                painter.drawLine(QPointF(area.left() + i * side, area.top()),
                                 QPointF(area.left() + i * side, area.bottom()))
            for i in range(1, h):
                painter.drawLine(QPointF(area.left(), area.top() + i * side),
                                 QPointF(area.right(), area.top() + i * side))
        fitting = self._font(side)
        if fitting is not None:
            font, compact = fitting
            places = decimals(self.values)
            painter.setFont(font)
            for r, c in cells:
                colour = self._image.pixelColor(c, r)
                dark = 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue() < 128
                muted = self._muted is not None and self._muted[r, c]
                painter.setPen(MUTED if muted else QColor("white" if dark else "#111"))
                painter.drawText(QRectF(origin.x() + c * side, origin.y() + r * side, side, side),
                                 Qt.AlignmentFlag.AlignCenter,
                                 number(float(self.values[r, c]), places, compact))
        if self.outline is not None:
            top, left, bottom, right = self.outline
            box = QRectF(origin.x() + left * side, origin.y() + top * side,
                         (right - left + 1) * side, (bottom - top + 1) * side)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor("white"), 4))
            painter.drawRect(box)
            painter.setPen(QPen(OUTLINE, 2))
            painter.drawRect(box)
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.values is not None:
            cell = self.cell_at(event.pos().x(), event.pos().y())
            if cell is None:
                QToolTip.hideText()
            else:
                r, c = cell
                padding = self._muted is not None and self._muted[r, c]
                QToolTip.showText(event.globalPos(),
                                  f"row {r}, col {c}: {self.describe} {self.values[r, c]:+.4f}"
                                  + (" (padding)" if padding else ""), self)
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt naming
        cell = self.cell_at(event.position().x(), event.position().y())
        if self.pickable and cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.setFocus()
            self.picked.emit(*cell)
        else:
            super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt naming
        step = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0),
                Qt.Key.Key_Down: (1, 0)}.get(Qt.Key(event.key()))
        if not self.pickable or step is None or self.values is None or self.outline is None:
            super().keyPressEvent(event)
            return
        h, w = self.values.shape
        row = min(max(self.outline[0] + step[0], 0), h - 1)
        col = min(max(self.outline[1] + step[1], 0), w - 1)
        self.picked.emit(row, col)
