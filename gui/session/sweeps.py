"""Sweeps in the window, off the GUI thread.

A sweep runs as one task on a lane of its own: the study is made or joined
(:func:`cnn_core.sweep.prepare_sweep`), the data read once, then a
:class:`cnn_core.sweep.SweepRunner` trains its trials there, with torch's full team of
threads as the training lane's run has, and its events come to the GUI thread as signals.
Stop (or closing the window) stops the running trial at its next batch: its run is
recorded as stopped and the study's trial as failed, so no trial is left running.

The study is read (:func:`cnn_core.sweep.read_sweep`) on a second lane, one read at a time
and at most one every :data:`READ_GAP_MS`: a read takes 30 to 300 ms with the importances,
too long for the GUI thread, and a view may ask for one on every event.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import optuna
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

from cnn_core.data.folders import DecodeCancelled
from cnn_core.data.source import resolve
from cnn_core.sweep import (SweepError, SweepOutcome, SweepReport, SweepRequest, SweepRunner,
                            SweepSettings, list_sweeps, prepare_sweep, read_sweep, storage_url)
from cnn_core.train.callbacks import BatchProgress, Callback, EpochMetrics, TrainerView

from ..runtime.collector import hold_full_collections, release_full_collections
from ..runtime.torch_threads import use_training_threads
from ..threads.tasks import Lane, Task, TaskState
from .runs_model import RunsModel

READ_GAP_MS = 500  # the least time between two reads of a study


@dataclass(frozen=True)
class SweepJob:
    """A sweep to start or join: ``networks`` holds the person's networks that the space's
    ``arch`` names, by the file name it uses for them (``my_net.json``)."""

    request: SweepRequest
    runs_dir: Path
    jobs: int = 1
    networks: Mapping[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepBegun:
    """The study is made (or joined) with these settings; its trials are about to train."""

    settings: SweepSettings
    storage: str


class TrialReports(Callback):
    """A trial's batch reports (a few a second) and epoch results, for the live curves:
    what the trainer hands its callbacks anyway, so following a trial costs it nothing."""

    def __init__(self, emit: Callable[[object], None]) -> None:
        self.emit = emit

    def on_batch_end(self, trainer: TrainerView, progress: BatchProgress) -> None:
        self.emit(progress)

    def on_epoch_end(self, trainer: TrainerView, metrics: EpochMetrics) -> None:
        self.emit(metrics)


def network_file(name: str, taken: set[str]) -> str:
    """A file name for a person's network called ``name`` (``my net`` -> ``my_net.json``),
    unlike those ``taken``; the space's ``arch`` names it, as a space file would."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-") or "network"
    file, n = f"{stem}.json", 1
    while file in taken:
        n += 1
        file = f"{stem}-{n}.json"
    return file


def run_sweep(state: TaskState, job: SweepJob) -> SweepOutcome | None:
    """Make or join the study, read the data, train trials until the study has enough
    (None: cancelled before the first trial). SweepError says in a line why it cannot."""
    use_training_threads()  # idempotent; a helper lane may have lowered the default since
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the view says what happens
    request = job.request
    url = storage_url(request.name, None, job.runs_dir)
    if job.networks:  # the core reads a space's networks from files beside it
        with tempfile.TemporaryDirectory() as folder:
            for file, spec in job.networks.items():
                (Path(folder) / file).write_text(json.dumps(spec), encoding="utf-8")
            space = Path(folder) / "space.json"
            space.write_text(json.dumps(dict(request.space or {})), encoding="utf-8")
            settings = prepare_sweep(replace(request, space=space), url, job.runs_dir)
    else:
        settings = prepare_sweep(request, url, job.runs_dir)
    state.emit(SweepBegun(settings, url))
    try:
        data = resolve(settings.base).load_for(settings.base,
                                               progress=state.throttled_progress(),
                                               cancel=state.cancel_event)
    except DecodeCancelled:
        return None
    if state.cancelled:
        return None
    runner = SweepRunner(settings, url, runs_dir=job.runs_dir, jobs=job.jobs, data=data,
                         on_event=state.emit, callbacks=lambda _started: [TrialReports(state.emit)])
    state.on_cancel(runner.stop)
    return runner.run()


def read_study(_state: TaskState, name: str, runs_dir: Path) -> SweepReport:
    """The sweep's report; any failure of the storage is a SweepError line (a read is
    tried again on the next event or poll)."""
    try:
        return read_sweep(name, None, runs_dir)
    except SweepError:
        raise
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and the drivers fail in many ways
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SweepError(f"cannot read the sweep {name}: {reason}") from None


class SweepService(QObject):
    """Runs one sweep at a time and reads studies for the Sweeps view."""

    begun = Signal(SweepBegun)
    event = Signal(object)  # a cnn_core.sweep SweepEvent: TrialStarted, TrialEpoch, ...
    trialReport = Signal(object)  # the running trial's BatchProgress or EpochMetrics
    progressed = Signal(str)  # what the sweep does before its first trial
    refused = Signal(str)  # one line: why the sweep could not start or went on no more
    ended = Signal(object)  # SweepOutcome, or None (refused, or stopped before a trial)
    reportRead = Signal(SweepReport)
    readFailed = Signal(str, str)  # the sweep's name, why

    def __init__(self, runs: RunsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self._lane = Lane("SweepThread", self, set_up=use_training_threads)
        self._reader = Lane("SweepReadThread", self)
        self._task: Task | None = None
        self._outcome: SweepOutcome | None = None
        self._reading = False
        self._wanted: str | None = None  # the sweep to read once the gap has passed
        self._gap = QTimer(self, singleShot=True, interval=READ_GAP_MS)
        self._gap.timeout.connect(self._read_wanted)

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def runs_dir(self) -> Path:
        return Path(self.runs.folder)

    def sweeps(self) -> list[str]:
        """The names of the sweeps in the runs folder (a directory listing: cheap)."""
        return [p.name for p in list_sweeps(self.runs_dir)]

    def start(self, job: SweepJob) -> bool:
        """Start ``job`` (False while a sweep runs); ``begun`` follows, or ``refused``,
        then events, then ``ended``."""
        if self.running:
            return False
        task = Task(run_sweep, job)
        task.message.connect(self._on_message)
        task.progressed.connect(self._on_progress)
        task.succeeded.connect(self._on_succeeded)
        task.failed.connect(self._on_failed)
        task.finished.connect(self._on_finished)
        self._task, self._outcome = task, None
        hold_full_collections()  # as for a run: no full collection while trials train
        self._lane.start(task)
        return True

    def stop(self) -> None:
        """Stop the running trial at its next batch and start no other."""
        if self._task is not None:
            self._task.cancel()

    def read(self, name: str) -> None:
        """Read the sweep ``name`` (``reportRead`` or ``readFailed`` follows); asked again
        while a read is under way, the newest wish is read once it ends."""
        self._wanted = name
        if not self._reading and not self._gap.isActive():
            self._read_wanted()

    def _read_wanted(self) -> None:
        name, self._wanted = self._wanted, None
        if name is None:
            return
        self._reading = True
        self._reader.run(read_study, name, self.runs_dir,
                         on_done=self._on_read, on_error=lambda exc: self._on_read_failed(
                             name, exc))

    def _on_read(self, report: SweepReport) -> None:
        self._reading = False
        self._gap.start()
        self.reportRead.emit(report)

    def _on_read_failed(self, name: str, exc: Exception) -> None:
        self._reading = False
        self._gap.start()
        self.readFailed.emit(name, _line(exc))

    def _on_message(self, message: object) -> None:
        if isinstance(message, SweepBegun):
            self.begun.emit(message)
        elif isinstance(message, (BatchProgress, EpochMetrics)):
            self.trialReport.emit(message)
        else:
            self.event.emit(message)

    def _on_progress(self, done: float, total: float, text: str) -> None:
        share = f" ({done / total:.0%})" if total else ""
        self.progressed.emit(f"Reading the data{share}…" if not text else
                             f"Reading the data: {text}{share}…")

    def _on_succeeded(self, outcome: SweepOutcome | None) -> None:
        self._outcome = outcome

    def _on_failed(self, exc: Exception) -> None:
        self.refused.emit(_line(exc))

    def _on_finished(self) -> None:
        self._task = None
        release_full_collections()
        self.ended.emit(self._outcome)

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop a sweep under way (its trial recorded as stopped) and end both threads;
        True if none is left running."""
        self._gap.stop()
        ended = self._lane.shutdown(timeout_ms) and self._reader.shutdown(timeout_ms)
        if ended:  # the sweep's last events and its end are queued: deliver them now
            QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        return ended


def _line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
