"""A grid of small pictures with their class under each: a glance at a dataset."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

TILE = 40
CAPTION = 12
ICON = 56  # a listed image (errors, the hardest images)


def to_qimage(picture: np.ndarray) -> QImage:
    """(H, W, 1 or 3) uint8 -> a QImage that owns its pixels."""
    picture = np.ascontiguousarray(picture)
    h, w, c = picture.shape
    fmt = QImage.Format.Format_RGB888 if c == 3 else QImage.Format.Format_Grayscale8
    return QImage(picture.data, w, h, picture.strides[0], fmt).copy()


def thumbnail(picture: np.ndarray, size: int = ICON) -> QIcon:
    """(H, W, C) uint8 -> an icon, scaled up without blurring."""
    return QIcon(QPixmap.fromImage(to_qimage(picture)).scaled(size, size))


class ThumbnailGrid(QLabel):
    """Pictures in rows of ``columns``, each captioned; empty, it shows a hint instead."""

    def __init__(self, hint: str, columns: int = 6, parent: QWidget | None = None) -> None:
        super().__init__(hint, parent)
        self.hint, self.columns = hint, columns
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.count = 0

    def clear_pictures(self, hint: str | None = None) -> None:
        self.count = 0
        self.setPixmap(QPixmap())
        self.setText(hint or self.hint)

    def set_pictures(self, pictures: np.ndarray, captions: Sequence[str]) -> None:
        """``pictures`` (N, H, W, C) uint8."""
        self.count = len(pictures)
        if not self.count:
            self.clear_pictures()
            return
        rows = (self.count + self.columns - 1) // self.columns
        ratio = self.devicePixelRatioF()
        canvas = QPixmap(int(self.columns * (TILE + 4) * ratio),
                         int(rows * (TILE + CAPTION + 4) * ratio))
        canvas.setDevicePixelRatio(ratio)
        canvas.fill(QColor(0, 0, 0, 0))
        painter = QPainter(canvas)
        painter.setFont(QFont(self.font().family(), 7))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for i, (picture, caption) in enumerate(zip(pictures, captions)):
            x = (i % self.columns) * (TILE + 4)
            y = (i // self.columns) * (TILE + CAPTION + 4)
            painter.drawImage(QRect(x, y, TILE, TILE), to_qimage(picture))
            painter.drawText(QRect(x - 2, y + TILE, TILE + 4, CAPTION),
                             Qt.AlignmentFlag.AlignCenter,
                             painter.fontMetrics().elidedText(caption, Qt.TextElideMode.ElideRight,
                                                              TILE + 4))
        painter.end()
        self.setPixmap(canvas)
