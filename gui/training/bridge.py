"""The engine's callbacks, turned into messages for the window (in the training thread).

Every message is small and already on the CPU; batch reports come at the trainer's
``report_interval``, snapshots at most every ``SNAPSHOT_INTERVAL`` and at each epoch's end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from cnn_core.data import denormalize, display_pixels
from cnn_core.inspect.analysis import feature_maps, predict_proba
from cnn_core.inspect.embedding import embedding_sample
from cnn_core.nn.models import StudioModel, count_parameters
from cnn_core.runs.store import Snapshot as SavedSnapshot
from cnn_core.train.callbacks import BatchProgress, Callback, EpochMetrics, SettingsChange
from cnn_core.train.evaluation import evaluate
from cnn_core.train.trainer import Trainer

from .messages import HEALTH_PROBE, EpochDetails, Preparing, RunInfo, Snapshot
from .weight_copies import WeightCopies

REPORT_INTERVAL = 0.2  # five batch reports a second look live; each one wakes the GUI
SNAPSHOT_INTERVAL = 1.5  # seconds between weight copies for the live views


def take_snapshot(model: StudioModel, probe: torch.Tensor, epoch: int, progress: float,
                  step: int, copies: WeightCopies | None = None) -> Snapshot:
    """``model`` as the views show it; ``probe`` is the (normalised) image its feature maps
    are of. ``copies``: the copies made for this model's earlier snapshots, reused for
    what has not changed since (a frozen backbone)."""
    copies = WeightCopies() if copies is None else copies
    maps = copies.maps(model, probe, lambda: feature_maps(model, probe))
    return Snapshot(epoch, progress, step, copies.filters(model), maps,
                    predict_proba(model, probe)[0], copies.state(model))


def load_saved(model: StudioModel, saved: SavedSnapshot) -> bool:
    """Put the weights of a snapshot saved in a run folder into ``model``; False (and the
    model unusable until loaded again) if they are not this model's."""
    try:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in saved.state.items()})
    except (RuntimeError, KeyError):
        return False
    return True


def saved_moment(model: StudioModel, saved: SavedSnapshot, probe: torch.Tensor,
                 step: int) -> Snapshot | None:
    """A snapshot saved in a run folder, as the views show it, through ``model`` (its
    weights are replaced); None if they are not this model's."""
    if not load_saved(model, saved):
        return None
    return take_snapshot(model, probe, saved.epoch, float(saved.epoch), step)


def probe(trainer: Trainer) -> torch.Tensor:
    """The (normalised) image whose feature maps the snapshots carry: the first test image,
    or without pictures a plain grey one (the dataset's mean)."""
    test = trainer.data.test
    if len(test):
        return test.images[0]
    return torch.zeros(trainer.info.input_shape, device=trainer.device)


def run_info(trainer: Trainer, run_dir: Path | None, missing_data: str = "",
             history: Path | None = None) -> RunInfo:
    """What the window needs to know of a run before its first batch; ``history``: the
    folder of its saved epochs when it records none itself (a run opened)."""
    test, train = trainer.data.test, trainer.data.train
    return RunInfo(
        config=trainer.config, model_name=trainer.model.display_name,
        parameters=count_parameters(trainer.model), train_size=len(trainer.data.train),
        test_size=len(test), device=str(trainer.device), dataset=trainer.info,
        probe_image=denormalize(probe(trainer)[None], trainer.info)[0].cpu().numpy(),
        probe_label=int(test.labels[0]) if len(test) else -1,
        test_images=display_pixels(test.images, trainer.info),
        test_labels=test.labels.cpu().numpy(), model_meta=trainer.model_meta, run_dir=run_dir,
        start_epoch=trainer.epoch, missing_data=missing_data, history=history or run_dir,
        health_probe=(train.images[:HEALTH_PROBE].cpu().numpy(),
                      train.labels[:HEALTH_PROBE].cpu().numpy()) if len(train) else None)


class Bridge(Callback):
    """Hands each engine event to ``emit`` as a message."""

    def __init__(self, emit: Callable[[object], None], run_dir: Path | None = None) -> None:
        self.emit = emit
        self.run_dir = run_dir
        self._last_snapshot = 0.0
        self._copies = WeightCopies()

    def on_train_start(self, trainer: Trainer) -> None:
        trainer.keep_hidden = True  # the embedding view's, from each evaluation's own pass
        self.emit(run_info(trainer, self.run_dir))
        self.snapshot(trainer, trainer.epoch, float(trainer.epoch))

    def on_batch_end(self, trainer: Trainer, progress: BatchProgress) -> None:
        self.emit(progress)
        last_batch = progress.batch == progress.num_batches  # the epoch's end takes one
        if not last_batch and time.monotonic() - self._last_snapshot >= SNAPSHOT_INTERVAL:
            self.snapshot(trainer, progress.epoch - 1,
                          progress.epoch - 1 + progress.batch / progress.num_batches)

    def on_settings_changed(self, trainer: Trainer, change: SettingsChange) -> None:
        self.emit(change)

    def on_prepare(self, trainer: Trainer, done: int, total: int, what: str) -> None:
        self.emit(Preparing(done, total, f"Computing the {what} once"))

    def on_epoch_end(self, trainer: Trainer, metrics: EpochMetrics) -> None:
        self.emit(metrics)
        self.details(trainer, metrics.epoch)  # first: the snapshot's views may read them
        self.snapshot(trainer, metrics.epoch, float(metrics.epoch))

    def checkpoint_details(self, trainer: Trainer) -> None:
        """A loaded checkpoint's model evaluated on the test set, as each epoch of a run
        is, and its details sent."""
        trainer.keep_evaluation(evaluate(trainer.model, trainer.data.test, trainer.criterion,
                                         keep_hidden=True))
        self.details(trainer, trainer.epoch)

    def details(self, trainer: Trainer, epoch: int) -> None:
        """Every test prediction and the embedding's hidden layer, for the analysis panels."""
        hidden = trainer.test_hidden
        if hidden is not None:
            hidden = hidden[torch.from_numpy(embedding_sample(len(hidden))).to(hidden.device)]
        self.emit(EpochDetails(epoch, trainer.test_predictions.cpu().numpy(),
                               trainer.test_confidence.float().cpu().numpy(),
                               trainer.test_losses.float().cpu().numpy(),
                               None if hidden is None else hidden.cpu().numpy()))

    def snapshot(self, trainer: Trainer, epoch: int, progress: float) -> None:
        self._last_snapshot = time.monotonic()
        self.emit(take_snapshot(trainer.model, probe(trainer), epoch, progress,
                                trainer.global_step, self._copies))
