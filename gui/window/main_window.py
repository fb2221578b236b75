"""CNN Studio's main window: configuration and the run history on the left, live curves
and the views inside the network in the middle, progress in the status bar.

The window only reacts: it starts runs through :class:`RunController`, stores what the
worker's signals carry, and redraws. No training work happens in the GUI thread.
Every run is recorded in the runs folder; resuming, branching and opening saved runs
live in :mod:`gui.run_history`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QHBoxLayout, QInputDialog, QLabel,
                               QMainWindow, QMessageBox, QProgressBar, QPushButton, QScrollArea,
                               QSplitter, QToolButton, QVBoxLayout, QWidget)

from cnn_core.train.callbacks import BatchProgress, EpochMetrics
from cnn_core.train.config import TrainConfig
from cnn_core.inspect.analysis import conv_filters
from cnn_core.runs.store import new_run_dir
from cnn_core.train.trainer import EDITABLE

from ..threads.background import BackgroundJobs
from ..runtime.collector import collect_in_gui_thread
from .export_menu import ExportMenu
from ..training.controller import RunController, RunState
from .run_history import Continuation, RunHistoryMixin
from ..session.settings import Settings
from ..runtime.theme import apply_plot_theme
from ..runtime.torch_threads import reserve_threads_for_training
from ..runtime.warmup import warm_up_in_background
from ..widgets.png_export import export_png
from ..panels.inside_views import InsideViews
from ..training.worker import RunInfo, TrainingWorker
from ..widgets.config_diff import describe_change, format_duration
from ..panels.config_panel import ConfigPanel
from ..panels.curves import CurvesWidget
from ..panels.runs_panel import RunsPanel


STATUS_INTERVAL = 0.2  # seconds between status-bar updates during a run


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


class MainWindow(RunHistoryMixin, QMainWindow):
    def __init__(self, config: TrainConfig | None = None) -> None:
        super().__init__()
        reserve_threads_for_training()
        collect_in_gui_thread()
        warm_up_in_background()
        apply_plot_theme()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CNN Studio")
        self.resize(1440, 900)
        self.setAcceptDrops(True)
        self.settings = Settings()
        self.runs_dir = self.settings.runs_dir()
        self.controller = RunController(self)
        self.jobs = BackgroundJobs(self)
        self.history: list[EpochMetrics] = []
        self._run_started_at = 0.0
        self._first_step: int | None = None
        self._status_shown_at = 0.0
        self._continuation: Continuation | None = None
        self._active_run: Path | None = None  # the folder the current run records into
        self._last_run: Path | None = None  # ... or the last one, or the one opened
        self._opened: Path | None = None  # the checkpoint shown by File > Open
        self._last_lr: float | None = None
        self._lr_setting = 0.0  # the learning rate field's value before a pause
        self._branch_mark: tuple[float, str] | None = None  # where a branch starts, and from
        self._inspecting = False  # the "run" is only showing a checkpoint
        self._state = RunState.IDLE
        self._paused_values: dict[str, object] = {}
        if config is None:
            config = self.settings.last_config()

        self.inside = InsideViews()
        self.tabs = self.inside.tabs
        self.filters_panel = self.inside.filters_panel
        self.feature_maps_panel = self.inside.feature_maps_panel
        self.config_panel = ConfigPanel()
        self.config_panel.modelPreviewed.connect(self._on_model_previewed)
        self._on_model_previewed(self.config_panel.preview_model)
        if config is not None:
            self.config_panel.set_config(config)
        self.curves = CurvesWidget()
        self.runs_panel = RunsPanel(self.runs_dir)

        self._build_controls()
        self._build_central()
        self._build_dock()
        self._build_status_bar()
        self._build_menus()
        self._connect()
        self._restore_layout()
        self._on_state_changed(RunState.IDLE.value)
        self.set_status("Ready. Pick an architecture and press Start (Ctrl+Return).")

    # -- construction --------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.start_button = QPushButton("▶  Start", objectName="startButton")
        self.pause_button = QPushButton("❚❚  Pause", objectName="pauseButton")
        self.stop_button = QPushButton("■  Stop", objectName="stopButton")
        self.start_button.setToolTip("Start a new run with these settings (Ctrl+Return)")
        self.pause_button.setToolTip("Pause or resume the run (Ctrl+P)")
        self.stop_button.setToolTip("Stop the run after the current batch (Esc)")
        for button in (self.start_button, self.pause_button, self.stop_button):
            button.setMinimumHeight(34)
        self.start_button.setDefault(True)

    def _build_central(self) -> None:
        self.error_banner = QLabel(objectName="errorBanner", wordWrap=True)
        self.error_banner.setStyleSheet("background: #ffebee; color: #b71c1c; padding: 8px; "
                                        "border: 1px solid #ef9a9a; border-radius: 4px;")
        self.error_close = QToolButton(text="✕", toolTip="Dismiss")
        self.error_close.setAutoRaise(True)
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.error_banner, 1)
        banner_row.addWidget(self.error_close)
        self.error_banner.hide()
        self.error_close.hide()

        # what the next Start will continue from (a resume or a branch), with a way out
        self.info_banner = QLabel(objectName="continuationBanner", wordWrap=True)
        self.info_banner.setStyleSheet("background: #e3f2fd; color: #0d47a1; padding: 8px; "
                                       "border: 1px solid #90caf9; border-radius: 4px;")
        self.info_cancel = QPushButton("Cancel", objectName="continuationCancel")
        self.info_cancel.setToolTip("Start a fresh run instead")
        info_row = QHBoxLayout()
        info_row.addWidget(self.info_banner, 1)
        info_row.addWidget(self.info_cancel)
        self.info_banner.hide()
        self.info_cancel.hide()

        controls = QHBoxLayout()
        controls.addWidget(self.start_button)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.stop_button)
        controls.addStretch(1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.curves)
        splitter.addWidget(self.inside)
        splitter.setSizes([370, 530])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(controls)
        layout.addLayout(banner_row)
        layout.addLayout(info_row)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _build_dock(self) -> None:
        scroll = QScrollArea()
        scroll.setWidget(self.config_panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(380)
        self.config_dock = QDockWidget("Configuration", self, objectName="configDock")
        self.config_dock.setWidget(scroll)
        self.config_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.config_dock)
        self.runs_dock = QDockWidget("Runs", self, objectName="runsDock")
        self.runs_dock.setWidget(self.runs_panel)
        self.runs_dock.setFeatures(self.config_dock.features())
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.runs_dock)
        self.tabifyDockWidget(self.config_dock, self.runs_dock)
        self.config_dock.raise_()

    def _build_status_bar(self) -> None:
        self.status_label = QLabel(objectName="statusMessage")
        self.progress = QProgressBar(objectName="trainingProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.setFixedWidth(260)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress)

    def _build_menus(self) -> None:
        def action(text: str, shortcut: QKeySequence | str, slot, tip: str) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(shortcut))
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            self.addAction(act)  # shortcuts work wherever the focus is
            return act

        self.quit_action = action("&Quit", QKeySequence.StandardKey.Quit, self.close,
                                  "Stop any run and quit")
        self.quit_action.setShortcuts([QKeySequence("Ctrl+Q")])
        self.start_action = action("&Start", "Ctrl+Return", self.start_training,
                                   "Start a new run")
        self.start_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.pause_action = action("&Pause", "Ctrl+P", self.toggle_pause, "Pause or resume")
        self.stop_action = action("S&top", "Esc", self.stop_training, "Stop the run")

        self.open_action = action("&Open checkpoint…", QKeySequence.StandardKey.Open,
                                  self._open_dialog,
                                  "Inspect a saved checkpoint or run in every panel")
        self.branch_action = action("&Branch from checkpoint…", "Ctrl+B", self._branch_dialog,
                                    "Start a new run from a saved checkpoint, with edited "
                                    "settings")
        self.export_action = action("Panel as &PNG…", "Ctrl+E", self._export_panel,
                                    "Save what the current panel shows as a PNG image")
        self.export_curves_action = action("&Curves as PNG…", "Ctrl+Shift+E",
                                           lambda: self._export_panel(self.curves),
                                           "Save the loss and accuracy plots as a PNG image")
        self.export_gif_action = action("&Time-lapse…", "", self._export_timelapse,
                                        "Save the filters over time as an animated GIF")
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        export_menu = file_menu.addMenu("&Export")
        for act in (self.export_action, self.export_curves_action, self.export_gif_action):
            export_menu.addAction(act)
        export_menu.addSeparator()
        self.exports = ExportMenu(self, export_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = self.menuBar().addMenu("&Train")
        for act in (self.start_action, self.pause_action, self.stop_action):
            train_menu.addAction(act)
        train_menu.addSeparator()
        train_menu.addAction(self.branch_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.config_dock.toggleViewAction())
        view_menu.addAction(self.runs_dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&Keyboard shortcuts", self._show_shortcuts)
        help_menu.addAction("&About CNN Studio", self._show_about)

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        self.error_close.clicked.connect(self._hide_error)
        self.info_cancel.clicked.connect(self.cancel_continuation)
        self.runs_panel.overlayChanged.connect(self._on_overlay_changed)
        self.runs_panel.resumeRequested.connect(
            lambda run: self.prepare_continuation("resume", Path(run) / "checkpoints" / "last.pt"))
        self.runs_panel.branchRequested.connect(
            lambda checkpoint: self.prepare_continuation("branch", Path(checkpoint)))
        self.runs_panel.openRequested.connect(self.open_path)
        self.runs_panel.runsDirChangeRequested.connect(self.set_runs_dir)
        self.runs_panel.runDeleted.connect(self._on_run_deleted)
        self.inside.timelapse_bar.exportRequested.connect(self._export_timelapse)
        self.controller.workerCreated.connect(self._on_worker_created)
        self.controller.stateChanged.connect(self._on_state_changed)
        self.controller.runFinished.connect(self._on_run_finished)
        self.config_panel.validityChanged.connect(lambda _valid: self._update_controls())

    # -- actions -------------------------------------------------------------------------

    def start_training(self) -> None:
        """Start a fresh run, or continue from the checkpoint chosen with Resume / Branch."""
        if self.controller.busy:
            return
        try:
            config = self.config_panel.config()
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            self.set_status(f"Cannot start: {field.replace('_', ' ')} — {reason}", error=True)
            return
        cont = self._continuation
        if cont is not None and config.epochs <= cont.epoch:
            self.set_status(f"Cannot start: epochs — must be more than the {cont.epoch} the "
                            "checkpoint already has", error=True)
            return
        self._hide_error()
        self.settings.set_last_config(config)
        self.history = []
        self._first_step = None
        self._opened = None
        self._branch_mark = None
        self._last_lr = None
        self.curves.reset(config.epochs)
        self.progress.setValue(0)
        self._run_started_at = time.monotonic()
        if cont is None:
            run_dir = new_run_dir(self.runs_dir, config)
            options: dict[str, Any] = {"run_dir": run_dir}
        else:
            run_dir = (cont.source_run if cont.kind == "resume" and cont.source_run is not None
                       else new_run_dir(self.runs_dir, config))
            parent = cont.source_run if cont.kind == "branch" else None
            options = {"run_dir": run_dir, "checkpoint": cont.state, "parent": parent}
            self._show_history(cont.state, cont.source_run)
            if cont.kind == "branch":  # marked with the edits, once they take effect
                self._branch_mark = (float(cont.epoch), f"branched from {cont.name}")
            self.cancel_continuation()
        self._active_run = self._last_run = run_dir
        self.set_status(f"Preparing {config.arch} on {config.dataset}…")
        self.controller.start(config, **options)

    def toggle_pause(self) -> None:
        """Pause, or resume with whatever was edited while paused."""
        if self.controller.state == RunState.PAUSED:
            if not self._apply_edits():
                return
        self.controller.toggle_pause()

    def _apply_edits(self) -> bool:
        """Hand the settings edited while paused to the run; False (and why) if refused."""
        values = self.config_panel.values()
        bad = {k: v for k, v in self.config_panel.errors().items() if k in EDITABLE}
        if bad:
            field, reason = next(iter(bad.items()))
            self.set_status(f"Cannot resume: {field.replace('_', ' ')} — {reason}", error=True)
            return False
        edits = {k: values[k] for k in EDITABLE if values[k] != self._paused_values.get(k)}
        if not edits:
            return True
        try:
            self.controller.request_changes(edits)
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            self.set_status(f"Cannot resume: {field.replace('_', ' ')} — {reason}", error=True)
            return False
        return True

    def stop_training(self) -> None:
        if self.controller.busy:
            self.set_status("Stopping after the current batch…")
            self.controller.stop()

    # -- worker signals ------------------------------------------------------------------

    def _on_worker_created(self, worker: TrainingWorker) -> None:
        worker.runStarted.connect(self._on_run_started)
        worker.batchProgress.connect(self._on_batch_progress)
        worker.epochEnded.connect(self._on_epoch_ended)
        worker.snapshotTaken.connect(self.inside.add_snapshot)
        worker.epochDetails.connect(self.inside.add_details)
        worker.settingsChanged.connect(self._on_settings_changed)
        worker.failed.connect(self._on_failed)

    @property
    def run_info(self) -> RunInfo | None:
        """The current (or last) run's facts, as the panels hold them."""
        return self.inside.info

    def _on_run_started(self, info: RunInfo) -> None:
        self.inside.start_run(info)
        if info.run_dir is None:
            return
        self.runs_panel.set_active(info.run_dir)  # lists the new run too
        start = f" from epoch {info.start_epoch}" if info.start_epoch else ""
        self.set_status(f"Training {info.model_name} ({info.parameters:,} parameters) on "
                        f"{info.dataset.display_name}{start}: {info.train_size:,} images, "
                        f"device {info.device}")

    def _on_settings_changed(self, change: dict[str, Any]) -> None:
        text = describe_change(change)
        if self._branch_mark is not None:  # a branch's edits, made before its first batch
            text = f"{self._branch_mark[1]}\n{text}"
            self._branch_mark = None
        self.curves.add_marker(change["epoch"], text)
        if "epochs" in change["changes"]:
            self.curves.set_epochs(change["changes"]["epochs"][1])
        self.set_status(f"Changed {describe_change(change)} at epoch {change['epoch']:.2f}.")

    def _on_batch_progress(self, p: BatchProgress) -> None:
        self._last_lr = p.lr
        if self._branch_mark is not None:  # a branch that changed nothing but its length
            self.curves.add_marker(*self._branch_mark)
            self._branch_mark = None
        self.curves.add_batch(p)
        if self._first_step is None:  # a resumed run starts part-way through
            self._first_step = (p.epoch - 1) * p.num_batches + p.batch - len(p.losses)
        # Text is read at a human pace: refresh it 5 times a second, and at each epoch's end.
        now = time.monotonic()
        if now - self._status_shown_at >= STATUS_INTERVAL or p.batch == p.num_batches:
            self._status_shown_at = now
            self._show_progress(p)

    def _show_progress(self, p: BatchProgress) -> None:
        done = (p.epoch - 1) * p.num_batches + p.batch
        total = p.epochs * p.num_batches
        value = int(1000 * done / total)
        if value != self.progress.value():  # setValue repaints at once, even when unchanged
            self.progress.setValue(value)
        rate = (done - (self._first_step or 0)) / max(p.elapsed, 1e-9)  # batches per second
        remaining = (total - done) / max(rate, 1e-9)
        loss = sum(p.losses) / max(len(p.losses), 1)
        self.set_status(
            f"Epoch {p.epoch}/{p.epochs} · batch {p.batch}/{p.num_batches} · "
            f"loss {loss:.4f} · {p.images_per_sec:,.0f} img/s · "
            f"elapsed {format_duration(time.monotonic() - self._run_started_at)} · "
            f"ETA {format_duration(remaining)}"
            + (" · paused" if self.controller.state == RunState.PAUSED else ""))

    def _on_epoch_ended(self, m: EpochMetrics) -> None:
        self.history.append(m)
        self.curves.add_epoch(m)
        if self._active_run is not None:
            self.runs_panel.update_run(self._active_run)  # its best accuracy and epochs

    def _on_model_previewed(self, model) -> None:
        """While idle, show the chosen architecture's untrained filters."""
        if not self.controller.busy:
            self.inside.preview(conv_filters(model), self.config_panel.dataset_info)

    def _on_failed(self, message: str) -> None:
        self.show_error(f"The run stopped: {message}")

    def _on_run_finished(self, status: str) -> None:
        self.curves.refresh()  # the last epoch, without waiting for the next timer tick
        self._active_run = None
        self._inspecting = False
        self.runs_panel.set_active(None)  # and re-reads the list
        if status == "inspected" and self._opened is not None:
            last = self.history[-1] if self.history else None
            done = (f"epoch {last.epoch}, test accuracy {last.test_acc:.2%}" if last
                    else "untrained")
            self.progress.setValue(0)
            self.set_status(f"Opened {self._opened} ({done}). Explore it in the panels, or "
                            "branch from it (Ctrl+B).")
            return
        best = max(self.history, key=lambda m: m.test_acc, default=None)
        summary = (f" Best test accuracy {best.test_acc:.2%} at epoch {best.epoch}."
                   if best else "")
        elapsed = format_duration(time.monotonic() - self._run_started_at)
        if status == "completed":
            self.progress.setValue(1000)
            self.set_status(f"Finished {_epochs(len(self.history))} in {elapsed}.{summary}")
        elif status == "stopped":
            self.set_status(f"Stopped after {_epochs(len(self.history))} ({elapsed}).{summary}")
        else:
            self.set_status(f"Run failed after {_epochs(len(self.history))}.{summary}", error=True)

    # -- state ---------------------------------------------------------------------------

    def _on_state_changed(self, state: str) -> None:
        if self._state == RunState.PAUSED and state != RunState.PAUSED.value and \
                self.config_panel.values()["lr"] == self._paused_values.get("lr"):
            # left the pause without editing it: the run's own setting, not the scheduled
            # value shown while paused (Stop, or a run that ended)
            self.config_panel.lr_spin.setValue(self._lr_setting)
        self._state = RunState(state)
        self.pause_button.setText("▶  Resume" if state == RunState.PAUSED.value else "❚❚  Pause")
        self.pause_action.setText("&Resume" if state == RunState.PAUSED.value else "&Pause")
        if state == RunState.PAUSED.value:
            self._lr_setting = self.config_panel.lr_spin.value()
            if self._last_lr is not None:  # the learning rate now, after the schedule's cuts
                self.config_panel.lr_spin.setValue(self._last_lr)
            self._paused_values = {k: v for k, v in self.config_panel.values().items()
                                   if k in EDITABLE}
            self.set_status("Paused. Edit the learning rate, optimizer, batch size, epochs or "
                            "schedule if you like; Resume (Ctrl+P) continues with them, "
                            "Stop (Esc) ends the run.")
        self._update_controls()

    def _update_controls(self) -> None:
        state = self.controller.state
        idle = state == RunState.IDLE
        can_start = idle and self.config_panel.valid
        self.start_button.setEnabled(can_start)
        self.start_action.setEnabled(idle)
        self.start_button.setToolTip("Start a new run with these settings (Ctrl+Return)"
                                     if can_start or not idle else
                                     "Fix the fields marked in red first")
        active = state in (RunState.RUNNING, RunState.PAUSED)
        self.pause_button.setEnabled(active and not self._inspecting)
        self.pause_action.setEnabled(active and not self._inspecting)
        self.stop_button.setEnabled(active)
        self.stop_action.setEnabled(active)
        # Nothing can change while a run trains; while it is paused, or before a resume or
        # a branch starts, only what a run may change along the way.
        self.config_panel.setEnabled(idle or state == RunState.PAUSED)
        if state == RunState.PAUSED or (idle and self._continuation is not None):
            self.config_panel.set_editable((*EDITABLE, "device") if idle else EDITABLE)
        else:
            self.config_panel.set_editable(None)
        self.branch_action.setEnabled(idle)
        self.open_action.setEnabled(idle)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        if error != self.status_label.property("error"):  # restyling is costly: only on change
            self.status_label.setProperty("error", error)
            self.status_label.setStyleSheet("color: #c62828;" if error else "")

    def show_error(self, text: str) -> None:
        self.error_banner.setText(text)
        self.error_banner.show()
        self.error_close.show()

    def _hide_error(self) -> None:
        self.error_banner.hide()
        self.error_close.hide()

    def _export_panel(self, widget: QWidget | None = None) -> None:
        widget = widget or self.tabs.currentWidget()
        scale, ok = QInputDialog.getDouble(self, "Export PNG", "Scale (1 = as on screen):",
                                           2.0, 0.25, 8.0, 2)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export PNG", "cnn-studio.png",
                                              "PNG images (*.png)")
        if path:
            try:
                export_png(widget, path, scale)
                self.set_status(f"Saved {path}")
            except (OSError, ValueError) as exc:
                self.show_error(f"Could not export: {exc}")

    def _export_timelapse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export time-lapse", "filters.gif",
            "Animated GIF (*.gif);;PNG series (*.png)")
        if path:
            try:
                paths = self.inside.export_timelapse(path)
                self.set_status(f"Saved {len(paths)} file(s): {paths[0]}")
            except (OSError, ValueError) as exc:
                self.show_error(f"Could not export the time-lapse: {exc}")

    def _show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts",
                                "Ctrl+Return  Start\nCtrl+P  Pause / Resume\nEsc  Stop\n"
                                "Ctrl+O  Open a checkpoint to inspect it\n"
                                "Ctrl+B  Branch from a checkpoint\n"
                                "F2 / Del  Rename / delete the selected run (Runs)\n"
                                "Ctrl+E  Export the current panel as PNG\n"
                                "Ctrl+Shift+E  Export the curves as PNG\n"
                                "Ctrl+Z  Undo a stroke (Draw tab)\nCtrl+Q  Quit")

    def _show_about(self) -> None:
        QMessageBox.about(self, "About CNN Studio",
                          "CNN Studio trains convolutional networks built from scratch and "
                          "shows what they learn while they learn.")

    # -- closing -------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def save_settings(self) -> None:
        """Remember the configuration (when valid), the layout and the runs folder."""
        if self._continuation is None and self.config_panel.valid:
            self.settings.set_last_config(self.config_panel.config())
        self.settings.set_window_layout(self.saveGeometry(), self.saveState())
        self.settings.set_runs_dir(self.runs_dir)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        if self.controller.busy:
            self.set_status("Stopping the run before closing…")
            if not self.controller.shutdown():
                self.show_error("The run did not stop in time; try closing again.")
                event.ignore()
                return
        if self.jobs.busy:
            self.set_status("Finishing an export before closing…")
            if not self.jobs.shutdown():
                self.show_error("An export is still running; try closing again in a moment.")
                event.ignore()
                return
        self.save_settings()
        self.config_panel.shutdown()
        self.inside.shutdown()
        self.jobs.shutdown()
        event.accept()
