"""Weights files the tests make, where torchvision's ImageNet ones would be downloaded:
the machines the tests run on have no internet."""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision

from cnn_core.nn.backbone_specs import BACKBONES
from cnn_core.nn.weights import weights_file


def fake_imagenet_weights(name: str = "resnet18", data_dir: str | Path | None = None,
                          seed: int = 0) -> dict[str, torch.Tensor]:
    """Save a randomly initialised torchvision ``name`` under the file name torchvision's
    ImageNet weights have, in the data folder; its state dict."""
    torch.manual_seed(seed)
    state = getattr(torchvision.models, name)(weights=None).state_dict()
    target = weights_file(BACKBONES[name], data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, target)
    return state
