"""One clear line in place of each tab that needs the run's pictures, while a run is shown
without them (its folder moved or gone): the panel is taken out of its tab, so it is never
shown, and draws and computes nothing, until a run with its pictures starts."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget, QWidget


def missing_pictures_text(why: str) -> str:
    return f"This run's pictures are not here ({why}): use Locate the folder… above."


class PicturesGate:
    """Swaps each of ``panels`` in ``tabs`` for a note, and back."""

    def __init__(self, tabs: QTabWidget, panels: Sequence[QWidget]) -> None:
        self._tabs = tabs
        self._notes: dict[QWidget, QLabel] = {}
        for panel in panels:
            note = QLabel(objectName="picturesMissingNote", wordWrap=True)
            note.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._notes[panel] = note

    def set_missing(self, why: str) -> None:
        """``why``: why the pictures are not here; empty: they are, show the panels."""
        for panel, note in self._notes.items():
            note.setText(missing_pictures_text(why) if why else "")
            shown, hidden = (note, panel) if why else (panel, note)
            index = self._tabs.indexOf(hidden)
            if index >= 0:
                self._swap(index, shown)

    def _swap(self, index: int, page: QWidget) -> None:
        tabs = self._tabs
        current = tabs.currentIndex() == index
        title, tip = tabs.tabText(index), tabs.tabToolTip(index)
        blocked = tabs.blockSignals(True)  # the tab shown stays the same tab
        tabs.removeTab(index)
        tabs.insertTab(index, page, title)
        tabs.setTabToolTip(index, tip)
        if current:
            tabs.setCurrentIndex(index)
        tabs.blockSignals(blocked)
