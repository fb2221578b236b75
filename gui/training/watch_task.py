"""Watching a run that another process writes (the command line, a torchrun job, a run on
a synced disk), as a task for the training lane: the messages a run trained here sends,
made from the run's files as they appear, so that every panel follows it.

The task sleeps on ``wake``: the window's file watcher sets it when the folder changes,
and every :data:`POLL_INTERVAL` it looks anyway (file events do not cross network disks).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_core.data import DatasetError, resolve
from cnn_core.nn.models import model_for_weights
from cnn_core.runs.checkpoint import CheckpointError, load_checkpoint
from cnn_core.runs.follow import FolderKind, RunFollower, RunUpdate, folder_kind
from cnn_core.runs.lock import is_being_written
from cnn_core.runs.store import (BatchLog, RunError, read_config, read_snapshot,
                                 snapshot_epoch)
from cnn_core.train.callbacks import BatchProgress, EpochMetrics, RunStatus
from cnn_core.train.config import TrainConfig
from cnn_core.train.trainer import Trainer

from ..runtime.torch_threads import use_training_threads
from ..threads.tasks import TaskState
from .bridge import Bridge, run_info, saved_moment
from .run_task import Notice

POLL_INTERVAL = 2.0  # seconds between looks when no file event comes


@dataclass(frozen=True)
class WatchRequest:
    run_dir: Path
    data_dir: Path  # where the run's dataset is looked for, to show inside the network


@dataclass(frozen=True)
class WatchStarted:
    """The watched run was found, or its files were rewritten from the top (a resume):
    what follows starts the curves afresh."""

    run_dir: Path
    epochs: int
    config: TrainConfig  # the run's own settings, as it records them


@dataclass(frozen=True)
class WatchProgress:
    """How far the watched run is, for the status bar."""

    name: str
    epochs_done: int
    epochs: int
    updated: float  # time.time() of the run's latest write
    note: str = ""  # what is not followed, and why


def watch_run(state: TaskState, request: WatchRequest, wake: threading.Event) -> RunStatus:
    """Follow ``request.run_dir`` until its summary says the run ended (its status is
    returned) or until cancelled (RUNNING: the run goes on without the window). Raises
    ValueError for a folder that holds something other than a run."""
    use_training_threads()  # idempotent; a helper lane may have lowered the default since
    state.on_cancel(wake.set)
    config = _wait_for_run(state, request.run_dir, wake)
    if config is None:
        return RunStatus.RUNNING
    watch = RunWatch(state, request.run_dir, config, request.data_dir)
    follower = RunFollower(request.run_dir)
    while not state.cancelled:
        update = follower.poll()
        watch.take(update)
        if update.finished and not _still_written(request.run_dir):
            watch.finish()
            return RunStatus(update.summary.status)
        _sleep(wake)
    return RunStatus.RUNNING


def _still_written(run_dir: Path) -> bool:
    """Whether the writer still holds the folder: after its final summary it saves its last
    batches, then lets go. A disk without locks (some network ones) cannot tell: no."""
    try:
        return is_being_written(run_dir)
    except OSError:
        return False


def _sleep(wake: threading.Event) -> None:
    wake.wait(POLL_INTERVAL)
    wake.clear()  # before the next look: an event during it wakes the following sleep


def _wait_for_run(state: TaskState, run_dir: Path,
                  wake: threading.Event) -> TrainConfig | None:
    """The run's settings, once a run has started in ``run_dir``; None if cancelled."""
    said = ""
    while not state.cancelled:
        kind = folder_kind(run_dir)
        if kind == FolderKind.RUNS:
            raise ValueError("it holds runs, each in a folder of its own: choose one of them")
        if kind == FolderKind.FILE:
            raise ValueError("it is a file, not a run's folder: choose the folder of a run, "
                             "or an empty one to wait for a run to start in it")
        if kind == FolderKind.OTHER:
            raise ValueError("it holds files that are not a run's: choose a run "
                             "folder, or an empty one to wait for a run to start in it")
        text = f"Waiting for a run to start in {run_dir}…"
        if kind == FolderKind.RUN:
            try:
                return read_config(run_dir)
            except RunError as exc:  # caught being written, or damaged: look again
                text = f"Waiting for the run's settings to be readable: {exc}"
        if text != said:
            state.emit(Notice(text))
            said = text
        _sleep(wake)
    return None


class RunWatch:
    """Turns what a :class:`RunFollower` reports into the messages of a run trained here.

    With the run's dataset at hand, each new ``checkpoints/last.pt`` is evaluated on the
    test set (the per-epoch details of the analysis panels) and each snapshot becomes a
    time-lapse moment; without it only the curves follow.
    """

    def __init__(self, state: TaskState, run_dir: Path, config: TrainConfig,
                 data_dir: Path) -> None:
        self.state, self.run_dir, self.recorded = state, run_dir, config
        self.config = dataclasses.replace(config, device="cpu", data_dir=str(data_dir))
        self.bridge = Bridge(state.emit, run_dir)
        self.note = ""
        self.trainer = self._trainer(data_dir)
        self._snapshot_model = (model_for_weights(self.trainer.model_meta).eval()
                                if self.trainer is not None else None)
        self.epochs = config.epochs  # the summary's, once read: a run may be lengthened
        self._progress: WatchProgress | None = None
        self._begin(config.epochs)

    def _trainer(self, data_dir: Path) -> Trainer | None:
        c = self.config
        source = resolve(c)
        problem = source.problem(data_dir)
        if problem is not None:
            self.note = f"curves only: {problem}"
            return None
        try:
            bundle = source.load_for(c, progress=self.state.throttled_progress(),
                                     cancel=self.state.cancel_event)
            trainer = Trainer(c, [], data=bundle)
        except (DatasetError, OSError, ValueError) as exc:
            self.note = f"curves only: {exc}"
            return None
        trainer.keep_hidden = True
        return trainer

    def _begin(self, epochs: int) -> None:
        """Start (again) from nothing: the curves, the time-lapse, the pending rows."""
        self._rows: list[BatchLog] = []  # batch rows waiting for their epoch's metrics
        self._metrics: dict[int, EpochMetrics] = {}
        self._steps: dict[int, int] = {0: 0}  # epoch -> global step at its end
        self._counts: dict[int, int] = {}  # epoch -> batches
        self._snapshots: list[Path] = []  # waiting for the summary to count their epoch
        self._changes = 0
        self.state.emit(WatchStarted(self.run_dir, epochs, self.recorded))
        if self.trainer is not None:
            self.state.emit(run_info(self.trainer, self.run_dir))

    def take(self, update: RunUpdate) -> None:
        """Emit what ``update`` brings, in the order a run trained here would."""
        summary = update.summary
        if update.reset:
            self._begin(summary.epochs if summary is not None else self.epochs)
        if summary is not None:
            self.epochs = summary.epochs or self.epochs
            for change in summary.changes[self._changes:]:
                self.state.emit(change)
            self._changes = len(summary.changes)
        if len(update.batches):
            self._rows.append(update.batches)
        for m in update.metrics:
            self._metrics[m.epoch] = m
            self._emit_batches(upto=m.epoch)
            self.state.emit(m)
        self._emit_batches(upto=max(self._metrics, default=0))  # rows late for their epoch
        if update.checkpoint is not None:
            self._show_checkpoint(update.checkpoint)
        self._snapshots += update.snapshots
        self._emit_snapshots(upto=summary.epochs_done if summary is not None else 0)
        if summary is not None:
            self._emit_progress(WatchProgress(summary.name, summary.epochs_done,
                                              summary.epochs, update.updated, self.note))

    def finish(self) -> None:
        """What is left once the run has ended: a stopped epoch's batches, every snapshot."""
        self._emit_batches(upto=None)
        self._emit_snapshots(upto=None)

    def _emit_progress(self, progress: WatchProgress) -> None:
        if progress != self._progress:
            self._progress = progress
            self.state.emit(progress)

    def _emit_batches(self, upto: int | None) -> None:
        """One report per epoch, of its rows, for the epochs up to ``upto`` (all: None)."""
        if not self._rows:
            return
        log = BatchLog(*(np.concatenate([getattr(r, k) for r in self._rows])
                         for k in ("step", "epoch", "loss", "lr")))
        due = np.ones(len(log), bool) if upto is None else log.epoch <= upto
        for epoch in np.unique(log.epoch[due]).tolist():
            rows = log.epoch == epoch
            self.state.emit(self._report(epoch, log.step[rows], log.loss[rows], log.lr[rows]))
        left = ~due
        self._rows = ([BatchLog(log.step[left], log.epoch[left], log.loss[left], log.lr[left])]
                      if left.any() else [])

    def _report(self, epoch: int, steps: np.ndarray, losses: np.ndarray,
                lrs: np.ndarray) -> BatchProgress:
        m = self._metrics.get(epoch)
        # an epoch the run stopped in is drawn as part of one as long as the one before
        count = len(steps) if m is not None else max(len(steps),
                                                     self._counts.get(epoch - 1, 0))
        self._counts[epoch] = count
        self._steps[epoch] = int(steps[-1])
        return BatchProgress(epoch, self.epochs, len(steps), count, int(steps[-1]),
                             losses.tolist(), m.train_acc if m else 0.0, float(lrs[-1]),
                             m.images_per_sec if m else 0.0,
                             sum(x.seconds for e, x in self._metrics.items() if e <= epoch),
                             lrs.tolist())

    def _show_checkpoint(self, path: Path) -> None:
        """The latest checkpoint, evaluated as an opened one is: the analysis panels'
        details for its epoch (before that epoch's snapshot, which they may read)."""
        trainer = self.trainer
        if trainer is None:
            return
        try:
            state = load_checkpoint(path)
            trainer.model.load_state_dict(state["model"])
        except (CheckpointError, RuntimeError, KeyError):
            return  # caught being replaced on a synced disk: it changes again, and is read
        trainer.epoch = int(state["epoch"])
        self.bridge.checkpoint_details(trainer)

    def _emit_snapshots(self, upto: int | None) -> None:
        """Time-lapse moments of the snapshots of epochs up to ``upto`` (all: None)."""
        due = [p for p in self._snapshots if upto is None or snapshot_epoch(p) <= upto]
        self._snapshots = [p for p in self._snapshots if p not in due]
        model = self._snapshot_model
        for path in due:
            saved = read_snapshot(path)  # None while part-written: it changes, and comes again
            if model is None or saved is None or self.state.cancelled:
                continue
            moment = saved_moment(model, saved, self.trainer.data.test.images[0].cpu(),
                                  self._steps.get(saved.epoch, 0))
            if moment is not None:  # else not this model's snapshot
                self.state.emit(moment)
