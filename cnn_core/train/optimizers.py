"""The optimizers a run may use, made the fast way for the device."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from .config import TrainConfig


def make_optimizer(config: TrainConfig, params: Iterable[nn.Parameter],
                   device: torch.device) -> torch.optim.Optimizer:
    """Adam or SGD, with the multi-tensor (fused where supported) kernels."""
    params = list(params)
    fast: dict[str, bool] = {"fused": True} if device.type in ("cuda", "cpu") else {"foreach": True}
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, **fast)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay, **fast)
