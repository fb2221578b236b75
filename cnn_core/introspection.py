"""Looking inside a model: everything returns NumPy arrays on the CPU, never Qt objects.

These functions run the model in eval mode under ``no_grad`` and put it back as they
found it, so they can be called on a model between training steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from .models import StudioModel


@contextmanager
def _inference(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def conv_filters(model: StudioModel) -> dict[str, np.ndarray]:
    """Kernels of every conv layer, ``name -> float32 (out, in, kh, kw)``."""
    return {name: layer.weight.detach().float().cpu().numpy().copy()
            for name, layer in model.conv_layers()}


def feature_maps(model: StudioModel, image: Tensor) -> dict[str, np.ndarray]:
    """Activations of every conv layer (after its nonlinearity) for one image.

    ``image`` is a normalised (C, H, W) or (1, C, H, W) tensor; the result maps a conv
    layer's name to float32 (channels, h, w).
    """
    x = image.unsqueeze(0) if image.ndim == 3 else image
    captured: dict[str, np.ndarray] = {}
    hooks = [module.register_forward_hook(
        lambda _m, _i, out, name=name: captured.__setitem__(
            name, out[0].detach().float().cpu().numpy().copy()))
        for name, module in model.activation_layers()]
    try:
        with _inference(model):
            model(x.to(_device(model)))
    finally:
        for h in hooks:
            h.remove()
    return captured


def predict_proba(model: nn.Module, images: Tensor, batch_size: int = 1000) -> np.ndarray:
    """Softmax class probabilities, float32 (N, classes)."""
    x = images.unsqueeze(0) if images.ndim == 3 else images
    device = _device(model)
    with _inference(model):
        parts = [torch.softmax(model(x[i:i + batch_size].to(device)).float(), dim=1).cpu()
                 for i in range(0, len(x), batch_size)]
    return torch.cat(parts).numpy()


def confusion_from_predictions(y_true: np.ndarray, y_pred: np.ndarray,
                               num_classes: int) -> np.ndarray:
    """``m[t, p]`` = how many images of true class t were predicted as p."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * num_classes + y_pred,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def confusion_matrix(model: nn.Module, images: Tensor, labels: Tensor,
                     num_classes: int) -> np.ndarray:
    """Confusion matrix (int64, true x predicted) of ``model`` over a labelled set."""
    pred = predict_proba(model, images).argmax(1)
    return confusion_from_predictions(labels.cpu().numpy(), pred, num_classes)


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str
    output_shape: tuple[int, ...]  # without the batch dimension
    params: int


def layer_summary(model: StudioModel, input_shape: tuple[int, int, int]) -> list[LayerInfo]:
    """Each leaf layer in forward order with its output shape and parameter count."""
    rows: list[LayerInfo] = []
    hooks = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None or module is model:
            continue
        params = sum(p.numel() for p in module.parameters(recurse=False))

        def hook(_m: nn.Module, _i: object, out: Tensor, name: str = name, m: nn.Module = module,
                 params: int = params) -> None:
            short = name.removeprefix("features.").removeprefix("classifier.")
            rows.append(LayerInfo(short, type(m).__name__, tuple(out.shape[1:]), params))

        hooks.append(module.register_forward_hook(hook))
    try:
        with _inference(model):
            model(torch.zeros(1, *input_shape, device=_device(model)))
    finally:
        for h in hooks:
            h.remove()
    return rows

