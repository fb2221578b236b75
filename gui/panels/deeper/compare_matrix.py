"""A confusion matrix of counts for comparing two runs: whole numbers in the cells (a blank
cell is zero), the class numbers along the top and the left, and a sentence per cell as
its tooltip. Its colours come from the caller: a run's own counts, or the change between
two runs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from ...widgets.matrix_view import MatrixView

MIN_FONT, MAX_FONT = 8, 14  # pixel sizes of the numbers; below the first, colour only
TICK_FONT = 9  # pixels: the class numbers around the matrix
GREEN, RED = (0.26, 0.63, 0.28), (0.9, 0.22, 0.21)  # the single-run matrix's colours


def blend(rgb: tuple[float, float, float], alpha: np.ndarray) -> np.ndarray:
    """``rgb`` at opacity ``alpha`` (any shape) over white, as uint8 (..., 3)."""
    colour = np.asarray(rgb) * 255.0
    out = 255.0 + alpha[..., None] * (colour - 255.0)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def count_colours(matrix: np.ndarray) -> np.ndarray:
    """A run's confusion matrix coloured as the Errors tab does: the diagonal green by the
    share of its row right, a mistake red by its share of the row."""
    m = np.asarray(matrix, np.float64)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    diagonal = np.eye(len(m), dtype=bool)
    right = blend(GREEN, 0.15 + 0.7 * share)
    wrong = blend(RED, np.where(m > 0, np.minimum(1.0, 4 * share), 0.0))
    return np.where(diagonal[..., None], right, wrong)


def change_colours(change: np.ndarray) -> np.ndarray:
    """B − A coloured by whether B does better there: green for more images right (on the
    diagonal) or fewer mistakes (off it), red for the opposite, white for no change."""
    d = np.asarray(change, np.float64)
    better = np.where(np.eye(len(d), dtype=bool), d > 0, d < 0)
    strength = np.abs(d) / max(float(np.abs(d).max()), 1.0)
    alpha = np.where(d != 0, 0.2 + 0.7 * strength, 0.0)
    return np.where(better[..., None], blend(GREEN, alpha), blend(RED, alpha))


def count_text(value: float, signed: bool) -> str:
    """A cell's number: blank for zero, whole, with its sign (a true minus) when signed."""
    if value == 0:
        return ""
    text = f"{int(value):+d}" if signed else f"{int(value)}"
    return text.replace("-", "\u2212")


class CountMatrix(MatrixView):
    """A MatrixView of whole numbers, each cell described by ``describe_cell(row, col)``."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(object_name, parent=parent)
        self.signed = False
        self._rgb = np.zeros((0, 0, 3), np.uint8)  # the cells' colours, for the text's
        self.describe_cell: Callable[[int, int], str] = lambda r, c: ""

    def set_counts(self, counts: np.ndarray, rgb: np.ndarray, signed: bool,
                   describe_cell: Callable[[int, int], str]) -> None:
        """``counts`` (k, k) whole numbers; ``rgb`` their colours; ``signed``: write '+'."""
        self.signed, self.describe_cell, self._rgb = signed, describe_cell, rgb
        self.set_values(counts, rgb, numbers=False)  # whole numbers: written below

    def texts(self) -> list[list[str]]:
        """Every cell's number as written (blank for zero), row by row."""
        if self.values is None:
            return []
        return [[count_text(v, self.signed) for v in row] for row in self.values]

    def side(self) -> float:
        """The side of a cell on screen, in pixels."""
        if self.values is None or self.values.shape[1] < 2:
            return float(min(self.width(), self.height()))
        return self.cell_centre(0, 1).x() - self.cell_centre(0, 0).x()

    def _number_font(self, side: float) -> QFont | None:
        font = QFont(self.font())
        font.setPixelSize(int(min(MAX_FONT, side * 0.45)))
        if font.pixelSize() < MIN_FONT:
            return None
        metrics = QFontMetrics(font)
        widest = max((metrics.horizontalAdvance(t) for row in self.texts() for t in row),
                     default=0)
        return font if widest <= side - 2 else None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        super().paintEvent(event)
        if self.values is None:
            return
        side = self.side()
        font = self._number_font(side)
        if font is None:
            return
        painter = QPainter(self)
        painter.setFont(font)
        for r, row in enumerate(self.texts()):
            for c, text in enumerate(row):
                if not text:
                    continue
                red, green, blue = (int(v) for v in self._rgb[r, c])
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 128
                painter.setPen(QColor("white" if dark else "#111"))
                centre = self.cell_centre(r, c)
                painter.drawText(QRectF(centre.x() - side / 2, centre.y() - side / 2, side, side),
                                 Qt.AlignmentFlag.AlignCenter, text)
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.values is not None:
            cell = self.cell_at(event.pos().x(), event.pos().y())
            text = self.describe_cell(*cell) if cell is not None else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


class LabelledMatrix(QWidget):
    """A title over a CountMatrix, with the class numbers painted along its top and left
    (every class where they fit, every n-th where they would crowd)."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        # a long run name is elided, never a reason for the window to grow
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.matrix = CountMatrix(object_name)
        self._tick_font = QFont(self.font())
        self._tick_font.setPixelSize(TICK_FONT)
        metrics = QFontMetrics(self._tick_font)
        self._gap = metrics.height() + 2
        self._full_title = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        body = QVBoxLayout()
        body.setContentsMargins(metrics.horizontalAdvance("000") + 4, self._gap, 0, 0)
        body.addWidget(self.matrix, 1)
        layout.addLayout(body, 1)

    def set_title(self, text: str, tooltip: str = "") -> None:
        self._full_title = text
        self.title.setToolTip(tooltip or text)
        self._elide_title()

    def _elide_title(self) -> None:
        metrics = self.title.fontMetrics()
        self.title.setText(metrics.elidedText(self._full_title, Qt.TextElideMode.ElideMiddle,
                                              max(self.width() - 4, 20)))

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._elide_title()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        values = self.matrix.values
        if values is None:
            return
        k = values.shape[0]
        side = self.matrix.side()
        metrics = QFontMetrics(self._tick_font)
        room = max(metrics.horizontalAdvance(str(k - 1)) + 4, metrics.height())
        step = 1
        while step < k and step * side < room:
            step += 1
        painter = QPainter(self)
        painter.setFont(self._tick_font)
        painter.setPen(QColor("#555"))
        origin = QPointF(self.matrix.geometry().topLeft())
        tall = max(side, metrics.height())  # a row's number is never cut to a thin row
        for i in range(0, k, step):
            top = origin + self.matrix.cell_centre(0, i)
            left = origin + self.matrix.cell_centre(i, 0)
            painter.drawText(QRectF(top.x() - side / 2 - 8, top.y() - side / 2 - self._gap,
                                    side + 16, self._gap),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, str(i))
            painter.drawText(QRectF(left.x() - side / 2 - 40, left.y() - tall / 2, 38, tall),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(i))
        painter.end()
