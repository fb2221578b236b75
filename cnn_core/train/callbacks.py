"""The only way the outside world sees a training run: no-op hooks to override.

The trainer calls every hook in its own thread. A hook must be quick and must not keep
references to device tensors; copy what you need (``.detach().cpu()``) and return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Protocol

import torch
from torch import Tensor

from .config import TrainConfig
from ..data.datasets import DataBundle, DatasetInfo
from ..nn.models import StudioModel


@dataclass
class BatchProgress:
    """Training progress inside an epoch, reported at a bounded rate (not every batch)."""

    epoch: int  # 1-based
    epochs: int
    batch: int  # batches done in this epoch
    num_batches: int
    global_step: int  # batches done in the whole run
    losses: list[float] = field(default_factory=list)  # every batch loss since the last report
    accuracy: float = 0.0  # running train accuracy of this epoch, 0..1
    lr: float = 0.0
    images_per_sec: float = 0.0
    elapsed: float = 0.0  # seconds since this fit() began, pauses excluded
    lrs: list[float] = field(default_factory=list)  # the learning rate of each of ``losses``

    @property
    def first_step(self) -> int:
        """Global step (1-based) of ``losses[0]``."""
        return self.global_step - len(self.losses) + 1


@dataclass
class EpochMetrics:
    """What one finished epoch achieved. Accuracies are fractions in 0..1."""

    epoch: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    lr: float
    seconds: float
    images_per_sec: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def best_epoch(history: Sequence[EpochMetrics]) -> EpochMetrics | None:
    """The epoch with the highest test accuracy (the earliest of equals), or None."""
    return max(history, key=lambda m: m.test_acc, default=None)


class RunStatus(str, Enum):
    """Where a run stands; the values are what ``summary.json`` stores."""

    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"
    STOPPED_EARLY = "stopped_early"  # early stopping: no improvement for its patience
    FAILED = "failed"
    INSPECTED = "inspected"  # a checkpoint shown in the window, not trained
    PRUNED = "pruned"  # a sweep's trial stopped by its pruner: its results were hopeless


@dataclass(frozen=True)
class SettingsChange:
    """Settings edited during a run, as they took effect: at ``step`` (batches done) and
    ``epoch`` (fractional), each field's ``(old, new)`` value."""

    step: int
    epoch: float
    changes: dict[str, tuple[Any, Any]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in checkpoints and ``summary.json``."""
        return {"step": self.step, "epoch": self.epoch,
                "changes": {k: [old, new] for k, (old, new) in self.changes.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SettingsChange:
        """Raises KeyError, TypeError or ValueError for a malformed entry."""
        changes = {str(k): (old, new) for k, (old, new) in dict(data["changes"]).items()}
        return cls(int(data["step"]), float(data["epoch"]), changes)


@dataclass
class FitResult:
    """How ``Trainer.fit`` ended: completed or stopped, and the epochs so far."""

    status: RunStatus
    epochs_done: int
    history: list[EpochMetrics] = field(default_factory=list)
    note: str = ""  # why it ended so, where that needs saying (an early stop)

    @property
    def best(self) -> EpochMetrics | None:
        return best_epoch(self.history)


class TrainerView(Protocol):
    """What a hook may use of the trainer calling it (:class:`cnn_core.train.trainer.Trainer`),
    declared here so that the hooks' module does not import the loop that calls them."""

    config: TrainConfig
    device: torch.device
    info: DatasetInfo
    data: DataBundle
    model: StudioModel
    epoch: int  # epochs completed
    global_step: int  # batches done
    history: list[EpochMetrics]
    changes: list[SettingsChange]
    test_predictions: Tensor | None  # the last evaluation's, for every test image
    test_confidence: Tensor | None
    test_losses: Tensor | None  # each test image's cross-entropy
    test_hidden: Tensor | None  # each test image's last hidden layer, when kept
    keep_hidden: bool

    @property
    def lr(self) -> float: ...

    @property
    def model_meta(self) -> dict[str, Any]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def request_stop(self, status: RunStatus = RunStatus.STOPPED) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def request_changes(self, **changes: Any) -> None: ...


class Callback:
    """Override the hooks you need; the defaults do nothing."""

    def on_train_start(self, trainer: TrainerView) -> None:
        pass

    def on_prepare(self, trainer: TrainerView, done: int, total: int, what: str) -> None:
        """Called while a fit prepares before its first epoch (``what``: "features of the
        fixed layers"), with ``done`` of ``total`` pictures."""

    def on_epoch_start(self, trainer: TrainerView, epoch: int) -> None:
        pass

    def on_batch_end(self, trainer: TrainerView, progress: BatchProgress) -> None:
        """Called at most every ``report_interval`` seconds and after each epoch's last batch."""

    def on_settings_changed(self, trainer: TrainerView, change: SettingsChange) -> None:
        """Called when edits queued with ``Trainer.request_changes`` take effect (before the
        next batch); ``change`` is the entry appended to ``trainer.changes``."""

    def on_epoch_end(self, trainer: TrainerView, metrics: EpochMetrics) -> None:
        """Called after evaluation and the scheduler step: the state is a clean resume point."""

    def on_train_end(self, trainer: TrainerView, result: FitResult) -> None:
        """Called when the run completes or is stopped (not when it fails)."""

    def on_exception(self, trainer: TrainerView, exc: BaseException) -> None:
        """Called when the run fails, before the exception reaches the caller of ``fit``."""
