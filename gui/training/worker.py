"""The training run's half that lives in a QThread: engine callbacks in, Qt signals out.

``TrainingWorker.run`` builds the ``Trainer`` and calls ``fit`` in the worker thread. The
``QtBridgeCallback`` turns each engine hook into a signal whose payload is small and
already on the CPU (NumPy arrays, floats): the GUI thread never touches the model.
Controls (stop, pause, resume) are plain method calls from the GUI thread that set
``threading.Event``s the trainer checks between batches.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal, Slot

from cnn_core.train.callbacks import BatchProgress, Callback, EpochMetrics
from cnn_core.runs.checkpoint import CheckpointError, checkpoint_lr, trainer_from_checkpoint
from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DatasetError, DatasetInfo, denormalize
from cnn_core.inspect.analysis import (LayerHealth, conv_filters, feature_maps, layer_health,
                                    predict_proba)
from cnn_core.nn.models import StudioModel, count_parameters, model_for_weights
from cnn_core.runs.recorder import RunRecorder
from cnn_core.runs.store import read_snapshots
from cnn_core.train.trainer import EDITABLE, FitResult, Trainer, TrainingError, evaluate

from ..runtime.torch_threads import use_training_threads


# Five reports a second look live to a person; each one wakes the GUI thread, and on a
# 2-core machine each wake-up takes a core from training (make bench measures the cost).
REPORT_INTERVAL = 0.2
# Weights and probe feature maps are copied for the live views and the time-lapse at
# most this often (and at every epoch's end).
SNAPSHOT_INTERVAL = 1.5
PROBE_BATCH = 256  # training images the layer-health check runs on


@dataclass(frozen=True)
class RunInfo:
    """Sent once the model and data are ready."""

    config: TrainConfig
    model_name: str
    parameters: int
    train_size: int
    test_size: int
    device: str
    dataset: DatasetInfo
    probe_image: np.ndarray  # (C, H, W) in 0..1, the test image the feature maps show
    probe_label: int
    test_images: np.ndarray  # (N, H, W, C) uint8, the whole test set for browsing
    test_labels: np.ndarray  # (N,) int64
    model_meta: dict  # arch, in_channels, num_classes, input_size: to rebuild the model
    run_dir: Path | None = None  # where the run is recorded (None when only inspecting)
    start_epoch: int = 0  # epochs already done when this run began (resume, branch, open)


@dataclass(frozen=True)
class Snapshot:
    """The model's insides at one moment, copied to the CPU."""

    epoch: int  # epochs completed
    progress: float  # epochs completed, with the fraction of the current one
    step: int
    filters: dict[str, np.ndarray]  # conv layer -> (out, in, kh, kw)
    maps: dict[str, np.ndarray]  # conv layer -> (channels, h, w) for the probe image
    probabilities: np.ndarray  # (classes,) the model's prediction for the probe image
    state: dict[str, torch.Tensor]  # a CPU copy of the weights, for inference off the GUI


@dataclass(frozen=True)
class EpochDetails:
    """Per-epoch analysis: every test prediction and the layers' vital signs."""

    epoch: int
    predictions: np.ndarray  # (N,) int64
    confidence: np.ndarray  # (N,) float32
    health: LayerHealth


def take_snapshot(model: StudioModel, probe: torch.Tensor, epoch: int, progress: float,
                  step: int) -> Snapshot:
    """``model`` as the views show it; ``probe`` is the (normalised) image its feature maps
    are of."""
    state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
    return Snapshot(epoch, progress, step, conv_filters(model), feature_maps(model, probe),
                    predict_proba(model, probe)[0], state)


def _uint8_images(images: torch.Tensor, info: DatasetInfo) -> np.ndarray:
    """Normalised (N, C, H, W) -> (N, H, W, C) uint8, what a person sees."""
    pixels = (denormalize(images, info) * 255).round_().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous().cpu().numpy()


class QtBridgeCallback(Callback):
    """Forwards engine events to the worker's signals (called in the worker thread)."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.worker = worker
        self._last_snapshot = 0.0

    def on_train_start(self, trainer: Trainer) -> None:
        self.announce(trainer)
        self.snapshot(trainer, trainer.epoch, float(trainer.epoch))

    def announce(self, trainer: Trainer) -> None:
        """Tell the window what the run is: model, data, device, where it is recorded."""
        test = trainer.data.test
        self.worker.runStarted.emit(RunInfo(
            config=trainer.config, model_name=trainer.model.display_name,
            parameters=count_parameters(trainer.model), train_size=len(trainer.data.train),
            test_size=len(test), device=str(trainer.device),
            dataset=trainer.info,
            probe_image=denormalize(test.images[:1], trainer.info)[0].cpu().numpy(),
            probe_label=int(test.labels[0]),
            test_images=_uint8_images(test.images, trainer.info),
            test_labels=test.labels.cpu().numpy(),
            model_meta=trainer.model_meta, run_dir=self.worker.run_dir,
            start_epoch=trainer.epoch))

    def on_batch_end(self, trainer: Trainer, progress: BatchProgress) -> None:
        self.worker.batchProgress.emit(progress)
        if time.monotonic() - self._last_snapshot >= SNAPSHOT_INTERVAL:
            self.snapshot(trainer, progress.epoch - 1,
                           progress.epoch - 1 + progress.batch / progress.num_batches)

    def on_settings_changed(self, trainer: Trainer, change: dict[str, Any]) -> None:
        self.worker.settingsChanged.emit(change)

    def on_epoch_end(self, trainer: Trainer, metrics: EpochMetrics) -> None:
        self.worker.epochEnded.emit(metrics)
        self.snapshot(trainer, metrics.epoch, float(metrics.epoch))
        self.details(trainer, metrics.epoch)

    def details(self, trainer: Trainer, epoch: int) -> None:
        """Every test prediction and the layers' vital signs, for the analysis panels."""
        probe = trainer.data.train
        health = layer_health(trainer.model, probe.images[:PROBE_BATCH],
                              probe.labels[:PROBE_BATCH])
        self.worker.epochDetails.emit(EpochDetails(
            epoch, trainer.test_predictions.cpu().numpy(),
            trainer.test_confidence.float().cpu().numpy(), health))

    def snapshot(self, trainer: Trainer, epoch: int, progress: float) -> None:
        self._last_snapshot = time.monotonic()
        self.worker.snapshotTaken.emit(take_snapshot(
            trainer.model, trainer.data.test.images[0], epoch, progress, trainer.global_step))


class TrainingWorker(QObject):
    """Runs one training run; create it, move it to a QThread, connect ``started`` to ``run``.

    A fresh run starts from ``config``. With ``checkpoint`` (a loaded checkpoint dict) it
    continues from there instead, with ``config``'s editable settings applied as edits:
    into ``run_dir`` itself to resume a run, into a new ``run_dir`` with ``parent`` set to
    branch, or (``inspect=True``) not at all: the model is only evaluated and shown, after
    the snapshots saved in the run folder ``replay``, for the time-lapse.
    """

    runStarted = Signal(object)  # RunInfo
    batchProgress = Signal(object)  # BatchProgress, at most ~10 per second
    epochEnded = Signal(object)  # EpochMetrics
    snapshotTaken = Signal(object)  # Snapshot: at the start, every ~1.5 s, after every epoch
    epochDetails = Signal(object)  # EpochDetails, after every epoch
    settingsChanged = Signal(object)  # dict: an entry of Trainer.changes, as it takes effect
    failed = Signal(str)  # a plain-language reason
    finished = Signal(str)  # "completed", "stopped", "inspected" or "failed"; always last

    def __init__(self, config: TrainConfig, report_interval: float = REPORT_INTERVAL, *,
                 run_dir: Path | None = None, checkpoint: dict[str, Any] | None = None,
                 parent: Path | None = None, inspect: bool = False,
                 replay: Path | None = None) -> None:
        super().__init__()
        self.config = config
        self.report_interval = report_interval
        self.run_dir = None if inspect else run_dir
        self.checkpoint = checkpoint
        self.parent_run = parent
        self.inspect = inspect
        self.replay = replay
        self._trainer: Trainer | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._paused = False

    def _build_trainer(self, bridge: QtBridgeCallback) -> Trainer:
        callbacks: list[Callback] = [bridge]
        if self.run_dir is not None:  # first: the files are written before the window hears
            callbacks.insert(0, RunRecorder(self.run_dir, parent=self.parent_run))
        if self.checkpoint is None:
            return Trainer(self.config, callbacks, report_interval=self.report_interval)
        # the learning rate edited is the one the run had reached, after the schedule's cuts
        saved = {**self.checkpoint["config"], "lr": checkpoint_lr(self.checkpoint)}
        edits = {k: getattr(self.config, k) for k in (*EDITABLE, "device", "data_dir")
                 if getattr(self.config, k) != saved.get(k)}
        if self.inspect:
            edits = {"device": self.config.device, "data_dir": self.config.data_dir}
        trainer = trainer_from_checkpoint(self.checkpoint, callbacks, **edits)
        trainer.report_interval = self.report_interval
        return trainer

    @Slot()
    def run(self) -> None:
        status = "failed"
        use_training_threads()
        try:
            bridge = QtBridgeCallback(self)
            trainer = self._build_trainer(bridge)
            with self._lock:
                self._trainer = trainer
                if self._paused:
                    trainer.pause()
            if self.inspect:
                self._show(trainer, bridge)
                status = "inspected"
            elif not self._stop.is_set():
                result: FitResult = trainer.fit()
                status = result.status
            else:
                status = "stopped"
        except (TrainingError, DatasetError, CheckpointError, ValueError, OSError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: keep the window alive and say what happened
            traceback.print_exc(file=sys.stderr)
            self.failed.emit(f"unexpected error: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._trainer = None
            self.finished.emit(status)

    def _show(self, trainer: Trainer, bridge: QtBridgeCallback) -> None:
        """Inspect without training: the run's saved snapshots up to the checkpoint, then
        the model as saved, evaluated once on the test set."""
        bridge.announce(trainer)
        if self.replay is not None:
            self._replay(trainer, self.replay)
        bridge.snapshot(trainer, trainer.epoch, float(trainer.epoch))
        result = evaluate(trainer.model, trainer.data.test, trainer.criterion)
        trainer.test_predictions, trainer.test_confidence = result.predictions, result.confidence
        bridge.details(trainer, trainer.epoch)

    def _replay(self, trainer: Trainer, run_dir: Path) -> None:
        """The snapshots saved before the checkpoint's epoch, as time-lapse moments."""
        model = model_for_weights(trainer.model_meta).eval()
        probe = trainer.data.test.images[0].cpu()
        bs = trainer.config.batch_size
        batches = (len(trainer.data.train) + bs - 1) // bs
        for saved in read_snapshots(run_dir):
            if saved.epoch >= trainer.epoch or self._stop.is_set():
                continue
            try:
                model.load_state_dict({k: torch.from_numpy(v) for k, v in saved.state.items()})
            except (RuntimeError, KeyError):
                continue  # not this model's snapshot
            self.snapshotTaken.emit(take_snapshot(model, probe, saved.epoch,
                                                  float(saved.epoch), saved.epoch * batches))

    # -- controls, called from the GUI thread --------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._trainer is not None:
                self._trainer.request_stop()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self._paused = paused
            if self._trainer is not None:
                (self._trainer.pause if paused else self._trainer.resume)()

    def request_changes(self, changes: dict[str, Any]) -> None:
        """Edit settings of the paused run; raises ValueError("field: reason") if refused."""
        with self._lock:
            if self._trainer is None:
                raise ValueError("run: the model is still being prepared; try again in a moment")
            self._trainer.request_changes(**changes)
