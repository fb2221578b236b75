"""A run, as a task for the training lane: launch it through the engine's one launch
function, train (or only show a checkpoint), and say how it ended."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_core.data.fetch import DownloadCancelled
from cnn_core.nn.models import model_for_weights, network_spec
from cnn_core.nn.weights import download_weights, missing_weights
from cnn_core.runs.store import read_snapshots
from cnn_core.train.callbacks import RunStatus
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import Continuation, RunKind, launch
from cnn_core.train.trainer import Trainer

from ..runtime.torch_threads import use_training_threads
from ..threads.tasks import TaskState
from .bridge import REPORT_INTERVAL, Bridge, probe, run_info, saved_moment
from .messages import Preparing


@dataclass(frozen=True)
class RunRequest:
    """A fresh run from ``config``, or one that continues ``continuation`` with
    ``config``'s editable settings as edits."""

    config: TrainConfig
    runs_dir: Path
    continuation: Continuation | None = None
    report_interval: float = REPORT_INTERVAL


@dataclass(frozen=True)
class Notice:
    """Something the person should know about how the run was launched."""

    text: str


class RunControls:
    """Pause and edits, from the GUI thread, for whichever trainer is running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self._paused = False

    def attach(self, trainer: Trainer | None) -> None:
        with self._lock:
            self._trainer = trainer
            if trainer is not None and self._paused:
                trainer.pause()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self._paused = paused
            if self._trainer is not None:
                (self._trainer.pause if paused else self._trainer.resume)()

    def request_changes(self, changes: dict[str, Any]) -> None:
        """Raises ValueError("field: reason") if the run refuses them."""
        with self._lock:
            if self._trainer is None:
                raise ValueError("run: the model is still being prepared; try again in a moment")
            self._trainer.request_changes(**changes)


def run_training(state: TaskState, request: RunRequest, controls: RunControls) -> RunStatus:
    use_training_threads()  # idempotent; a helper lane may have lowered the default since
    bridge = Bridge(state.emit)
    cancel = threading.Event()
    state.on_cancel(cancel.set)
    config = request.config
    try:
        if request.continuation is None and config.init_from is None:  # else copied
            for name in missing_weights(network_spec(config.arch, config.network),
                                        config.data_dir):
                download_weights(name, config.data_dir, cancel=cancel, progress=lambda d, t, m:
                                 state.emit(Preparing(d, t, f"Downloading {m}", "MB")))
        launched = launch(config, [bridge], continuation=request.continuation,
                          runs_dir=request.runs_dir, report_interval=request.report_interval,
                          progress=lambda d, t, m: state.emit(Preparing(d, t, m)),
                          cancel=cancel)
    except DownloadCancelled:
        return RunStatus.STOPPED
    if launched.note:
        state.emit(Notice(launched.note))
    trainer = launched.trainer
    bridge.run_dir = launched.run_dir
    if launched.kind == RunKind.INSPECT:
        _show(trainer, bridge, request.continuation, state, launched.missing_data)
        return RunStatus.INSPECTED
    controls.attach(trainer)
    state.on_cancel(trainer.request_stop)
    try:
        return RunStatus.STOPPED if state.cancelled else RunStatus(trainer.fit().status)
    finally:
        controls.attach(None)
        launched.close()


def _show(trainer: Trainer, bridge: Bridge, continuation: Continuation | None,
          state: TaskState, missing_data: str) -> None:
    """Inspect without training: the run's saved snapshots up to the checkpoint, then the
    model as saved, evaluated once on the test set (when its pictures are there)."""
    run = continuation.source_run if continuation is not None else None
    bridge.emit(run_info(trainer, bridge.run_dir, missing_data, history=run))
    if run is not None:
        _replay(trainer, run, bridge, state)
    if trainer.data.has_pictures:
        bridge.checkpoint_details(trainer)
    bridge.snapshot(trainer, trainer.epoch, float(trainer.epoch))


def _replay(trainer: Trainer, run_dir: Path, bridge: Bridge, state: TaskState) -> None:
    """The snapshots saved before the checkpoint's epoch, as time-lapse moments."""
    model = model_for_weights(trainer.model_meta).eval()
    image = probe(trainer).cpu()
    bs = trainer.config.batch_size
    batches = ((len(trainer.data.train) + bs - 1) // bs if trainer.data.has_pictures
               else trainer.global_step // max(trainer.epoch, 1))
    for saved in read_snapshots(run_dir):
        if saved.epoch >= trainer.epoch or state.cancelled:
            continue
        moment = saved_moment(model, saved, image, saved.epoch * batches)
        if moment is not None:  # else not this model's snapshot
            bridge.emit(moment)
