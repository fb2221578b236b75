"""CNN Studio's main window: configuration and the runs on the left, live curves and the
views inside the network in the middle, progress in the status bar.

The window only composes: the :class:`RunSession` holds the run and its history, and each
part of the window subscribes to it. No training work happens in the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget

from cnn_core.inspect.analysis import conv_filters
from cnn_core.nn.models import StudioModel
from cnn_core.nn.spec import SpecError
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import RunKind

from ..panels.config import ConfigPanel
from ..panels.curves import CurvesWidget, Overlay
from ..panels.editor import ArchitectureEditor
from ..panels.inside_views import InsideViews
from ..panels.runs import RunsPanel
from ..session.analysis import AnalysisService
from ..session.datasets import DatasetService
from ..session.networks import Networks
from ..session.run_session import RunSession
from ..session.runs_model import RunCurves, RunsModel
from ..session.settings import Settings
from ..training.controller import RunState
from .banners import ContinuationBanner, ErrorBanner, PicturesBanner
from .compare_command import CompareCommand
from .config_binding import ConfigBinding
from .controls import RunButtons
from .export_menu import ExportMenu
from .files import FileActions, dropped_path, read_spec
from .menus import Menus, RunCommands
from .status_bar import StatusBarView
from .sweeps import SweepDock

PREFERRED_SIZE = (1440, 900)  # shrunk to fit smaller screens


class MainWindow(QMainWindow):
    def __init__(self, config: TrainConfig | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CNN Studio")
        self.setAcceptDrops(True)
        self.settings = Settings()
        self.runs = RunsModel(self.settings.runs_dir(), self)
        self.session = RunSession(self.runs, self)

        self.analysis = AnalysisService(self.session, self)
        self.inside = InsideViews(self.session, self.analysis)
        self.tabs = self.inside.tabs
        self.filters_panel = self.inside.filters_panel
        self.networks = Networks(self.settings.networks(), self)
        self.config_panel = ConfigPanel(DatasetService(self), networks=self.networks,
                                        folders=self.settings.image_folders(), runs=self.runs)
        self.config_panel.modelPreviewed.connect(self._on_model_previewed)
        self._on_model_previewed(self.config_panel.preview_model)
        config = config or self.settings.last_config()
        if config is not None:
            self.config_panel.set_config(config)
        self.config_binding = ConfigBinding(self.config_panel, self.session)
        self.architecture_editor = ArchitectureEditor(self.networks, self)
        self.curves = CurvesWidget()
        self.runs_panel = RunsPanel(self.runs)
        self.buttons = RunButtons(self.session, self.config_panel)
        self.error_banner = ErrorBanner(self.session)
        remembered = self.settings.problems()
        if remembered:
            self.error_banner.show_message(f"From the last session: {'; '.join(remembered)}.")
        self.continuation_banner = ContinuationBanner(self.session)
        self.pictures_banner = PicturesBanner(
            self.session, lambda folder: self.session.relocate(folder, self.config_panel.data_dir))

        self._build_central()
        self._build_docks()
        self.status = StatusBarView(self.statusBar(), self.session)
        self.files = FileActions(self, self.session, self.runs, self.config_panel, self.inside,
                                 self.status, self.error_banner, self.open_architecture,
                                 self.config_dock.raise_)
        self.sweeps = SweepDock(self, self.session, self.runs, self.networks, self.config_panel,
                                (self.config_dock, self.runs_dock), self.status, self.open_path,
                                self.curves)
        self.menus = Menus(self, self.files, RunCommands(
            self.start_training, self.toggle_pause, self.stop_training,
            self.show_architecture_editor), self.curves,
            (self.config_dock, self.runs_dock, self.sweeps.dock))
        self.sweeps.add_to(self.menus.view_menu)
        self.exports = ExportMenu(self, self.menus.export_menu, self.session, self.runs_panel,
                                  self.curves, self.tabs, self.status, self.error_banner)
        self.buttons.bind_actions(self.menus.start_action, self.menus.pause_action,
                                  self.menus.stop_action, self.menus.branch_action,
                                  self.menus.open_action, self.menus.open_architecture_action,
                                  self.menus.watch_run_action)
        self.compare = CompareCommand(self.session, self.inside.compare, self.runs_panel,
                                      lambda: self.config_panel.data_dir, self.error_banner, self)
        self._connect()
        self._restore_layout()
        self.status.show("Ready. Pick an architecture and press Start (Ctrl+Return).")

    # -- construction --------------------------------------------------------------------

    @property
    def feature_maps_panel(self) -> QWidget:
        return self.inside.feature_maps_panel  # built the first time it is asked for

    def _build_central(self) -> None:
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.curves)
        splitter.addWidget(self.inside)
        splitter.setSizes([370, 530])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(self.buttons)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.continuation_banner)
        layout.addWidget(self.pictures_banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        scroll = QScrollArea()
        scroll.setWidget(self.config_panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(self.config_panel.minimumSizeHint().width() + bar + 4)
        features = (QDockWidget.DockWidgetFeature.DockWidgetMovable
                    | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                    | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.config_dock = QDockWidget("Configuration", self, objectName="configDock")
        self.config_dock.setWidget(scroll)
        self.runs_dock = QDockWidget("Runs", self, objectName="runsDock")
        self.runs_dock.setWidget(self.runs_panel)
        for dock in (self.config_dock, self.runs_dock):
            dock.setFeatures(features)
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.tabifyDockWidget(self.config_dock, self.runs_dock)
        self.config_dock.raise_()

    def _connect(self) -> None:
        s, curves = self.session, self.curves
        self.buttons.start.clicked.connect(self.start_training)
        self.buttons.pause.clicked.connect(self.toggle_pause)
        self.buttons.stop.clicked.connect(self.stop_training)
        s.curvesReset.connect(curves.reset)
        s.historyLoaded.connect(curves.load_history)
        s.markerAdded.connect(curves.add_marker)
        s.epochsChanged.connect(curves.set_epochs)
        s.batchProgress.connect(curves.add_batch)
        s.epochEnded.connect(curves.add_epoch)
        s.overlaysChanged.connect(self._on_overlays_changed)
        s.runFinished.connect(lambda _status: curves.refresh())
        s.watchFinished.connect(lambda _run, _status: curves.refresh())
        s.continuationChanged.connect(lambda cont: cont and self.config_dock.raise_())
        self.runs_panel.overlayChanged.connect(
            lambda runs: s.show_overlays([r.path for r in runs]))
        self.runs_panel.resumeRequested.connect(lambda c: s.prepare_continuation(RunKind.RESUME, c))
        self.runs_panel.branchRequested.connect(lambda c: s.prepare_continuation(RunKind.BRANCH, c))
        self.runs_panel.openRequested.connect(self.open_path)
        self.runs_panel.runsDirChangeRequested.connect(self.set_runs_dir)
        self.inside.timelapse_bar.exportRequested.connect(self.files.export_timelapse)
        self.config_panel.editArchitectureRequested.connect(self.show_architecture_editor)
        self.config_panel.data.foldersChanged.connect(self.settings.set_image_folders)
        for signal in (self.networks.listChanged, self.networks.edited):
            signal.connect(lambda: self.settings.set_networks(self.networks.custom_specs()))

    def _restore_layout(self) -> None:
        screen = QGuiApplication.primaryScreen().availableGeometry()
        self.resize(min(PREFERRED_SIZE[0], screen.width()), min(PREFERRED_SIZE[1], screen.height()))
        geometry, state = self.settings.window_layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # -- actions -------------------------------------------------------------------------

    def start_training(self) -> None:
        """Start a fresh run, or continue from the checkpoint chosen with Resume / Branch."""
        if self.session.busy or self.sweeps.blocks_start():
            return
        try:
            config = self.config_panel.config()
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            self.status.show(f"Cannot start: {field.replace('_', ' ')} — {reason}", error=True)
            return
        if self.session.start(config):
            self.settings.set_last_config(config)

    def toggle_pause(self) -> None:
        """Pause, or resume with whatever was edited while paused."""
        try:
            edits = self.config_binding.edits() if self.session.state == RunState.PAUSED else None
            self.session.toggle_pause(edits)
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            self.status.show(f"Cannot resume: {field.replace('_', ' ')} — {reason}", error=True)

    def stop_training(self) -> None:
        self.session.stop()

    def prepare_continuation(self, kind: str, checkpoint: str | Path) -> None:
        """Resume (``"resume"``) or branch from (``"branch"``) a checkpoint on the next Start."""
        self.session.prepare_continuation(RunKind(kind), checkpoint)

    def open_path(self, path: str | Path) -> None:
        """Inspect a checkpoint or run folder in every panel, without training."""
        self.files.open_path(path)

    def watch_run(self, path: str | Path) -> None:
        """Follow in every panel a run that another process writes in ``path``."""
        self.files.watch_run(path)

    def show_architecture_editor(self) -> None:
        editor = self.architecture_editor
        editor.show()
        editor.raise_()
        editor.activateWindow()

    def open_architecture(self, path: str | Path) -> None:
        """Add the network in a spec file to the architectures, choose it and show it."""
        if self.networks.locked:
            self.error_banner.show_message("Cannot open a network now: the network cannot "
                                           "change while a run trains or is about to resume.")
            return
        try:
            spec = read_spec(path)
        except SpecError as exc:
            self.error_banner.show_message(f"Could not open the network: {exc}")
            return
        self.networks.add(spec)
        self.show_architecture_editor()
        self.status.show(f"Opened the network “{self.networks.arch}” from {path}")

    def set_runs_dir(self, path: str | Path) -> None:
        try:
            self.runs.set_folder(Path(path))
        except OSError as exc:
            self.error_banner.show_message(
                f"Cannot use {path} as the runs folder: {exc.strerror or exc}")
            return
        self.settings.set_runs_dir(Path(path))
        self.status.show(f"Runs are now kept in {path}")

    # -- reactions -----------------------------------------------------------------------

    def _on_overlays_changed(self, shown: list[RunCurves]) -> None:
        self.curves.set_overlays([Overlay(c.key, c.name, c.history, c.batches) for c in shown])

    def _on_model_previewed(self, model: StudioModel | None) -> None:
        """While idle, show the chosen architecture's untrained filters."""
        if model is not None and not self.session.busy:
            self.inside.preview(conv_filters(model), self.config_panel.dataset_info)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt naming
        if dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt naming
        path = dropped_path(event)
        if path is not None:
            event.acceptProposedAction()
            self.files.open_dropped(path)

    # -- closing -------------------------------------------------------------------------

    def save_settings(self) -> None:
        """Remember the valid fields of the configuration, the layout and the runs folder."""
        if self.session.continuation is None:
            base = self.settings.last_config() or TrainConfig()
            self.settings.set_last_config(self.config_binding.own_settings
                                          or self.config_panel.valid_fields(base))
        self.settings.set_window_layout(self.saveGeometry(), self.saveState())
        self.settings.set_runs_dir(self.runs.folder)
        self.settings.set_networks(self.networks.custom_specs())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        if self.session.busy:
            self.status.show("Stopping the run before closing…")
        if not (self.sweeps.shutdown() and self.session.shutdown()):
            self.error_banner.show_message("The run, a sweep or an export did not finish in "
                                           "time; try closing again in a moment.")
            event.ignore()
            return
        self.save_settings()
        self.config_panel.shutdown()
        self.inside.shutdown()
        self.analysis.shutdown()
        event.accept()
