"""Redraw a view now if it is on the screen, else the next time it is shown: a hidden tab
follows the run at no cost, and is current whenever a person looks."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


def on_screen(widget: QWidget) -> bool:
    """Shown and not wholly covered. A dock behind another dock's tab is visible to Qt
    (``isVisible``) with nothing of it on the screen."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class WhenShown(QObject):
    """``due()`` runs ``refresh`` at once while ``widget`` is on the screen; otherwise once,
    when it is next shown or uncovered (a dock's tab raised, which paints it)."""

    def __init__(self, widget: QWidget, refresh: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget, self._refresh = widget, refresh
        self._pending = False
        self._after_paint = QTimer(self, singleShot=True, interval=0)  # not inside a paint
        self._after_paint.timeout.connect(self._run_if_pending)
        widget.installEventFilter(self)

    def due(self) -> None:
        self._pending = True
        if on_screen(self._widget):
            self._run()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if self._pending:
            if event.type() == QEvent.Type.Show:
                self._run()
            elif event.type() == QEvent.Type.Paint:
                self._after_paint.start()
        return False

    def _run_if_pending(self) -> None:
        if self._pending:
            self._run()

    def _run(self) -> None:
        self._pending = False
        self._refresh()
