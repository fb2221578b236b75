"""Small pieces the panels share, so that they look alike."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGraphicsItem, QLabel, QWidget


def set_text(item: pg.LabelItem | pg.PlotItem, text: str) -> None:
    """Retitle only on a change: every new title makes the whole plot layout relayout."""
    if getattr(item, "_shown_text", None) != text:
        item._shown_text = text
        (item.setTitle if isinstance(item, pg.PlotItem) else item.setText)(text)


def white_box() -> QWidget:
    """A container as white as the plots in it, so labels and plots read as one picture."""
    box = QWidget()
    box.setAutoFillBackground(True)
    palette = box.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("white"))
    box.setPalette(palette)
    return box


def empty_note(object_name: str) -> QLabel:
    """A sentence shown instead of a view that has nothing to show, saying why."""
    note = QLabel(objectName=object_name, wordWrap=True,
                  alignment=Qt.AlignmentFlag.AlignCenter)
    note.setStyleSheet("color: #555; font-size: 14px; padding: 24px;")
    return note


def cache_as_pixmap(item: QGraphicsItem) -> None:
    """Keep ``item`` and its children as cached pixmaps: a plot item that changes at most
    once an epoch then costs a repaint nothing (each Python ``paint`` must win the GIL
    back from training)."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    for child in item.childItems():
        cache_as_pixmap(child)
