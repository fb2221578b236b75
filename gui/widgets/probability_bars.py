"""Class probabilities as a small horizontal bar chart, drawn the same in every panel.

Horizontal bars keep every class name readable at any width, and the headline and the
rows are laid out from the font's own metrics, so nothing is clipped in a narrow column.
One ``paintEvent`` draws it all: cheap while training holds the GIL.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

PREDICTED = QColor("#43a047")
EXPLAINED = QColor("#fb8c00")
OTHER = QColor("#90a4ae")
TRACK = QColor("#eceff1")
INK = QColor("#333333")
MARGIN = 4
GAP = 6  # between the name, the bar and the percentage
MIN_BAR = 40  # narrowest bar track worth drawing
MAX_NAME_SHARE = 0.5  # class names get at most this share of the width; longer ones elide
MIN_ROWS = 4  # squeezed this far, it shows the three likeliest classes and counts the rest
ROW_SPACING = 2  # between rows it asks room for; more when there is room
MAX_ROW_SPACING = 6
HEAD_GAP = 2  # between the headline and the first row
WRAP = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop


class ProbabilityBars(QWidget):
    """One row per class (name, bar, percentage) under a headline naming the prediction
    (wrapped onto a second line when the widget is narrow).

    The predicted class is green, a class being explained (``target``) orange. It asks
    room for every class; squeezed below that, it shows the likeliest and counts the rest.
    """

    def __init__(self, parent: QWidget | None = None, object_name: str = "",
                 placeholder: str = "") -> None:
        super().__init__(parent)
        if object_name:
            self.setObjectName(object_name)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._placeholder = placeholder
        self._probabilities: np.ndarray | None = None
        self._names: tuple[str, ...] = ()
        self._target: int | None = None
        self._bold = QFont(self.font())
        self._bold.setBold(True)

    # -- data ----------------------------------------------------------------------------

    @property
    def probabilities(self) -> np.ndarray | None:
        return self._probabilities

    def set_probabilities(self, probabilities: np.ndarray, class_names: Sequence[str],
                          target: int | None = None) -> None:
        """Show ``probabilities`` (one per class); ``target``: a class being explained."""
        names = tuple(class_names) or tuple(map(str, range(len(probabilities))))
        before = (len(self._names), self._headline_height(self.width()))
        self._probabilities = np.asarray(probabilities, dtype=np.float32)
        self._names, self._target = names, target
        if (len(names), self._headline_height(self.width())) != before:
            self.updateGeometry()  # asks for other room: a relayout, only then
        self.update()

    def clear(self) -> None:
        self._probabilities, self._target = None, None
        self.update()

    def headline(self) -> str:
        """What the top line says: the prediction, or the placeholder."""
        p = self._probabilities
        if p is None or not len(p):
            return self._placeholder
        best = int(np.argmax(p))
        return f"prediction: {self._names[best]} ({p[best]:.0%})"

    # -- geometry ------------------------------------------------------------------------

    def _name_width(self, metrics: QFontMetrics) -> int:
        return max((metrics.horizontalAdvance(n) for n in self._names), default=0)

    def _headline_height(self, width: int) -> int:
        """The headline wraps onto a second line, no more, when it is too wide."""
        bold = QFontMetrics(self._bold)
        needed = bold.boundingRect(QRect(0, 0, max(width - 2 * MARGIN, 1), 10_000), WRAP,
                                   self.headline()).height()
        return max(1, min(2, round(needed / bold.lineSpacing()))) * bold.lineSpacing()

    def _rows_height(self, rows: int, spacing: int) -> int:
        return rows * (QFontMetrics(self.font()).height() + spacing)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt naming
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt naming
        """Room for the headline at this width and a row for every class."""
        return (2 * MARGIN + self._headline_height(width) + HEAD_GAP
                + self._rows_height(max(len(self._names), 3), ROW_SPACING))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        metrics = QFontMetrics(self.font())
        width = (min(self._name_width(metrics), 12 * metrics.averageCharWidth()) + MIN_BAR
                 + metrics.horizontalAdvance("100%") + 2 * GAP + 2 * MARGIN)
        rows = min(max(len(self._names), 3), MIN_ROWS)
        return QSize(width, 2 * MARGIN + QFontMetrics(self._bold).lineSpacing() + HEAD_GAP
                     + self._rows_height(rows, 0))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        head = QFontMetrics(self._bold).horizontalAdvance(self.headline()) + 2 * MARGIN
        width = max(self.minimumSizeHint().width() + 80, head)
        return QSize(width, self.heightForWidth(width))

    def shown_classes(self) -> list[int]:
        """The classes that have a row at the present size (all, unless squeezed)."""
        return self._layout()[2]

    def _layout(self) -> tuple[float, float, list[int]]:
        """(top of the first row, row height, the classes shown) at the present size."""
        p = self._probabilities
        top = MARGIN + self._headline_height(self.width()) + HEAD_GAP
        if p is None or not len(p):
            return top, 0.0, []
        line = QFontMetrics(self.font()).height()
        room = self.height() - MARGIN - top
        row_h = min(line + MAX_ROW_SPACING, max(line, room / len(p)))
        fits = max(1, int(room / row_h + 1e-6))  # room / len(p) rows: all of them fit
        if fits >= len(p):
            return top, row_h, list(range(len(p)))
        # the most probable, in class order, and a last row that counts the rest
        return top, row_h, sorted(np.argsort(-p, kind="stable")[:fits - 1].tolist())

    # -- drawing -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        area = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        painter.setFont(self._bold)
        painter.setPen(INK)
        painter.drawText(QRectF(area.left(), area.top(), area.width(),
                                self._headline_height(self.width())), WRAP, self.headline())
        p = self._probabilities
        if p is None or not len(p):
            return
        top, row_h, shown = self._layout()
        painter.setFont(self.font())
        metrics = QFontMetrics(self.font())
        name_w = min(self._name_width(metrics), int(MAX_NAME_SHARE * area.width()))
        pct_w = metrics.horizontalAdvance("100%")
        bar_left = area.left() + name_w + GAP
        bar_w = max(1.0, area.right() - pct_w - GAP - bar_left)
        best = int(np.argmax(p))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, k in enumerate(shown):
            y = top + row * row_h
            painter.drawText(QRectF(area.left(), y, name_w, row_h), right,
                             metrics.elidedText(self._names[k], Qt.TextElideMode.ElideRight,
                                                name_w))
            track = QRectF(bar_left, y + 2, bar_w, row_h - 4)
            painter.fillRect(track, TRACK)
            colour = PREDICTED if k == best else EXPLAINED if k == self._target else OTHER
            painter.fillRect(QRectF(track.left(), track.top(),
                                    bar_w * float(np.clip(p[k], 0, 1)), track.height()), colour)
            painter.drawText(QRectF(bar_left + bar_w + GAP, y, pct_w, row_h), right,
                             f"{p[k]:.0%}")
        if len(shown) < len(p):
            painter.drawText(QRectF(area.left(), top + len(shown) * row_h, area.width(), row_h),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"… {len(p) - len(shown)} more classes")
