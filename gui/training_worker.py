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
import traceback
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from cnn_core.callbacks import BatchProgress, Callback, EpochMetrics
from cnn_core.config import TrainConfig
from cnn_core.data import DatasetError, DatasetInfo, denormalize
from cnn_core.introspection import conv_filters, feature_maps, predict_proba
from cnn_core.models import count_parameters
from cnn_core.trainer import FitResult, Trainer, TrainingError

from .torch_threads import use_training_threads


# Ten reports a second look live to a person; each one wakes the GUI thread, and on a
# 2-core machine each wake-up takes a core from training (make bench measures the cost).
REPORT_INTERVAL = 0.2


@dataclass(frozen=True)
class RunInfo:
    """Sent once the model and data are ready."""

    config: TrainConfig
    model_name: str
    parameters: int
    train_size: int
    test_size: int
    device: str
    num_batches: int
    dataset: DatasetInfo
    probe_image: np.ndarray  # (C, H, W) in 0..1, the test image the feature maps show
    probe_label: int


@dataclass(frozen=True)
class Snapshot:
    """The model's insides at one moment, copied to the CPU."""

    epoch: int
    step: int
    filters: dict[str, np.ndarray]  # conv layer -> (out, in, kh, kw)
    maps: dict[str, np.ndarray]  # conv layer -> (channels, h, w) for the probe image
    probabilities: np.ndarray  # (classes,) the model's prediction for the probe image


def take_snapshot(trainer: Trainer, epoch: int) -> Snapshot:
    probe = trainer.data.test.images[0]
    return Snapshot(epoch, trainer.global_step, conv_filters(trainer.model),
                    feature_maps(trainer.model, probe), predict_proba(trainer.model, probe)[0])


class QtBridgeCallback(Callback):
    """Forwards engine events to the worker's signals (called in the worker thread)."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.worker = worker

    def on_train_start(self, trainer: Trainer) -> None:
        test = trainer.data.test
        bs = trainer.config.batch_size
        self.worker.runStarted.emit(RunInfo(
            config=trainer.config, model_name=trainer.model.display_name,
            parameters=count_parameters(trainer.model), train_size=len(trainer.data.train),
            test_size=len(test), device=str(trainer.device),
            num_batches=(len(trainer.data.train) + bs - 1) // bs, dataset=trainer.info,
            probe_image=denormalize(test.images[:1], trainer.info)[0].cpu().numpy(),
            probe_label=int(test.labels[0])))
        self.worker.snapshotTaken.emit(take_snapshot(trainer, 0))

    def on_batch_end(self, trainer: Trainer, progress: BatchProgress) -> None:
        self.worker.batchProgress.emit(progress)

    def on_epoch_end(self, trainer: Trainer, metrics: EpochMetrics) -> None:
        self.worker.epochEnded.emit(metrics)
        self.worker.snapshotTaken.emit(take_snapshot(trainer, metrics.epoch))


class TrainingWorker(QObject):
    """Runs one training run; create it, move it to a QThread, connect ``started`` to ``run``."""

    runStarted = Signal(object)  # RunInfo
    batchProgress = Signal(object)  # BatchProgress, at most ~10 per second
    epochEnded = Signal(object)  # EpochMetrics
    snapshotTaken = Signal(object)  # Snapshot, at the start and after every epoch
    failed = Signal(str)  # a plain-language reason
    finished = Signal(str)  # "completed", "stopped" or "failed"; always the last signal

    def __init__(self, config: TrainConfig, report_interval: float = REPORT_INTERVAL) -> None:
        super().__init__()
        self.config = config
        self.report_interval = report_interval
        self._trainer: Trainer | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._paused = False

    @Slot()
    def run(self) -> None:
        status = "failed"
        use_training_threads()
        try:
            trainer = Trainer(self.config, [QtBridgeCallback(self)],
                              report_interval=self.report_interval)
            with self._lock:
                self._trainer = trainer
                if self._paused:
                    trainer.pause()
            if not self._stop.is_set():
                result: FitResult = trainer.fit()
                status = result.status
            else:
                status = "stopped"
        except (TrainingError, DatasetError, ValueError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: keep the window alive and say what happened
            traceback.print_exc(file=sys.stderr)
            self.failed.emit(f"unexpected error: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._trainer = None
            self.finished.emit(status)

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
