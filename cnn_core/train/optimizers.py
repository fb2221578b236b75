"""The optimizers a run may use, made the fast way for the device, and the groups of
parameters they update at their own rates."""

from __future__ import annotations

from typing import Any

import torch

from .config import TrainConfig
from .init_from import layer_tensors
from ..nn.models import StudioModel


def param_groups(model: StudioModel, config: TrainConfig) -> list[dict[str, Any]]:
    """The parameters that train (a frozen layer's are left out), in groups that each
    keep their ``lr_scale``, the share of the run's learning rate they get.

    The first group always trains at the run's rate (it may be empty), so that
    ``param_groups[0]["lr"]`` is the run's rate wherever it is read; a fine-tuned run
    (``config.init_from`` recorded) has a second group, its copied layers, at
    ``backbone_lr_scale`` of it.
    """
    start = config.init_from
    copied = set(start["copied"]) if isinstance(start, dict) else set()
    owner = {key: layer for layer, keys in layer_tensors(model).items() for key in keys}
    head: list[torch.nn.Parameter] = []
    body: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (body if owner.get(name) in copied else head).append(parameter)
    groups = [{"params": head, "lr_scale": 1.0}]
    if isinstance(start, dict):
        groups.append({"params": body, "lr_scale": config.backbone_lr_scale})
    return groups


def make_optimizer(config: TrainConfig, model: StudioModel,
                   device: torch.device) -> torch.optim.Optimizer:
    """Adam or SGD over ``model``'s :func:`param_groups`, each at its share of
    ``config.lr``, with the multi-tensor (fused where supported) kernels."""
    groups = param_groups(model, config)
    for group in groups:
        group["lr"] = config.lr * group["lr_scale"]
    fast: dict[str, bool] = {"fused": True} if device.type in ("cuda", "cpu") else {"foreach": True}
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay, **fast)
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay, **fast)
