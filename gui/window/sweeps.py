"""The Sweeps view in the window: a dock beside the Configuration and the Runs (wider while
it is the one shown), its service, and what it asks of the rest of the window.

The trials train in this process, on the sweep's own lane; each writes an ordinary run
folder. The running trial shows live in two ways:

* its curves, always (while no run is shown): the reports its trainer hands the sweep's
  callbacks go straight to the loss and accuracy plots, at no cost to the trial;
* in every panel, when the view's "Show the running trial in every panel" is ticked (and
  for a sweep of another process, whose reports cannot reach us): the session watches the
  trial's run folder as it watches any run another process writes
  (:meth:`RunSession.watch`), and the next trial's start moves the watch on. That re-reads
  the run's files and evaluates its checkpoints beside the training: on the bundled sample
  it made LeNet-5's 0.3 s epochs about 0.25 s longer each.

Nothing else trains meanwhile: Start waits for the sweep, and a sweep for an idle session.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from cnn_core.sweep import TrialStarted
from cnn_core.train.callbacks import BatchProgress, EpochMetrics, RunStatus
from cnn_core.train.config import TrainConfig

from ..panels.config import ConfigPanel
from ..panels.curves import CurvesWidget
from ..panels.sweeps import SweepPanel
from ..session.networks import Networks
from ..session.run_session import RunSession
from ..session.runs_model import RunsModel
from ..session.sweeps import SweepService
from .status_bar import StatusBarView

WIDE = 0.55  # of the window's width: the left docks' while the Sweeps view is shown
SHORTCUT = "Ctrl+Shift+S"


class TrialFollower:
    """Watches the running trial's run folder, and makes the session free when the view
    asks for it (to open a trial, or to put one's settings in the Configuration)."""

    def __init__(self, session: RunSession, data_dir: Callable[[], Path]) -> None:
        self.session, self.data_dir = session, data_dir
        self._trials: set[Path] = set()  # the trials' runs watched by this follower
        self._then: Callable[[], None] | None = None  # once the watch has stopped
        session.watchFinished.connect(self._on_watch_finished)

    def watching_a_trial(self) -> bool:
        watched = self.session.watching
        return watched is not None and watched.resolve() in self._trials

    def follow(self, run_dir: Path) -> None:
        """Watch ``run_dir`` (a trial's), unless the session is busy with something else."""
        def watch() -> None:
            self._trials.add(run_dir.resolve())
            self.session.watch(run_dir, self.data_dir())

        self.when_free(watch, quietly=True)

    def when_free(self, then: Callable[[], None], quietly: bool = False) -> None:
        """Run ``then`` now if the session is idle, or once it has stopped watching a
        trial; while it is busy otherwise, say why not (unless ``quietly``)."""
        if self.watching_a_trial():
            self._then = then
            self.session.stop()
        elif not self.session.busy:
            then()
        elif not quietly:
            self.session.error.emit("Stop the run first (Esc).")

    def sweep_ended(self) -> None:
        """A watch still waiting for a trial whose run never began (its settings were
        refused) ends with the sweep."""
        if self.watching_a_trial() and self.session.watch_progress is None:
            self.session.stop()

    def _on_watch_finished(self, _run: Path, _status: RunStatus | None) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()


class SweepDock:
    """The dock (``sweepDock``) with the Sweeps view (``sweepPanel``); ``open_run(path)``
    opens a run in every panel, as the Runs panel's Open does."""

    def __init__(self, host: QMainWindow, session: RunSession, runs: RunsModel,
                 networks: Networks, config: ConfigPanel,
                 docks: tuple[QDockWidget, QDockWidget], status: StatusBarView,
                 open_run: Callable[[Path], None], curves: CurvesWidget) -> None:
        self.host, self.session, self.config, self.status = host, session, config, status
        self.curves = curves
        self._new_trial = False  # the curves start afresh with the next report
        self.config_dock, runs_dock = docks
        self.service = SweepService(runs, host)
        self.panel = SweepPanel(self.service, networks, self._base_config)
        self.dock = QDockWidget("Sweeps", host, objectName="sweepDock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(self.config_dock.features())
        host.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        host.tabifyDockWidget(runs_dock, self.dock)
        self.config_dock.raise_()
        self.follower = TrialFollower(session, lambda: config.data_dir)
        self._narrow: int | None = None  # the left docks' width before the view widened them
        self.action = QAction("&Sweeps view", host)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setStatusTip("Show the Sweeps view: search settings over many runs")
        self.action.triggered.connect(self.show)
        host.addAction(self.action)
        panel = self.panel
        panel.trialRunning.connect(self.follower.follow)
        panel.openRequested.connect(lambda path: self.follower.when_free(lambda: open_run(path)))
        panel.trainLongerRequested.connect(
            lambda c: self.follower.when_free(lambda: self._train_longer(c)))
        panel.titleChanged.connect(self.dock.setWindowTitle)
        panel.progressed.connect(self._show_progress)
        self.service.ended.connect(lambda _outcome: self.follower.sweep_ended())
        # the finder would reseed the random draws the trial's dropout takes
        self.service.begun.connect(lambda _begun: self._hold_lr_finder(True))
        self.service.ended.connect(lambda _outcome: self._hold_lr_finder(False))
        self.service.event.connect(self._on_event)
        runs.folderChanged.connect(lambda _folder: panel.refresh_list())
        self.service.trialReport.connect(self._on_trial_report)
        self.dock.visibilityChanged.connect(self._on_visibility)

    def add_to(self, menu: QMenu) -> None:
        menu.addAction(self.action)

    def show(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.panel.setFocus()

    def _base_config(self, ignoring: Collection[str]) -> TrainConfig:
        """The Configuration's settings, the base of a sweep; raises ValueError."""
        if self.session.busy:
            raise ValueError("stop the run, or stop watching one, first (Esc): the "
                             "Configuration shows its settings, not yours")
        return self.config.config(ignoring)

    def _train_longer(self, config: TrainConfig) -> None:
        self.config.set_config(config)
        self.config_dock.raise_()
        self.status.show(f"The best trial's settings are in the Configuration, with "
                         f"{config.epochs} epochs: press Start (Ctrl+Return) to train them.")

    def _hold_lr_finder(self, held: bool) -> None:
        self.config.lr_find_button.setEnabled(not held and self.config.lr_spin.isEnabled())

    def blocks_start(self) -> bool:
        """True (and it says so) while a sweep trains: a run would share its cores."""
        if self.service.running:
            self.status.show("A sweep is training its trials: stop it in the Sweeps view "
                             f"({SHORTCUT}) first.", error=True)
        return self.service.running

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop a sweep under way (its trial's run recorded as stopped); True if its
        threads have ended."""
        return self.service.shutdown(timeout_ms)

    def _show_progress(self, text: str) -> None:
        """In the status bar, unless it tells of a run the session shows (a watched
        trial's status says how far it is)."""
        if not self.session.busy:
            self.status.show(text)

    def _on_event(self, event: object) -> None:
        if isinstance(event, TrialStarted):
            self._new_trial = True

    def _on_trial_report(self, report: BatchProgress | EpochMetrics) -> None:
        """The running trial's curves, unless the session shows a run (the trial watched,
        or one the person opened or trains)."""
        if self.session.busy:
            return
        if self._new_trial:
            self._new_trial = False
            self.curves.reset(report.epochs if isinstance(report, BatchProgress) else None)
        if isinstance(report, BatchProgress):
            self.curves.add_batch(report)
        else:
            self.curves.add_epoch(report)

    def _on_visibility(self, visible: bool) -> None:
        """Shown, the view takes :data:`WIDE` of the window (its plot needs the room);
        hidden behind another tab, the docks get their width back."""
        if self.dock.isFloating():
            return
        if visible and self._narrow is None:
            self._narrow = self.config_dock.width()
            wide = max(self._narrow, int(self.host.width() * WIDE))
            QTimer.singleShot(0, self.dock, lambda: self.host.resizeDocks(
                [self.dock], [wide], Qt.Orientation.Horizontal))
        elif not visible and self._narrow is not None and self.host.isVisible():
            narrow, self._narrow = self._narrow, None
            QTimer.singleShot(0, self.dock, lambda: self.host.resizeDocks(
                [self.config_dock], [narrow], Qt.Orientation.Horizontal))
