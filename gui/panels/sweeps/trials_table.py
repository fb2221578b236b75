"""A sweep's trials as a table: number, state, each varied parameter, the objective and
the epochs run; sorted by any column (numbers as numbers), best first to begin with. It
is filled again from each new report, keeping the sort and the selected trial."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from cnn_core.sweep import SweepReport, TrialRow

from .axes import objective_text, value_text

STATE_ORDER = {"complete": 0, "pruned": 1, "running": 2, "waiting": 2, "failed": 3}
STATE_COLOURS = {"running": "#1565c0", "pruned": "#777777", "failed": "#c62828"}
SORT_KEY = Qt.ItemDataRole.UserRole + 1


class SortedItem(QTableWidgetItem):
    """A cell that sorts by its key (a number, or text), not by the text it shows."""

    def __init__(self, text: str, key: Any) -> None:
        super().__init__(text)
        self.setData(SORT_KEY, key)
        self.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_KEY), other.data(SORT_KEY)
        if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)):
            return mine < theirs
        return str(mine) < str(theirs)


def _number(value: Any) -> float:
    """A sort key: numbers as they are, the missing last when sorted up."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return math.inf


class TrialsTable(QTableWidget):
    """``show_report(report)`` fills it; double-clicking a row asks to open that trial's
    run (``openRequested``)."""

    openRequested = Signal(Path)

    def __init__(self) -> None:
        super().__init__(0, 0)
        self.setObjectName("sweepTrialsTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.setMinimumHeight(110)
        # the columns share the view's width (no sideways scrolling in a narrow dock)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(36)
        self.setToolTip("Click a header to sort by it; double-click a trial to open its run "
                        "in every panel.")
        self._columns: tuple[str, ...] = ()
        self._runs: dict[int, Path | None] = {}
        self.cellDoubleClicked.connect(self._on_double_click)

    def trial_at(self, row: int) -> int:
        """The trial number shown in ``row``."""
        return int(self.item(row, 0).data(SORT_KEY))

    def select_trial(self, number: int) -> None:
        for row in range(self.rowCount()):
            if self.trial_at(row) == number:
                self.selectRow(row)
                self.scrollToItem(self.item(row, 0))
                return

    def show_report(self, report: SweepReport | None) -> None:
        selected = [self.trial_at(i.row()) for i in self.selectionModel().selectedRows()]
        trials = report.trials if report is not None else []
        keys = [p.key for p in report.settings.space.varied] if report is not None else []
        objective = report.settings.objective if report is not None else "test_acc"
        columns = ("Trial", "State", *(k.replace("_", " ") for k in keys),
                   "Test acc." if objective == "test_acc" else "Test loss", "Epochs")
        self.setSortingEnabled(False)
        if columns != self._columns:
            self._columns = columns
            self.setColumnCount(len(columns))
            self.setHorizontalHeaderLabels(list(columns))
            for column in (0, 1):  # the trial's number and state: as wide as they need
                self.horizontalHeader().setSectionResizeMode(
                    column, QHeaderView.ResizeMode.ResizeToContents)
            best_first = (Qt.SortOrder.DescendingOrder if objective == "test_acc"
                          else Qt.SortOrder.AscendingOrder)
            self.horizontalHeader().setSortIndicator(len(columns) - 2, best_first)
        self.setRowCount(len(trials))
        self._runs = {t.number: t.run_dir for t in trials}
        for row, trial in enumerate(trials):
            for column, item in enumerate(self._cells(trial, keys, objective)):
                self.setItem(row, column, item)
        self.setSortingEnabled(True)  # sorts by the header's column and order
        for number in selected:
            self.select_trial(number)

    def _cells(self, trial: TrialRow, keys: list[str], objective: str) -> list[SortedItem]:
        state = SortedItem(trial.state, STATE_ORDER.get(trial.state, 9))
        if trial.state in STATE_COLOURS:
            state.setForeground(QColor(STATE_COLOURS[trial.state]))
        if trial.note:
            state.setToolTip(trial.note)
        cells = [SortedItem(str(trial.number), trial.number), state]
        for key in keys:
            value = trial.params.get(key)
            key_of = _number(value) if isinstance(value, (int, float)) else value_text(value)
            cells.append(SortedItem(value_text(value) if key in trial.params else "-", key_of))
        value = _number(trial.value)  # a trial without one sorts last, best first
        if objective == "test_acc" and value == math.inf:
            value = -math.inf
        cells.append(SortedItem(objective_text(trial.value, objective), value))
        cells.append(SortedItem(str(trial.epochs), trial.epochs))
        for cell in cells[2:]:
            cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if trial.run_dir is not None:
            cells[0].setToolTip(str(trial.run_dir))
        return cells

    def _on_double_click(self, row: int, _column: int) -> None:
        run = self._runs.get(self.trial_at(row))
        if run is not None:
            self.openRequested.emit(run)
