"""What every dataset becomes: a description and two in-memory splits of normalised
images, whatever it was loaded from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

ProgressFn = Callable[[int, int | None, str], None]
"""progress(done, total_or_None, message): bytes of a download, pictures of a folder"""


class DatasetError(RuntimeError):
    """A dataset could not be loaded; the message says what to do about it."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a model and a view need to know about a dataset before loading it."""

    name: str
    display_name: str
    description: str
    in_channels: int
    input_size: int
    class_names: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    torchvision_class: str | None = None  # None: bundled with the project
    class_counts: tuple[int, ...] = ()  # a folder's pictures per class when read (): unknown

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.in_channels, self.input_size, self.input_size)

    @property
    def downloadable(self) -> bool:
        return self.torchvision_class is not None


@dataclass
class Split:
    """One part of a dataset: normalised float images (N, C, H, W) and int64 labels."""

    images: Tensor
    labels: Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device: torch.device | str,
           memory_format: torch.memory_format = torch.contiguous_format) -> Split:
        images = self.images.to(device).contiguous(memory_format=memory_format)
        return Split(images, self.labels.to(device))


@dataclass
class DataBundle:
    info: DatasetInfo
    train: Split
    test: Split
    warnings: tuple[str, ...] = ()  # what was skipped while loading, for the person to read

    def to(self, device: torch.device | str,
           memory_format: torch.memory_format = torch.contiguous_format) -> DataBundle:
        return DataBundle(self.info, self.train.to(device, memory_format),
                          self.test.to(device, memory_format), self.warnings)

    @classmethod
    def empty(cls, info: DatasetInfo) -> DataBundle:
        """No pictures, only their description: a checkpoint shown without its data."""
        def none() -> Split:
            return Split(torch.empty((0, *info.input_shape)), torch.empty(0, dtype=torch.int64))

        return cls(info, none(), none())

    @property
    def has_pictures(self) -> bool:
        return len(self.test) > 0

    def class_counts(self) -> list[int]:
        """Pictures of every class, training and test together."""
        labels = torch.cat([self.train.labels.cpu(), self.test.labels.cpu()])
        return torch.bincount(labels, minlength=self.info.num_classes).tolist()


def normalize(images_uint8: Tensor, info: DatasetInfo) -> Tensor:
    """uint8 (N, C, H, W) in 0..255 -> float32 standardised per channel."""
    mean = torch.tensor(info.mean).view(1, -1, 1, 1)
    std = torch.tensor(info.std).view(1, -1, 1, 1)
    return images_uint8.to(torch.float32, copy=True).div_(255.0).sub_(mean).div_(std)


def denormalize(images: Tensor, info: DatasetInfo) -> Tensor:
    """Inverse of :func:`normalize`, back to 0..1 for display."""
    mean = torch.tensor(info.mean, device=images.device).view(1, -1, 1, 1)
    std = torch.tensor(info.std, device=images.device).view(1, -1, 1, 1)
    return (images * std + mean).clamp_(0.0, 1.0)


def display_pixels(images: Tensor, info: DatasetInfo) -> np.ndarray:
    """Normalised (N, C, H, W) -> (N, H, W, C) uint8: the pictures as a person sees them."""
    pixels = (denormalize(images.float(), info) * 255).round_().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous().cpu().numpy()
