"""The runs list and its rows: what each column shows and how it sorts."""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QDate, QDateTime, QLocale, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem

from cnn_core.runs.store import RunSummary
from cnn_core.train.callbacks import RunStatus

COLUMNS = ("Name", "Best acc.", "Epochs", "Architecture", "Dataset", "Date", "Status")
NAME, BEST, EPOCHS, ARCH, DATASET, DATE, STATUS = range(len(COLUMNS))
KEY_ROLE = Qt.ItemDataRole.UserRole  # the run folder, as a string
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # what a column sorts by
STATUS_COLOURS = {"completed": "#2e7d32", "stopped early": "#558b2f", "stopped": "#ef6c00",
                  "pruned": "#8d6e63",
                  "failed": "#c62828",
                  "training": "#1565c0", "running elsewhere": "#00838f",
                  "interrupted": "#6d4c41", "damaged": "#6a1b9a"}
# What a status means, where the word alone does not say enough (the Status cell's tooltip).
STATUS_TIPS = {
    "running elsewhere": "Another process (e.g. <code>python -m cnn_core train</code>) is "
                         "writing this run. Open it or branch from it meanwhile; resume, "
                         "rename or delete it once that has finished.",
    "pruned": "A sweep stopped this trial: its objective after an epoch was worse than "
              "the other trials' at that epoch (Optuna's pruner).",
    "interrupted": "The process that wrote this run ended without finishing. Resume "
                   "continues it from its last checkpoint, if it saved one.",
}
DAMAGED_GREY = "#757575"  # the name of a run whose record cannot be read
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter  # numbers
NAME_WIDTH = 240  # pixels at most for the Name column (wider by hand)
EMPTY_TEXT = "No runs yet: press Start, or change the runs folder"


def runs_tree() -> QTreeWidget:
    """The list (``runsList``): newest first, sortable, several rows selectable."""
    tree = QTreeWidget(objectName="runsList")
    tree.setColumnCount(len(COLUMNS))
    tree.setHeaderLabels(COLUMNS)
    tree.headerItem().setToolTip(NAME, "Tick runs to overlay their curves")
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
    tree.setSortingEnabled(True)
    tree.sortByColumn(DATE, Qt.SortOrder.DescendingOrder)
    header = tree.header()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
    tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    return tree


def run_key(path: Path) -> str:
    """One spelling per folder, whatever path the caller used. Each byte of the path is
    one character of the key, so that a folder name that is not UTF-8 keeps a key of its
    own in the rows (a Python string converted to Qt's loses what UTF-16 cannot hold)."""
    return os.fsencode(Path(path).resolve()).decode("latin-1")


def _short_date(iso: str) -> str:
    """``14:05`` today, ``3 May 14:05`` this year, ``3 May 2024`` before (local time)."""
    when = QDateTime.fromString(iso, Qt.DateFormat.ISODate)
    if not when.isValid():
        return iso
    locale, today = QLocale(), QDate.currentDate()
    time = locale.toString(when.time(), QLocale.FormatType.ShortFormat)
    if when.date() == today:
        return time
    if when.date().year() == today.year():
        return f"{locale.toString(when.date(), 'd MMM')} {time}"
    return locale.toString(when.date(), "d MMM yyyy")


class RunItem(QTreeWidgetItem):
    """A row that sorts numbers as numbers and dates as dates."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else NAME
        return self.data(column, SORT_ROLE) < other.data(column, SORT_ROLE)


class PathLabel(QLabel):
    """A folder path that fits any width: its middle gives way."""

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle,
                                             self.width())
        painter.drawText(self.rect(), int(self.alignment()), text)

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())


def shown_status(run: RunSummary, active: bool, elsewhere: bool) -> str:
    """The Status cell: the recorded status, unless the window knows better."""
    if active:
        return "training"
    if elsewhere:  # before "damaged": its writer may be rewriting the record right now
        return "running elsewhere"
    if run.damaged:
        return "damaged"
    if run.status == RunStatus.RUNNING:  # recorded as running, yet nobody is writing it
        return "interrupted"
    return str(run.status.value).replace("_", " ")


def origin(init_from: dict, names: dict[str, str]) -> str:
    """What a fine-tuned run started from: its run's name (``names``: folder -> name), or
    the checkpoint file outside any run."""
    checkpoint = Path(init_from["path"])
    if checkpoint.parent.name != "checkpoints":
        return checkpoint.name
    folder = checkpoint.parent.parent.name
    return names.get(folder, folder)


def fill_row(item: QTreeWidgetItem, run: RunSummary, names: dict[str, str], *,
             active: bool = False, elsewhere: bool = False) -> None:
    """One run's cells, sort keys, tooltips and colours (``names``: folder -> run name;
    ``active``: trained here; ``elsewhere``: another process is writing it)."""
    status = shown_status(run, active, elsewhere)
    best = "—" if run.best_test_acc is None else f"{run.best_test_acc:.2%}"
    name = run.name
    tip = [f"<b>{html.escape(run.name)}</b>", html.escape(str(run.path))]
    if run.parent:
        parent = names.get(run.parent.get("run", ""), run.parent.get("run", "?"))
        branch = f"↳ from {parent} @ epoch {run.parent.get('epoch', '?')}"
        name = f"↳ {run.name}"
        tip.insert(1, html.escape(branch))
    if run.init_from:
        name = f"↳ {run.name}"
        tip.insert(1, html.escape(f"↳ fine-tuned from {origin(run.init_from, names)}"))
    status_tip = STATUS_TIPS.get(status, "") or html.escape(run.note)
    if run.damaged:
        status_tip = (f"This run's record cannot be read: {html.escape(run.problem)}<br>"
                      "Its checkpoints can still be opened or branched from.")
    if status_tip:
        tip.append(status_tip)
    cells = {NAME: (name, run.name.casefold()),
             BEST: (best, -1.0 if run.best_test_acc is None else run.best_test_acc),
             EPOCHS: (f"{run.epochs_done}/{run.epochs}", run.epochs_done),
             ARCH: (run.arch, run.arch), DATASET: (Path(run.dataset).name, run.dataset),
             DATE: (_short_date(run.created), run.created or run.path.name),
             STATUS: (status, status)}
    for column, (text, sort_key) in cells.items():
        item.setText(column, text)
        item.setData(column, SORT_ROLE, sort_key)
        font = item.font(column)
        font.setBold(active)
        font.setItalic(run.damaged and column == NAME)
        item.setFont(column, font)
    for column in (BEST, EPOCHS):
        item.setTextAlignment(column, RIGHT)
    item.setToolTip(NAME, "<br>".join(tip))
    item.setToolTip(DATE, run.created)
    item.setToolTip(STATUS, status_tip)
    item.setForeground(STATUS, QColor(STATUS_COLOURS.get(status, "#333")))
    item.setData(NAME, Qt.ItemDataRole.ForegroundRole,
                 QColor(DAMAGED_GREY) if run.damaged else None)
    flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
    if active:
        flags &= ~Qt.ItemFlag.ItemIsUserCheckable  # it is on the plots already
    item.setFlags(flags)



@contextmanager
def quiet(tree: QTreeWidget) -> Iterator[None]:
    """Change rows without moving them (a sort after every setText) or a signal per cell."""
    tree.setSortingEnabled(False)
    blocked = tree.blockSignals(True)
    try:
        yield
    finally:
        tree.blockSignals(blocked)
        tree.setSortingEnabled(True)
