"""The runs panel's actions: how one is made, and which of two runs is A."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from cnn_core.runs.store import RunSummary


def action(owner: QWidget, text: str, tip: str, slot: Callable[[], None],
           shortcut: QKeySequence | None = None) -> QAction:
    """An action of ``owner``'s; one with a shortcut works while focus is inside it."""
    act = QAction(text, owner, toolTip=tip)
    act.triggered.connect(slot)
    if shortcut is not None:
        act.setShortcut(shortcut)
        act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        owner.addAction(act)
    return act


def older_first(runs: Sequence[RunSummary]) -> tuple[RunSummary, RunSummary]:
    """Runs A and B of a comparison: the one made first is A, the one that changed a
    setting since is B."""
    a, b = sorted(runs, key=lambda r: (r.created, r.path.name))
    return a, b


def confirm_delete(parent: QWidget, runs: Sequence[RunSummary]) -> bool:
    """Ask before deleting ``runs`` (it cannot be undone); No is the default."""
    what = (f"the run “{runs[0].name}”" if len(runs) == 1
            else f"{len(runs)} runs ({', '.join(r.name for r in runs)})")
    answer = QMessageBox.question(
        parent, "Delete runs", f"Delete {what} with all its checkpoints and logs?\n"
        "This cannot be undone.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
