"""The window's one model of a run: the run under way or the one shown, what the next
Start continues from, and what the run has reported so far.

Views subscribe to its signals and change it only through its methods; it never touches
a widget. Slow work (a checkpoint to load, the run itself) happens on lanes of
:mod:`gui.threads.tasks`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from cnn_core.runs.store import BatchLog, RunError, read_batches, read_summary
from cnn_core.train.callbacks import BatchProgress, EpochMetrics, RunStatus, SettingsChange
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import (Continuation, LaunchError, RunBeingWritten, RunKind,
                                   check_resumable, open_continuation, run_name)

from ..threads.tasks import Lane
from ..training.controller import RunController, RunState
from ..training.messages import EpochDetails, Preparing, RunInfo, Snapshot
from ..training.run_task import Notice, RunRequest
from ..training.watch_task import WatchProgress, WatchRequest, WatchStarted
from .describe import describe_change
from .folder_watch import FolderWatch
from .runs_model import RunCurves, RunsModel, same_run


class RunSession(QObject):
    # A payload of one class is declared with it; ``object`` where None or a union is sent.
    # (PySide6 carries any Python class as a PyObject, unconverted, within a thread or
    # queued across threads; these are all emitted in the GUI thread.)
    stateChanged = Signal(RunState)
    continuationChanged = Signal(object)  # Continuation, or None once there is none
    runStarted = Signal(RunInfo)
    batchProgress = Signal(BatchProgress)
    epochEnded = Signal(EpochMetrics)
    snapshotTaken = Signal(Snapshot)
    epochDetails = Signal(EpochDetails)
    settingsChanged = Signal(SettingsChange)
    runFinished = Signal(RunStatus)
    curvesReset = Signal(object)  # int | None: epochs on the axis, None = just overlays
    # list[EpochMetrics] (Signal(list) would copy it), BatchLog | None
    historyLoaded = Signal(object, object)
    markerAdded = Signal(float, str)  # epoch, what changed there
    epochsChanged = Signal(int)  # the run's new length
    overlaysChanged = Signal(list)  # list[RunCurves]
    watchingChanged = Signal(object)  # Path | None: the run folder followed
    watchProgress = Signal(WatchProgress)
    watchFinished = Signal(Path, object)  # run folder, RunStatus | None (None: it failed)
    watchedSettings = Signal(TrainConfig)  # the watched run's own
    status = Signal(str, bool)  # text for the status bar, whether it is an error
    preparing = Signal(Preparing)  # a download or features computed before training
    error = Signal(str)  # a refusal or failure, shown until dismissed

    def __init__(self, runs: RunsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.controller = RunController(self)
        self.jobs = Lane("JobsThread", self)
        self.continuation: Continuation | None = None
        self.loading = False  # a checkpoint to continue from is being read
        self.history: list[EpochMetrics] = []
        self.run_info: RunInfo | None = None
        self.last_run: Path | None = None  # the run trained last, or the one opened
        self.opened: Path | None = None  # the checkpoint shown by File > Open
        self._shown: Continuation | None = None  # ... as loaded, to show again elsewhere
        self.inspecting = False
        self.last_lr: float | None = None  # the learning rate the run has reached
        self.started_at = 0.0
        self._branch_mark: tuple[float, str] | None = None
        self._watching: Path | None = None
        self._folder_watch: FolderWatch | None = None
        self._watch_failed = False
        self.watch_progress: WatchProgress | None = None
        self._handlers = {RunInfo: self._on_run_info, BatchProgress: self._on_batch,
                          EpochMetrics: self._on_epoch, SettingsChange: self._on_change,
                          Snapshot: self.snapshotTaken.emit,
                          EpochDetails: self.epochDetails.emit, Notice: self._on_notice,
                          Preparing: self.preparing.emit,
                          WatchStarted: self._on_watch_started,
                          WatchProgress: self._on_watch_progress}
        self.controller.message.connect(lambda m: self._handlers[type(m)](m))
        self.controller.stateChanged.connect(self.stateChanged)
        self.controller.failed.connect(self._on_failed)
        self.controller.runFinished.connect(self._on_finished)
        runs.runDeleted.connect(self._on_run_deleted)

    @property
    def state(self) -> RunState:
        return self.controller.state

    @property
    def busy(self) -> bool:
        return self.controller.busy

    @property
    def watching(self) -> Path | None:
        """The run folder followed (written by another process), if any."""
        return self._watching

    # -- starting ------------------------------------------------------------------------

    def start(self, config: TrainConfig) -> bool:
        """Start a fresh run, or continue from the checkpoint chosen with Resume / Branch."""
        if self.busy:
            return False
        if self.loading:  # Start would otherwise begin a fresh run instead
            self.status.emit("Still loading the checkpoint: press Start again when it is "
                             "ready.", False)
            return False
        cont = self.continuation
        if cont is not None:
            try:
                cont.check(config)
            except LaunchError as exc:
                self.status.emit(f"Cannot start: {exc.field} — {exc.reason}", True)
                return False
        self.history, self.opened, self.last_lr, self._branch_mark = [], None, None, None
        self._shown = None
        self.started_at = time.monotonic()
        self.curvesReset.emit(config.epochs)
        if cont is not None:
            self._show_history(cont.state, cont.source_run)
            if cont.kind == RunKind.BRANCH:  # marked with the edits, once they take effect
                self._branch_mark = (float(cont.epoch), f"branched from {cont.name}")
            self.cancel_continuation()
        self.status.emit(f"Preparing {config.arch} on {config.dataset}…", False)
        self.controller.start(RunRequest(config, self.runs.folder, cont))
        return True

    def prepare_continuation(self, kind: RunKind, checkpoint: str | Path) -> None:
        """Load (off the GUI thread) a checkpoint the next Start resumes or branches from;
        ``continuationChanged`` follows, or ``error`` with the reason."""
        if self.busy:
            self.error.emit("Stop the current run first.")
            return
        if kind == RunKind.RESUME:
            try:
                check_resumable(checkpoint)
            except RunBeingWritten as exc:
                self.error.emit(exc.sentence)
                return
        self.status.emit(f"Loading {Path(checkpoint).name}…", False)
        self.loading = True
        self.jobs.run(lambda _state: open_continuation(checkpoint, kind),
                      on_done=self._set_continuation,
                      on_error=lambda exc: self._refuse("Could not use the checkpoint", exc))

    def _refuse(self, what: str, exc: Exception) -> None:
        """The reason in the banner; the status bar, which said what was being tried, says
        that it failed rather than go on saying "Loading…"."""
        self.loading = False
        self.status.emit(f"{what}.", True)
        self.error.emit(f"{what}: {exc}")

    def _set_continuation(self, cont: Continuation) -> None:
        self.loading = False
        if self.busy:
            return
        self.continuation = cont
        verb = "Resume" if cont.kind == RunKind.RESUME else "Branch from"
        self.status.emit(f"{verb} “{cont.name}” at epoch {cont.epoch}: edit what you like, "
                         "then press Start (Ctrl+Return).", False)
        self.continuationChanged.emit(cont)

    def cancel_continuation(self) -> None:
        if self.continuation is not None:
            self.continuation = None
            self.continuationChanged.emit(None)

    def open(self, path: str | Path, data_dir: Path) -> None:
        """Show a checkpoint (or a run folder's) in every panel, without training."""
        if self.busy:
            self.error.emit("Stop watching first (Esc), then open the checkpoint."
                            if self._watching else
                            "Stop the current run before opening a checkpoint.")
            return
        path = Path(path)
        self.status.emit(f"Opening {path}…", False)
        self.jobs.run(lambda _state: open_continuation(path, RunKind.INSPECT),
                      on_done=lambda cont: self._inspect(cont, data_dir),
                      on_error=lambda exc: self._refuse(f"Could not open {path.name}", exc))

    def _inspect(self, cont: Continuation, data_dir: Path) -> None:
        if self.busy:
            return
        config = cont.inspection(data_dir)
        self.cancel_continuation()
        self.history, self.last_lr, self._branch_mark = [], None, None
        self.opened, self.last_run, self.inspecting = cont.path, cont.source_run, True
        self._shown = cont
        self.started_at = time.monotonic()
        self.curvesReset.emit(max(len(cont.state["history"]), 1))
        self._show_history(cont.state, cont.source_run)
        self.controller.start(RunRequest(config, self.runs.folder, cont))

    def relocate(self, folder: str | Path, data_dir: Path) -> None:
        """Show the opened checkpoint again, with the pictures it was trained on read from
        ``folder`` (where they are now)."""
        if self._shown is None or self.busy:
            return
        try:
            cont = self._shown.relocated(folder)
        except ValueError as exc:
            self.error.emit(f"Cannot read the pictures from there: {exc}")
            return
        self.status.emit(f"Opening {cont.name} with the pictures in {folder}…", False)
        self._inspect(cont, data_dir)

    def watch(self, run_dir: str | Path, data_dir: Path) -> None:
        """Follow in every panel the run another process writes in ``run_dir`` (waiting
        for one to start there), until it ends or Stop."""
        if self.busy:
            self.error.emit("Stop the current run first.")
            return
        run_dir = Path(run_dir).absolute()
        self.cancel_continuation()
        self.history, self.opened, self.last_lr, self._branch_mark = [], None, None, None
        self._shown = None
        self.watch_progress, self._watch_failed = None, False
        self.started_at = time.monotonic()
        wake = threading.Event()
        self._watching, self._folder_watch = run_dir, FolderWatch(run_dir, wake, self)
        self.watchingChanged.emit(run_dir)
        self.status.emit(f"Watching {run_dir}…", False)
        self.controller.watch(WatchRequest(run_dir, data_dir), wake)

    # -- a run under way -----------------------------------------------------------------

    def toggle_pause(self, edits: dict[str, Any] | None = None) -> None:
        """Pause, or resume with ``edits``; raises ValueError("field: reason") if the run
        refuses an edit (it stays paused then)."""
        if self.state == RunState.PAUSED and edits:
            self.controller.request_changes(edits)
        self.controller.toggle_pause()

    def stop(self) -> None:
        if self.busy:
            self.status.emit("Stopping…" if self._watching else
                             "Stopping after the current batch…", False)
            self.controller.stop()

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop the run and finish the jobs; True if no thread is left running."""
        return (self.controller.shutdown(timeout_ms)
                and self.jobs.shutdown(timeout_ms, cancel=False))

    # -- what the run reports ------------------------------------------------------------

    def _on_run_info(self, info: RunInfo) -> None:
        self.run_info = info
        if info.run_dir is not None:
            self.last_run = info.run_dir
            if self._watching is None:  # a watched run is written elsewhere
                self.runs.set_active(info.run_dir)
        self.runStarted.emit(info)

    def _on_batch(self, p: BatchProgress) -> None:
        self.last_lr = p.lr
        if self._branch_mark is not None:  # a branch that changed nothing but its length
            self.markerAdded.emit(*self._branch_mark)
            self._branch_mark = None
        self.batchProgress.emit(p)

    def _on_epoch(self, m: EpochMetrics) -> None:
        self.history.append(m)
        self.epochEnded.emit(m)
        if self.runs.active is not None:
            self.runs.epoch_recorded(self.runs.active)
        elif self._watching is not None and same_run(self._watching.parent, self.runs.folder):
            self.runs.epoch_recorded(self._watching)

    def _on_change(self, change: SettingsChange) -> None:
        text = describe_change(change)
        if self._branch_mark is not None:  # a branch's edits, made before its first batch
            text = f"{self._branch_mark[1]}\n{text}"
            self._branch_mark = None
        self.markerAdded.emit(change.epoch, text)
        if "epochs" in change.changes:
            self.epochsChanged.emit(int(change.changes["epochs"][1]))
        self.settingsChanged.emit(change)
        self.status.emit(f"Changed {describe_change(change)} at epoch {change.epoch:.2f}.",
                         False)

    def _on_notice(self, notice: Notice) -> None:
        self.status.emit(notice.text, False)

    def _on_watch_started(self, started: WatchStarted) -> None:
        self.history, self.last_run = [], started.run_dir
        self.curvesReset.emit(started.epochs)
        self.watchedSettings.emit(started.config)
        if self._folder_watch is not None:
            self._folder_watch.update()

    def _on_watch_progress(self, progress: WatchProgress) -> None:
        before = self.watch_progress
        self.watch_progress = progress
        if before is not None and before.epochs != progress.epochs:
            self.epochsChanged.emit(progress.epochs)
        if self._folder_watch is not None:
            self._folder_watch.update()  # its folders may have been made since
        self.watchProgress.emit(progress)

    def _on_failed(self, exc: Exception) -> None:
        if self._watching is not None:
            self._watch_failed = True
            self.error.emit(f"Cannot watch {self._watching}: {exc}")
            return
        self.error.emit(f"The run stopped: {exc}")

    def _on_finished(self, status: RunStatus) -> None:
        watched = self._watching
        if watched is not None:
            self._folder_watch.stop()
            self._folder_watch.deleteLater()
            self._watching = self._folder_watch = None
            self.watchingChanged.emit(None)
            self.watchFinished.emit(watched, None if self._watch_failed else status)
            return
        self.inspecting = False
        if self.runs.active is not None:
            self.runs.set_active(None)
        self.runFinished.emit(status)

    # -- history on the curves -----------------------------------------------------------

    def _show_history(self, state: dict[str, Any], run: Path | None) -> None:
        """Draw what a checkpoint already has, so that what follows continues its curves."""
        self.history = [EpochMetrics(**m) for m in state["history"]]
        batches: BatchLog | None = None
        parent = None
        if run is not None:
            try:
                batches = read_batches(run).upto(int(state.get("global_step", 0)))
                parent = read_summary(run).parent
            except RunError:
                pass
        self.historyLoaded.emit(self.history, batches)
        changes = [SettingsChange.from_dict(c) for c in state.get("changes", [])]
        self._mark_changes(changes, run, parent)

    def _mark_changes(self, changes: list[SettingsChange], run: Path | None,
                      parent: dict[str, Any] | None) -> None:
        """A marker per change of settings; a branch's point names the run it came from and
        the edits it started with."""
        at_branch = [c for c in changes if parent and c.step == parent.get("step")]
        if parent and run is not None:
            text = f"branched from {run_name(run.parent / parent['run'], parent['run'])}"
            edits = "".join(f"\n{describe_change(c)}" for c in at_branch)
            self.markerAdded.emit(float(parent["epoch"]), text + edits)
        for change in changes:
            if change not in at_branch:
                self.markerAdded.emit(change.epoch, describe_change(change))

    def show_overlays(self, runs: list[Path]) -> None:
        """Draw the ticked runs. While idle the plots show just them (or, with none ticked,
        the last run again); during a run they are drawn behind it."""
        curves: list[RunCurves] = []
        for run in runs:
            try:
                curves.append(self.runs.curves(run))
            except RunError as exc:
                self.status.emit(f"Cannot draw {run.name}: {exc}", True)
        if not self.busy:
            self.curvesReset.emit(None)
            if not curves and self.last_run is not None:
                self._show_run_curves(self.last_run)
        self.overlaysChanged.emit(curves)

    def _show_run_curves(self, run: Path) -> None:
        try:
            summary = read_summary(run)
            shown = self.runs.curves(run)
        except RunError:
            return  # deleted or damaged since: the plots stay empty
        self.curvesReset.emit(max(summary.epochs, len(shown.history), 1))
        self.historyLoaded.emit(shown.history, shown.batches)
        self._mark_changes(summary.changes, run, summary.parent)

    def _on_run_deleted(self, run: Path) -> None:
        """Forget a deleted run wherever the session still points at it."""
        cont = self.continuation
        if cont is not None and same_run(cont.source_run, run):
            self.cancel_continuation()
        if same_run(self.last_run, run):
            self.last_run = None
        if self.opened is not None and Path(run).resolve() in self.opened.resolve().parents:
            self.opened = self._shown = None
