"""CNN Studio's main window: configuration on the left, live curves and the views inside
the network in the middle, progress in the status bar.

The window only reacts: it starts runs through :class:`RunController`, stores what the
worker's signals carry, and redraws. No training work happens in the GUI thread.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QHBoxLayout, QInputDialog, QLabel,
                               QMainWindow, QMessageBox, QProgressBar, QPushButton, QScrollArea,
                               QSplitter, QToolButton, QVBoxLayout, QWidget)

from cnn_core.callbacks import BatchProgress, EpochMetrics
from cnn_core.config import TrainConfig
from cnn_core.introspection import conv_filters

from .run_controller import RunController, RunState
from .theme import apply_plot_theme
from .torch_threads import reserve_threads_for_training
from .warmup import warm_up_in_background
from .export import export_png
from .inside_views import InsideViews
from .training_worker import RunInfo, TrainingWorker
from .widgets.config_panel import ConfigPanel
from .widgets.curves import CurvesWidget


STATUS_INTERVAL = 0.2  # seconds between status-bar updates during a run


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class MainWindow(QMainWindow):
    def __init__(self, config: TrainConfig | None = None) -> None:
        super().__init__()
        reserve_threads_for_training()
        warm_up_in_background()
        apply_plot_theme()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CNN Studio")
        self.resize(1440, 900)
        self.controller = RunController(self)
        self.history: list[EpochMetrics] = []
        self._run_started_at = 0.0
        self._first_step: int | None = None
        self._status_shown_at = 0.0

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

        self._build_controls()
        self._build_central()
        self._build_dock()
        self._build_status_bar()
        self._build_menus()
        self._connect()
        self._on_state_changed(RunState.IDLE.value)
        self._set_status("Ready. Pick an architecture and press Start (Ctrl+Return).")

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

        self.export_action = action("&Export panel as PNG…", "Ctrl+E", self._export_panel,
                                    "Save what the current panel shows as a PNG image")
        self.export_curves_action = action("Export &curves as PNG…", "Ctrl+Shift+E",
                                           lambda: self._export_panel(self.curves),
                                           "Save the loss and accuracy plots as a PNG image")
        self.export_gif_action = action("Export &time-lapse…", "", self._export_timelapse,
                                        "Save the filters over time as an animated GIF")
        file_menu = self.menuBar().addMenu("&File")
        for act in (self.export_action, self.export_curves_action, self.export_gif_action):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = self.menuBar().addMenu("&Train")
        for act in (self.start_action, self.pause_action, self.stop_action):
            train_menu.addAction(act)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.config_dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&Keyboard shortcuts", self._show_shortcuts)
        help_menu.addAction("&About CNN Studio", self._show_about)

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        self.error_close.clicked.connect(self._hide_error)
        self.inside.timelapse_bar.exportRequested.connect(self._export_timelapse)
        self.controller.workerCreated.connect(self._on_worker_created)
        self.controller.stateChanged.connect(self._on_state_changed)
        self.controller.runFinished.connect(self._on_run_finished)
        self.config_panel.validityChanged.connect(lambda _valid: self._update_controls())

    # -- actions -------------------------------------------------------------------------

    def start_training(self) -> None:
        if self.controller.busy:
            return
        try:
            config = self.config_panel.config()
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            self._set_status(f"Cannot start: {field.replace('_', ' ')} — {reason}", error=True)
            return
        self._hide_error()
        self.history = []
        self._first_step = None
        self.curves.reset(config.epochs)
        self.progress.setValue(0)
        self._run_started_at = time.monotonic()
        self._set_status(f"Preparing {config.arch} on {config.dataset}…")
        self.controller.start(config)

    def toggle_pause(self) -> None:
        self.controller.toggle_pause()

    def stop_training(self) -> None:
        if self.controller.busy:
            self._set_status("Stopping after the current batch…")
            self.controller.stop()

    # -- worker signals ------------------------------------------------------------------

    def _on_worker_created(self, worker: TrainingWorker) -> None:
        worker.runStarted.connect(self._on_run_started)
        worker.batchProgress.connect(self._on_batch_progress)
        worker.epochEnded.connect(self._on_epoch_ended)
        worker.snapshotTaken.connect(self.inside.add_snapshot)
        worker.epochDetails.connect(self.inside.add_details)
        worker.failed.connect(self._on_failed)

    @property
    def run_info(self) -> RunInfo | None:
        """The current (or last) run's facts, as the panels hold them."""
        return self.inside.info

    def _on_run_started(self, info: RunInfo) -> None:
        self.inside.start_run(info)
        self._set_status(f"Training {info.model_name} ({info.parameters:,} parameters) on "
                         f"{info.dataset.display_name}: {info.train_size:,} images, "
                         f"device {info.device}")

    def _on_batch_progress(self, p: BatchProgress) -> None:
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
        self._set_status(
            f"Epoch {p.epoch}/{p.epochs} · batch {p.batch}/{p.num_batches} · "
            f"loss {loss:.4f} · {p.images_per_sec:,.0f} img/s · "
            f"elapsed {_clock(time.monotonic() - self._run_started_at)} · "
            f"ETA {_clock(remaining)}"
            + (" · paused" if self.controller.state == RunState.PAUSED else ""))

    def _on_epoch_ended(self, m: EpochMetrics) -> None:
        self.history.append(m)
        self.curves.add_epoch(m)

    def _on_model_previewed(self, model) -> None:
        """While idle, show the chosen architecture's untrained filters."""
        if not self.controller.busy:
            self.inside.preview(conv_filters(model), self.config_panel.dataset_info)

    def _on_failed(self, message: str) -> None:
        self._show_error(f"The run stopped: {message}")

    def _on_run_finished(self, status: str) -> None:
        self.curves.refresh()  # the last epoch, without waiting for the next timer tick
        best = max(self.history, key=lambda m: m.test_acc, default=None)
        summary = (f" Best test accuracy {best.test_acc:.2%} at epoch {best.epoch}."
                   if best else "")
        elapsed = _clock(time.monotonic() - self._run_started_at)
        if status == "completed":
            self.progress.setValue(1000)
            self._set_status(f"Finished {_epochs(len(self.history))} in {elapsed}.{summary}")
        elif status == "stopped":
            self._set_status(f"Stopped after {_epochs(len(self.history))} ({elapsed}).{summary}")
        else:
            self._set_status(f"Run failed after {_epochs(len(self.history))}.{summary}", error=True)

    # -- state ---------------------------------------------------------------------------

    def _on_state_changed(self, state: str) -> None:
        self.pause_button.setText("▶  Resume" if state == RunState.PAUSED.value else "❚❚  Pause")
        self.pause_action.setText("&Resume" if state == RunState.PAUSED.value else "&Pause")
        if state == RunState.PAUSED.value:
            self._set_status("Paused. Press Resume (Ctrl+P) to continue or Stop (Esc) to end.")
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
        self.pause_button.setEnabled(active)
        self.pause_action.setEnabled(active)
        self.stop_button.setEnabled(active)
        self.stop_action.setEnabled(active)
        # Nothing that would break a running run can be changed while it runs.
        self.config_panel.setEnabled(idle)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        if error != self.status_label.property("error"):  # restyling is costly: only on change
            self.status_label.setProperty("error", error)
            self.status_label.setStyleSheet("color: #c62828;" if error else "")

    def _show_error(self, text: str) -> None:
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
                self._set_status(f"Saved {path}")
            except (OSError, ValueError) as exc:
                self._show_error(f"Could not export: {exc}")

    def _export_timelapse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export time-lapse", "filters.gif",
            "Animated GIF (*.gif);;PNG series (*.png)")
        if path:
            try:
                paths = self.inside.export_timelapse(path)
                self._set_status(f"Saved {len(paths)} file(s): {paths[0]}")
            except (OSError, ValueError) as exc:
                self._show_error(f"Could not export the time-lapse: {exc}")

    def _show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts",
                                "Ctrl+Return  Start\nCtrl+P  Pause / Resume\nEsc  Stop\n"
                                "Ctrl+E  Export the current panel as PNG\n"
                                "Ctrl+Shift+E  Export the curves as PNG\n"
                                "Ctrl+Z  Undo a stroke (Draw tab)\nCtrl+Q  Quit")

    def _show_about(self) -> None:
        QMessageBox.about(self, "About CNN Studio",
                          "CNN Studio trains convolutional networks built from scratch and "
                          "shows what they learn while they learn.")

    # -- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        if self.controller.busy:
            self._set_status("Stopping the run before closing…")
            if not self.controller.shutdown():
                self._show_error("The run did not stop in time; try closing again.")
                event.ignore()
                return
        self.config_panel.shutdown()
        self.inside.shutdown()
        event.accept()
