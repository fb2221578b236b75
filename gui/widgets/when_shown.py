"""Redraw a view now if it is on the screen, else the next time it is shown: a hidden tab
follows the run at no cost, and is current whenever a person looks."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class WhenShown(QObject):
    """``due()`` runs ``refresh`` at once while ``widget`` is visible; otherwise once, when
    it is next shown."""

    def __init__(self, widget: QWidget, refresh: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget, self._refresh = widget, refresh
        self._pending = False
        widget.installEventFilter(self)

    def due(self) -> None:
        self._pending = True
        if self._widget.isVisible():
            self._run()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QEvent.Type.Show and self._pending:
            self._run()
        return False

    def _run(self) -> None:
        self._pending = False
        self._refresh()
