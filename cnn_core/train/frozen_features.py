"""A fixed trunk is run once, not every epoch: when nothing before a network's flatten
trains or draws at random (a frozen ImageNet backbone, or layers frozen for fine-tuning)
and the pictures are not augmented, every picture's features are the same in every
epoch. They are computed once and the head trains on them, which gives the head the
same numbers as running the whole network, many times faster.

With augmentation on, every epoch shows the trunk different pictures, so there is
nothing to keep: the features are computed batch by batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..data.bundle import Split
from ..nn.models import StudioModel

BATCH = 250  # pictures per forward pass: enough to keep the cores busy, little memory


class Head(nn.Module):
    """The part of a model after its trunk, run on kept features (what
    :func:`cnn_core.train.evaluation.evaluate` and the loop call as "the model")."""

    def __init__(self, model: StudioModel) -> None:
        super().__init__()
        self.classifier = model.classifier

    def forward(self, features: Tensor) -> Tensor:
        return self.classifier(features)


def trunk_is_fixed(model: StudioModel) -> bool:
    """Whether the layers before the flatten hold weights, none of which train, and
    behave the same in training (no batch statistics, no dropout): only then are their
    features worth keeping, and the same every epoch."""
    params = list(model.features.parameters())
    if not params or any(p.requires_grad for p in params):
        return False
    was_training = model.training
    model.train()
    try:
        return not any(m.training for m in model.features.modules()
                       if not any(True for _ in m.children()))
    finally:
        model.train(was_training)


@torch.no_grad()
def trunk_features(model: StudioModel, split: Split, *, done_before: int = 0, total: int = 0,
                   progress: Callable[[int, int], None] | None = None,
                   stop: threading.Event | None = None) -> Split | None:
    """``split`` as the trunk's features (flattened by the head as before); None if
    ``stop`` was set meanwhile. ``progress(done, total)`` counts pictures."""
    was_training = model.training
    model.eval()
    parts: list[Tensor] = []
    try:
        for start in range(0, len(split), BATCH):
            if stop is not None and stop.is_set():
                return None
            parts.append(model.features(split.images[start:start + BATCH]))
            if progress is not None:
                progress(done_before + start + len(parts[-1]), total or len(split))
    finally:
        model.train(was_training)
    return Split(torch.cat(parts) if parts else split.images[:0], split.labels)
