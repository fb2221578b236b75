"""The runs recorded on disk: tick some to overlay their curves, compare two runs'
settings, resume, branch or open one, rename or delete them. A run another process is
writing, or whose record is damaged, is marked so and only read.

The panel shows the :class:`RunsModel` and changes runs only through it; anything that
trains or loads a model it only *asks* for, by signals.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QInputDialog, QLabel, QMenu,
                               QPushButton, QStackedWidget, QToolButton, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from cnn_core.runs.store import RunError, RunSummary, shown_checkpoint

from ...session.runs_model import RunsModel
from ...widgets.config_diff import ConfigDiffDialog
from ...widgets.when_shown import WhenShown
from .runs_actions import action, confirm_delete, older_first
from .runs_rows import (EMPTY_TEXT, KEY_ROLE, NAME, NAME_WIDTH, PathLabel, RunItem, fill_row,
                        quiet, run_key, runs_tree)
from .runs_writers import WritersWatch


class RunsPanel(QWidget):
    """The list of runs in a runs folder (``runsList``) with what can be done to them."""

    overlayChanged = Signal(list)  # list[RunSummary]: the ticked runs, top to bottom
    resumeRequested = Signal(object)  # Path: the checkpoint a run continues from
    branchRequested = Signal(object)  # Path: the checkpoint a new run starts from
    openRequested = Signal(object)  # Path: the checkpoint to inspect, without training
    compareInsideRequested = Signal(object, object)  # Path, Path: runs A and B
    runsDirChangeRequested = Signal(object)  # Path: the folder the person picked

    def __init__(self, runs: RunsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = runs
        self._runs: dict[str, RunSummary] = {}  # folder key -> summary, as last read
        self._active: str | None = None  # key of the run being trained now
        self._overlaid: list[tuple[str, str, str]] = []  # what overlayChanged last said
        self.diff_dialog: ConfigDiffDialog | None = None

        self.folder_label = PathLabel()
        self.folder_label.setStyleSheet("color: #555;")
        self.change_folder_button = QPushButton("Change…")
        self.change_folder_button.setToolTip("Keep runs in another folder")
        self.change_folder_button.clicked.connect(self._on_change_folder_clicked)

        self.tree = runs_tree()
        self.tree.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.itemSelectionChanged.connect(self._update_actions)
        self.tree.itemDoubleClicked.connect(self._on_item_double_clicked)

        self.empty_label = QLabel(EMPTY_TEXT, alignment=Qt.AlignmentFlag.AlignCenter,
                                  wordWrap=True)
        self.empty_label.setStyleSheet("color: #777; padding: 24px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.empty_label)

        self.message = QLabel(objectName="runsMessage", wordWrap=True)
        self.message.setStyleSheet("color: #b71c1c;")
        self.message.hide()

        self._build_actions()
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Runs in"))
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.change_folder_button)
        first_row, second_row = QHBoxLayout(), QHBoxLayout()
        for row, actions in ((first_row, (self.compare_action, self.compare_inside_action,
                                          self.resume_action)),
                             (second_row, (self.open_action, self.rename_action,
                                           self.delete_action, self.show_folder_action))):
            for act in actions:
                row.addWidget(self._button(act))
        branch = QToolButton(text="Branch", toolTip="Start a new run from a checkpoint of "
                             "this one, with the settings in the configuration panel")
        branch.setMenu(self.branch_menu)
        branch.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.branch_button = branch
        first_row.addWidget(branch)
        first_row.addStretch(1)
        second_row.addStretch(1)
        hint = QLabel("Tick runs to overlay their curves; tick or select two to compare them.",
                      wordWrap=True)
        hint.setStyleSheet("color: #777;")

        layout = QVBoxLayout(self)
        layout.addLayout(folder_row)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.message)
        layout.addLayout(first_row)
        layout.addLayout(second_row)
        layout.addWidget(hint)
        runs.folderChanged.connect(self._on_folder_changed)
        runs.runsChanged.connect(self.refresh)
        self._updated: set[Path] = set()  # runs whose summaries changed while hidden
        self._updates_due = WhenShown(self, self._update_rows)
        runs.runUpdated.connect(self._on_run_updated)
        runs.activeChanged.connect(self._on_active_changed)
        runs.curvesUnreadable.connect(self._on_curves_unreadable)
        self.writers = WritersWatch(runs, self)
        self.writers.changed.connect(self.refresh)
        self._on_folder_changed(runs.folder)

    def _build_actions(self) -> None:
        self.compare_action = action(self, "Compare settings", "Show two runs' settings "
                                     "and results side by side", self._on_compare_triggered)
        self.compare_inside_action = action(
            self, "Compare inside", "Show the two runs side by side in every view inside "
            "the network: filters matched, the same images, their errors and embeddings",
            self._on_compare_inside_triggered)
        self.compare_inside_action.setObjectName("compareInsideAction")
        self.resume_action = action(self, "Resume", "Continue this run from its last "
                                    "checkpoint", self._on_resume_triggered)
        self.branch_best_action = action(self, "Branch from best", "A new run that starts "
                                         "from the epoch with the best test accuracy",
                                         lambda: self._branch_from(best=True))
        self.branch_last_action = action(self, "Branch from last checkpoint", "A new run "
                                         "that starts from the end of the last epoch",
                                         lambda: self._branch_from(best=False))
        self.open_action = action(self, "Open", "Look inside this run's best model, without "
                                  "training", self._on_open_triggered)
        self.rename_action = action(self, "Rename…", "Give this run a name (F2)",
                                    self._on_rename_triggered, QKeySequence(Qt.Key.Key_F2))
        self.delete_action = action(self, "Delete…", "Delete the selected runs and their "
                                    "files (Del)", self._on_delete_triggered,
                                    QKeySequence(QKeySequence.StandardKey.Delete))
        self.show_folder_action = action(self, "Show folder", "Open this run's folder in the "
                                         "file manager", self._on_show_folder_triggered)
        self.branch_menu = QMenu("Branch", self)
        self.branch_menu.addActions([self.branch_best_action, self.branch_last_action])

    @staticmethod
    def _button(act: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(act)
        return button

    # -- public --------------------------------------------------------------------------

    def _on_folder_changed(self, path: Path) -> None:
        """List the runs of another folder (ticks and selection start afresh)."""
        self.folder_label.setText(str(path))
        self.folder_label.setToolTip(str(path))
        self.tree.clear()
        self._runs.clear()
        self.refresh()

    def refresh(self) -> None:
        """Read the folder again, keeping ticks and selection (one small JSON file per
        run)."""
        self.writers.update()
        runs = self.model.runs()
        names = {r.path.name: r.name for r in runs}  # a branch names its parent by folder
        items = {item.data(NAME, KEY_ROLE): item for item in self._items()}
        self._runs = {run_key(r.path): r for r in runs}
        with quiet(self.tree):
            for key, item in items.items():
                if key not in self._runs:
                    self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
            for key, run in self._runs.items():
                item = items.get(key)
                if item is None:
                    item = RunItem(self.tree)
                    item.setData(NAME, KEY_ROLE, key)
                    item.setCheckState(NAME, Qt.CheckState.Unchecked)
                self._fill(item, run, names)
        self.tree.resizeColumnToContents(NAME)  # names are free text: not wider than this
        self.tree.setColumnWidth(NAME, min(self.tree.columnWidth(NAME), NAME_WIDTH))
        self.empty_label.setText(self.model.problem() or EMPTY_TEXT)
        self.stack.setCurrentWidget(self.tree if runs else self.empty_label)
        self._update_actions()
        self._emit_overlay_if_changed()

    def _on_run_updated(self, path: Path) -> None:
        """A run's summary changed (the active run's, after each epoch): its row is read
        again now if the list is shown, else when it next is."""
        self._updated.add(path)
        self._updates_due.due()

    def _update_rows(self) -> None:
        updated, self._updated = self._updated, set()
        for path in updated:
            self._update_row(path)

    def _update_row(self, path: Path) -> None:
        """Re-read one run's summary: a few lines of JSON, where :meth:`refresh` reads every
        run in the folder."""
        key = run_key(path)
        item = self._item(key)
        if item is None:
            self.refresh()
            return
        run = self.model.summary(path)
        if run is None:
            return
        self._runs[key] = run
        names = {r.path.name: r.name for r in self._runs.values()}
        with quiet(self.tree):
            self._fill(item, run, names)

    def _fill(self, item: QTreeWidgetItem, run: RunSummary, names: dict[str, str]) -> None:
        fill_row(item, run, names, active=run_key(run.path) == self._active,
                 elsewhere=self._elsewhere(run))

    def checked_runs(self) -> list[RunSummary]:
        """The ticked runs, in the order shown."""
        return [self._runs[item.data(NAME, KEY_ROLE)] for item in self._items()
                if item.checkState(NAME) == Qt.CheckState.Checked]

    def selected_run(self) -> RunSummary | None:
        """The run selected, when exactly one is."""
        runs = self._selected_runs()
        return runs[0] if len(runs) == 1 else None

    def _on_active_changed(self, path: Path | None) -> None:
        """The run being trained now (``None`` when training ends) cannot be renamed,
        deleted or overlaid (it is the live run already); nothing can be resumed, branched
        or opened meanwhile. The model's ``runsChanged`` follows."""
        self._active = run_key(path) if path is not None else None
        item = self._item(self._active)
        if item is not None and item.checkState(NAME) == Qt.CheckState.Checked:
            item.setCheckState(NAME, Qt.CheckState.Unchecked)  # emits overlayChanged

    # -- rows ----------------------------------------------------------------------------

    def _items(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]

    def _item(self, key: str | None) -> QTreeWidgetItem | None:
        return next((item for item in self._items() if item.data(NAME, KEY_ROLE) == key), None)

    def _selected_runs(self) -> list[RunSummary]:
        return [self._runs[item.data(NAME, KEY_ROLE)] for item in self._items()
                if item.isSelected()]

    def _emit_overlay_if_changed(self) -> None:
        runs = self.checked_runs()
        shown = [(run_key(r.path), r.name, r.updated) for r in runs]
        if shown != self._overlaid:
            self._overlaid = shown
            self.overlayChanged.emit(runs)

    def _on_curves_unreadable(self, path: Path, reason: str) -> None:
        """A ticked run whose curves cannot be read is unticked, saying why; the others
        are drawn without it, so nothing needs to be asked again."""
        item = self._item(run_key(path))
        if item is not None and item.checkState(NAME) == Qt.CheckState.Checked:
            self.tree.blockSignals(True)
            item.setCheckState(NAME, Qt.CheckState.Unchecked)
            self.tree.blockSignals(False)
            self._overlaid = [entry for entry in self._overlaid if entry[0] != run_key(path)]
            self._say(f"Cannot overlay “{item.text(NAME)}”: {reason}")
            self._update_actions()

    def _say(self, text: str) -> None:
        """Show why something was refused or failed ('' hides the message)."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _elsewhere(self, run: RunSummary) -> bool:
        """Whether another process is writing ``run`` (as of the last poll)."""
        key = run_key(run.path)
        return key in self.writers.keys and key != self._active

    def _update_actions(self) -> None:
        run = self.selected_run()
        selected = self._selected_runs()
        idle = self._active is None
        # a run written by another process, or whose record is unreadable, is only read
        writable = run is not None and not run.damaged and not self._elsewhere(run)
        own = writable and run_key(run.path) != self._active
        self.compare_action.setEnabled(len(self.checked_runs()) == 2 or len(selected) == 2)
        pair = self._pair()
        self.compare_inside_action.setEnabled(idle and pair is not None and all(
            self._checkpoint(r) is not None for r in pair))
        self.resume_action.setEnabled(
            idle and writable and run.epochs_done < run.epochs
            and run.last_checkpoint.is_file())
        self.branch_best_action.setEnabled(idle and run is not None
                                           and run.best_checkpoint.is_file())
        self.branch_last_action.setEnabled(idle and run is not None
                                           and run.last_checkpoint.is_file())
        self.branch_button.setEnabled(self.branch_best_action.isEnabled()
                                      or self.branch_last_action.isEnabled())
        self.open_action.setEnabled(idle and run is not None and self._checkpoint(run) is not None)
        self.rename_action.setEnabled(own)
        self.delete_action.setEnabled(bool(selected)
                                      and not any(self._elsewhere(r) for r in selected))
        self.show_folder_action.setEnabled(run is not None)

    @staticmethod
    def _checkpoint(run: RunSummary) -> Path | None:
        """The checkpoint to inspect, if the run has one yet."""
        path = shown_checkpoint(run.path)
        return path if path.is_file() else None

    # -- slots ---------------------------------------------------------------------------

    def _on_item_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if column == NAME:
            self._update_actions()
            self._emit_overlay_if_changed()

    def _on_item_double_clicked(self, _item: QTreeWidgetItem, _column: int) -> None:
        if self.open_action.isEnabled():
            self.open_action.trigger()

    def _on_context_menu_requested(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addActions([self.open_action, self.resume_action])
        menu.addMenu(self.branch_menu)
        menu.addActions([self.compare_action, self.compare_inside_action])
        menu.addSeparator()
        menu.addActions([self.rename_action, self.delete_action, self.show_folder_action])
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def _pair(self) -> list[RunSummary] | None:
        """The two runs ticked, else the two selected; None unless there are two."""
        runs = self.checked_runs()
        if len(runs) != 2:
            runs = self._selected_runs()
        return runs if len(runs) == 2 else None

    def _on_compare_triggered(self) -> None:
        runs = self._pair()
        if runs is None:
            return
        if self.diff_dialog is not None:
            self.diff_dialog.close()
            self.diff_dialog.deleteLater()
        self.diff_dialog = ConfigDiffDialog(runs[0], runs[1], self)
        self.diff_dialog.show()

    def _on_compare_inside_triggered(self) -> None:
        runs = self._pair()
        if runs is not None:
            a, b = older_first(runs)
            self.compareInsideRequested.emit(a.path, b.path)

    def _on_resume_triggered(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.resumeRequested.emit(run.last_checkpoint)

    def _branch_from(self, best: bool) -> None:
        run = self.selected_run()
        if run is not None:
            self.branchRequested.emit(run.best_checkpoint if best else run.last_checkpoint)

    def _on_open_triggered(self) -> None:
        run = self.selected_run()
        checkpoint = self._checkpoint(run) if run is not None else None
        if checkpoint is not None:
            self.openRequested.emit(checkpoint)

    def _on_rename_triggered(self) -> None:
        run = self.selected_run()
        if run is None:
            return
        name, ok = QInputDialog.getText(self, "Rename run", "Name:", text=run.name)
        if not ok or name.strip() == run.name:
            return
        try:
            self.model.rename(run.path, name)
        except (RunError, OSError) as exc:
            self._say(f"Could not rename “{run.name}”: {exc}")
            return
        self._say("")

    def _on_delete_triggered(self) -> None:
        runs = self._selected_runs()
        if not runs:
            return
        if any(run_key(r.path) == self._active for r in runs):
            self._say("The run being trained cannot be deleted: stop it first.")
            return
        if not confirm_delete(self, runs):
            return
        failures = self.model.delete([r.path for r in runs])
        self._say("Could not delete " + "; ".join(failures) if failures else "")

    def _on_show_folder_triggered(self) -> None:
        run = self.selected_run()
        if run is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(run.path)))

    def _on_change_folder_clicked(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for runs", str(self.model.folder))
        if chosen:
            self.runsDirChangeRequested.emit(Path(chosen))
