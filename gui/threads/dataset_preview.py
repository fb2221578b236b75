"""Loading a dataset to show it before training: its classes, counts and a few pictures
(the whole dataset is dropped again; only the preview is kept)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnn_core.data import DataBundle, DatasetInfo, DatasetSource, PictureSettings, denormalize

from .tasks import TaskState

THUMBNAILS = 12  # pictures shown, taken in turn from each class
SAMPLES = 8  # normalised training pictures kept for the augmentation preview


@dataclass(frozen=True)
class DatasetPreview:
    info: DatasetInfo
    counts: list[int]  # pictures per class, training and test together
    train_size: int
    test_size: int
    thumbnails: np.ndarray  # (N, H, W, C) uint8
    thumbnail_labels: list[int]
    samples: torch.Tensor  # (SAMPLES, C, H, W) normalised training pictures
    warnings: tuple[str, ...]


def _one_of_each(labels: torch.Tensor, count: int) -> list[int]:
    """Indices of ``count`` pictures, cycling over the classes (the first of each, then
    the second of each...)."""
    per_class = [torch.nonzero(labels == c).flatten().tolist() for c in labels.unique().tolist()]
    picked: list[int] = []
    for rank in range(max(map(len, per_class), default=0)):
        picked += [idx[rank] for idx in per_class if rank < len(idx)]
        if len(picked) >= count:
            break
    return picked[:count]


def preview_of(bundle: DataBundle) -> DatasetPreview:
    train = bundle.train
    picked = _one_of_each(train.labels, THUMBNAILS)
    pictures = denormalize(train.images[picked], bundle.info).mul(255).round().to(torch.uint8)
    return DatasetPreview(bundle.info, bundle.class_counts(), len(train), len(bundle.test),
                          pictures.permute(0, 2, 3, 1).numpy(),
                          train.labels[picked].tolist(), train.images[picked[:SAMPLES]].clone(),
                          bundle.warnings)


def load_preview(state: TaskState, source: DatasetSource, data_dir: Path,
                 settings: PictureSettings) -> DatasetPreview:
    """Raises DatasetError (DecodeCancelled when cancelled) with the reason."""
    return preview_of(source.load(data_dir, settings=settings, cancel=state.cancel_event,
                                  progress=state.throttled_progress()))
