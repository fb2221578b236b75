"""Writes a run to its folder as it trains (the layout: :mod:`cnn_core.runs.store`).

Every file is replaced atomically, so a run killed at any moment leaves readable files.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write_text, remove_orphans
from ..train.callbacks import (BatchProgress, Callback, EpochMetrics, FitResult, RunStatus,
                               SettingsChange, TrainerView, best_epoch)
from .checkpoint import save_checkpoint
from .lock import RunLock
from ..inspect.analysis import conv_filters
from ..nn.models import StudioModel
from ..train.trainer import TrainingError
from .snapshots import SnapshotWriter, compact, frozen_state
from .store import (METRIC_COLUMNS, BatchLog, RunError, RunSummary, batches_csv, read_batches,
                   read_summary, write_summary)

__all__ = ["METRIC_COLUMNS", "RunRecorder", "metrics_csv"]


def metrics_csv(history: list[EpochMetrics]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for m in history:
        writer.writerow(m.as_dict())
    return buf.getvalue()


def default_name(trainer: TrainerView, parent: dict[str, Any] | None = None) -> str:
    """What a run is called until renamed: what sets it apart at a glance."""
    c = trainer.config
    name = f"{c.arch} {c.optimizer} lr {c.lr:g}"
    if c.sweep is not None:
        name = f"{c.sweep['name']} trial {c.sweep['trial']}: {name}"
    return f"{name} (branch @ {parent['epoch']})" if parent else name


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


class RunRecorder(Callback):
    """Keeps ``run_dir`` up to date: config and summary at the start, the per-batch log,
    metrics, checkpoints and a filters snapshot after every epoch, the status at the end.

    Resuming into an existing folder keeps its name, creation time and everything logged up
    to the checkpoint. A branch (``parent`` = the parent's run folder) starts a new folder
    that inherits the parent's batch log up to the branch point.

    The summary never claims an epoch before its checkpoint is on disk. A write that fails
    (a full disk) stops the run with a :class:`TrainingError` naming the reason, leaving the
    last complete checkpoint. ``lock``, the folder's writer lock, is released when the
    run ends.
    """

    def __init__(self, run_dir: str | Path, *, parent: str | Path | None = None,
                 name: str | None = None, lock: RunLock | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.parent = Path(parent) if parent is not None else None
        self.name = name
        self.lock = lock
        self._saved_epoch = 0  # the epoch of the checkpoint last written
        self._steps: list[int] = []
        self._epochs: list[int] = []
        self._losses: list[float] = []
        self._lrs: list[float] = []
        self.summary: RunSummary | None = None
        self._snapshots = SnapshotWriter(self.run_dir / "snapshots")

    @property
    def checkpoints(self) -> Path:
        return self.run_dir / "checkpoints"

    # -- hooks ---------------------------------------------------------------------------

    def on_train_start(self, trainer: TrainerView) -> None:
        self._saved_epoch = trainer.epoch
        self._saving("start the run", lambda: self._start(trainer))

    def _start(self, trainer: TrainerView) -> None:
        config = trainer.config
        for folder in (self.run_dir, self.checkpoints, self.run_dir / "snapshots"):
            remove_orphans(folder)
        try:
            summary = read_summary(self.run_dir) if (self.run_dir / "summary.json").is_file() \
                else None
        except RunError:
            summary = None
        if summary is None:
            parent: dict[str, Any] | None = None
            if self.parent is not None:
                parent = {"run": self.parent.name, "epoch": trainer.epoch,
                          "step": trainer.global_step}
            summary = RunSummary(path=self.run_dir, name=self.name or default_name(trainer,
                                                                                   parent),
                                 arch=config.arch, dataset=config.dataset, created=_now(),
                                 parent=parent)
        summary.class_names = list(trainer.info.class_names)
        summary.device, summary.status, summary.note = str(trainer.device), RunStatus.RUNNING, ""
        summary.epochs = config.epochs
        summary.changes = list(trainer.changes)
        summary.sweep = config.sweep
        summary.init_from = config.init_from if isinstance(config.init_from, dict) else None
        self.summary = summary
        # Keep what was logged up to the point this run continues from.
        source = self.run_dir if (self.run_dir / "batches.csv").is_file() else self.parent
        if source is not None:
            try:
                log = read_batches(source)
            except RunError:
                log = None
            if log is not None:
                log = log.upto(trainer.global_step)
                self._steps, self._epochs = log.step.tolist(), log.epoch.tolist()
                self._losses, self._lrs = log.loss.tolist(), log.lr.tolist()
        self._write_config(trainer)
        self._write_summary(trainer)
        if not self._snapshots.path(trainer.epoch).is_file():  # a new run, or a branch's start
            self._write_snapshot(trainer)

    def on_batch_end(self, trainer: TrainerView, p: BatchProgress) -> None:
        first = p.first_step
        self._steps.extend(range(first, first + len(p.losses)))
        self._epochs.extend([p.epoch] * len(p.losses))
        self._losses.extend(p.losses)
        self._lrs.extend(p.lrs if len(p.lrs) == len(p.losses) else [p.lr] * len(p.losses))

    def on_settings_changed(self, trainer: TrainerView, change: SettingsChange) -> None:
        def write() -> None:
            self._write_config(trainer)
            if self.summary is not None:
                self.summary.changes = list(trainer.changes)
                self.summary.epochs = trainer.config.epochs
                self._write_summary(trainer)
        self._saving("save the changed settings", write)

    def on_epoch_end(self, trainer: TrainerView, metrics: EpochMetrics) -> None:
        self._saving(f"save epoch {metrics.epoch}", lambda: self._save_epoch(trainer, metrics))

    def _save_epoch(self, trainer: TrainerView, metrics: EpochMetrics) -> None:
        """The epoch's own files first, its checkpoint next, the summary that counts it
        last: a failure at any point leaves a summary that claims only what was saved."""
        atomic_write_text(self.run_dir / "metrics.csv", metrics_csv(trainer.history))
        self._write_batches()
        self._write_snapshot(trainer)
        state = trainer.state_dict()
        if best_epoch(trainer.history) is metrics:
            save_checkpoint(state, self.checkpoints / "best.pt")
        save_checkpoint(state, self.checkpoints / "last.pt")
        self._saved_epoch = metrics.epoch
        self._write_summary(trainer)

    def on_train_end(self, trainer: TrainerView, result: FitResult) -> None:
        try:
            self._saving("finish the run", lambda: (
                self._write_summary(trainer, result.status, note=result.note),
                self._write_batches()))
        except TrainingError:
            self._mark_failed(trainer)
            raise
        finally:
            self.close()

    def on_exception(self, trainer: TrainerView, exc: BaseException) -> None:
        try:
            self._mark_failed(trainer)
        finally:
            self.close()

    @property
    def _folder_removed(self) -> bool:
        """The run began, and its folder is gone since: it is not made again."""
        return self.summary is not None and not self.run_dir.is_dir()

    def _mark_failed(self, trainer: TrainerView) -> None:
        if self._folder_removed:
            return  # nothing to mark
        try:
            self._write_summary(trainer, status=RunStatus.FAILED)
            self._write_batches()
        except OSError:
            pass  # the run's own error is the one to report

    def close(self) -> None:
        """Let other writers at the folder (when the run has ended)."""
        if self.lock is not None:
            self.lock.release()

    def _saving(self, what: str, write: Callable[[], object]) -> None:
        """Run ``write``; a failed write becomes a TrainingError that says what was kept,
        and a run folder removed since the run began one that says so."""
        if self._folder_removed:
            raise TrainingError(f"the run folder {self.run_dir} was removed while training; "
                                "nothing more is written")
        try:
            write()
        except OSError as exc:
            reason = ("no space left on the device" if exc.errno == errno.ENOSPC
                      else exc.strerror or str(exc))
            kept = (f"its last complete checkpoint (epoch {self._saved_epoch}) is kept"
                    if self._saved_epoch else "no epoch had been saved yet")
            raise TrainingError(f"could not {what} in {self.run_dir}: {reason}. The run "
                                f"stopped; {kept}.") from exc

    # -- files ---------------------------------------------------------------------------

    def _write_config(self, trainer: TrainerView) -> None:
        atomic_write_text(self.run_dir / "config.json",
                          json.dumps(trainer.config.to_dict(), indent=2) + "\n")

    def _write_batches(self) -> None:
        log = BatchLog(np.asarray(self._steps, dtype=np.int64),
                       np.asarray(self._epochs, dtype=np.int64),
                       np.asarray(self._losses, dtype=np.float64),
                       np.asarray(self._lrs, dtype=np.float64))
        atomic_write_text(self.run_dir / "batches.csv", batches_csv(log))

    def _write_snapshot(self, trainer: TrainerView) -> None:
        """The weights, in half precision (a quarter of a checkpoint: no optimizer state),
        so the time-lapse of a past run can be replayed; what does not train, once."""
        model = trainer.model
        arrays = {f"filters/{k}": compact(v) for k, v in conv_filters(model).items()}
        for key, tensor in model.state_dict().items():
            value = tensor.detach().cpu().numpy()
            arrays[f"state/{key}"] = compact(value) if value.dtype.kind == "f" else value
        self._snapshots.write(trainer.epoch, arrays, _unchanging(model))

    def _write_summary(self, trainer: TrainerView, status: RunStatus | None = None,
                       note: str = "") -> None:
        summary = self.summary
        assert summary is not None
        saved = [m for m in trainer.history if m.epoch <= self._saved_epoch]
        best = best_epoch(saved)
        summary.epochs_done = self._saved_epoch
        summary.epochs = trainer.config.epochs
        summary.best_test_acc = best.test_acc if best else None
        summary.best_epoch = best.epoch if best else None
        summary.train_seconds = sum(m.seconds for m in saved)
        summary.updated = _now()
        if status is not None:
            summary.status, summary.note = status, note
        write_summary(summary)



def _unchanging(model: StudioModel) -> set[str]:
    """The snapshot keys not meant to change while training (see :func:`frozen_state`)."""
    frozen = frozen_state(model)
    return {f"state/{key}" for key in frozen} | {
        f"filters/{name}" for name, _ in model.conv_layers()
        if f"features.{name}.weight" in frozen}
