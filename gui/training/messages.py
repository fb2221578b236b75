"""What a training run tells the window, besides the engine's own payloads
(:class:`~cnn_core.train.callbacks.BatchProgress`, ``EpochMetrics``, ``SettingsChange``):
small, already on the CPU, never a reference into the training model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnn_core.data import DatasetInfo
from cnn_core.train.config import TrainConfig


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
    model_meta: dict[str, Any]  # arch, in_channels, num_classes, input_size
    run_dir: Path | None = None  # where the run is recorded (None when only inspecting)
    start_epoch: int = 0  # epochs already done when this run began (resume, branch, open)
    missing_data: str = ""  # why a checkpoint is shown without its pictures (none then)
    history: Path | None = None  # the run folder whose snapshots are this run's epochs
    # (images, labels): HEALTH_PROBE normalised training images, for layer health
    health_probe: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def has_pictures(self) -> bool:
        return len(self.test_labels) > 0


@dataclass(frozen=True)
class Preparing:
    """Slow work before the first batch: a backbone's weights downloading (``unit`` "MB",
    counted in bytes), or the features of fixed layers computed ("pictures")."""

    done: int
    total: int | None
    what: str
    unit: str = "pictures"

    @property
    def text(self) -> str:
        scale, digits = (1e6, 1) if self.unit == "MB" else (1, 0)
        amount = f"{self.done / scale:,.{digits}f}"
        if self.total:
            amount += f"/{self.total / scale:,.{digits}f}"
        return f"{self.what}: {amount} {self.unit}… (Stop cancels)"


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


HEALTH_PROBE = 64  # training images layer health is measured on, from each saved epoch


@dataclass(frozen=True)
class EpochDetails:
    """Per-epoch analysis: every test prediction and the test images' last hidden layer.
    Sent before the epoch's snapshot."""

    epoch: int
    predictions: np.ndarray  # (N,) int64
    confidence: np.ndarray  # (N,) float32
    losses: np.ndarray  # (N,) float32, each image's cross-entropy
    # (M, D) the last hidden layer of the embedding's test images (embedding_sample)
    hidden: np.ndarray | None = None
