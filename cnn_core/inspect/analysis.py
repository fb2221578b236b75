"""Looking inside a model: everything returns NumPy arrays on the CPU, never Qt objects.

These functions run the model in eval mode under ``no_grad`` and put it back as they
found it, so they can be called on a model between training steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.models import StudioModel
from .reach import grad_cam_module, seen_module


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


def _short(name: str) -> str:
    """A module path without its ``features.`` / ``classifier.`` container."""
    return name.removeprefix("features.").removeprefix("classifier.")


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str
    output_shape: tuple[int, ...]  # without the batch dimension
    params: int


def layer_summary(model: StudioModel, input_shape: tuple[int, int, int]) -> list[LayerInfo]:
    """Each leaf layer in forward order with its output shape and parameter count (a
    module run twice, as ResNet's blocks run their ReLU, is listed where it first runs)."""
    rows: list[LayerInfo] = []
    hooks = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None or module is model:
            continue
        params = sum(p.numel() for p in module.parameters(recurse=False))

        def hook(_m: nn.Module, _i: object, out: Tensor, name: str = name, m: nn.Module = module,
                 params: int = params) -> None:
            if all(row.name != _short(name) for row in rows):
                rows.append(LayerInfo(_short(name), type(m).__name__, tuple(out.shape[1:]),
                                      params))

        hooks.append(module.register_forward_hook(hook))
    try:
        with _inference(model):
            model(torch.zeros(1, *input_shape, device=_device(model)))
    finally:
        for h in hooks:
            h.remove()
    return rows


@dataclass(frozen=True)
class Saliency:
    """Where the network looked for one image and one class."""

    target: int  # the class explained
    probabilities: np.ndarray  # (classes,)
    # (H, W) in 0..1: the last conv layer's evidence for ``target``; None without a conv layer
    grad_cam: np.ndarray | None
    gradient: np.ndarray  # (H, W) in 0..1: |d score / d pixel|, max over channels


def _unit(t: Tensor) -> np.ndarray:
    peak = float(t.max())
    return (t / peak if peak > 0 else torch.zeros_like(t)).float().cpu().numpy()


def saliency(model: StudioModel, image: Tensor, target: int | None = None,
             layer: str | None = None) -> Saliency:
    """Grad-CAM and the plain input gradient, for the predicted class (``target=None``) or
    any chosen one. Grad-CAM weighs the maps of conv ``layer`` (as the feature maps show
    them), by default those of the last conv layer, or of a backbone's last block (see
    :func:`~cnn_core.inspect.reach.grad_cam_module`).

    Uses ``torch.autograd.grad``, so the model's ``.grad`` fields are left untouched.
    """
    x = (image.unsqueeze(0) if image.ndim == 3 else image).to(_device(model)).float()
    x = x.detach().requires_grad_(True)
    weighed = grad_cam_module(model) if layer is None else seen_module(model, layer)
    captured: list[Tensor] = []

    def capture(_m: nn.Module, _i: object, out: Tensor) -> Tensor:
        captured.append(out)
        return out.clone()  # what follows may work in place (ResNet's ReLU, its sum)

    hook = weighed.register_forward_hook(capture) if weighed is not None else None
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            logits = model(x)
            probs = torch.softmax(logits.detach().float(), dim=1)[0]
            target = int(probs.argmax()) if target is None else int(target)
            *grad_acts, grad_x = torch.autograd.grad(logits[0, target], [*captured, x])
    finally:
        if hook is not None:
            hook.remove()
        model.train(was_training)
    gradient = _unit(grad_x.abs().amax(dim=1)[0])
    if not captured:  # a network without conv layers has no maps to weigh
        return Saliency(target, probs.cpu().numpy(), None, gradient)
    # Grad-CAM: weight each map by how much the class score rises with it, keep the positive.
    acts = captured[0].detach()
    weights = grad_acts[0].mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * acts).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    return Saliency(target, probs.cpu().numpy(), _unit(cam), gradient)


@dataclass(frozen=True)
class LayerHealth:
    """Per-layer vital signs on a probe batch; ``warnings`` say in plain words what looks wrong."""

    layers: list[str]  # conv and linear layers, forward order
    weight_norm: list[float]
    grad_norm: list[float]  # 0 for a frozen layer: it gets no gradient
    inactive: dict[str, float]  # activation -> fraction of ReLU units that never fire
    saturated: dict[str, float]  # tanh activation -> fraction of outputs beyond +-0.99
    batchnorm: dict[str, tuple[float, float]]  # BN layer -> (mean |running mean|, mean running var)
    warnings: list[str]
    # layers and batch norms whose weights do not train (a frozen backbone): they stay as
    # they are, and no warning is given about their gradients
    frozen: tuple[str, ...] = ()


def layer_health(model: StudioModel, images: Tensor, labels: Tensor) -> LayerHealth:
    """Weight and gradient norms, dead ReLUs, saturated tanh units and BatchNorm statistics.

    Runs in eval mode and with ``torch.autograd.grad``: no dropout randomness, no BatchNorm
    update and no ``.grad`` written, so training goes on exactly as without it. Only
    layers that train are differentiated. A ReLU module run twice (ResNet's blocks) is
    measured where it first runs.
    """
    layers = model.conv_layers() + [(_short(n), m) for n, m in model.named_modules()
                                    if isinstance(m, nn.Linear)]
    training = [m.weight for _, m in layers if m.weight.requires_grad]
    inactive: dict[str, float] = {}
    saturated: dict[str, float] = {}

    def measure(name: str, m: nn.Module, out: Tensor) -> None:
        if name in inactive or name in saturated:
            return
        if isinstance(m, nn.ReLU):  # a unit = one channel at one position (or one neuron)
            inactive[name] = 1.0 - float((out > 0).any(dim=0).float().mean())
        else:
            saturated[name] = float((out.abs() > 0.99).float().mean())

    hooks = [m.register_forward_hook(lambda m, _i, out, n=_short(n): measure(n, m, out.detach()))
             for n, m in model.named_modules() if isinstance(m, (nn.ReLU, nn.Tanh))]
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            loss = F.cross_entropy(model(images.to(_device(model))), labels.to(_device(model)))
            grads = iter(torch.autograd.grad(loss, training) if training else ())
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    weight_norm = [float(m.weight.detach().norm()) for _, m in layers]
    grad_norm = [float(next(grads).norm()) if m.weight.requires_grad else 0.0
                 for _, m in layers]
    norms = [(_short(n), m) for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    batchnorm = {n: (float(m.running_mean.abs().mean()), float(m.running_var.mean()))
                 for n, m in norms}
    frozen = tuple(n for n, m in layers + norms
                   if m.weight is not None and not m.weight.requires_grad)
    frozen += tuple(_short(n) for n, m in model.named_modules()
                    if isinstance(m, (nn.ReLU, nn.Tanh)) and _in_frozen_block(model, n))

    warnings = []
    for (name, _), w, g in zip(layers, weight_norm, grad_norm):
        if name in frozen:
            continue
        if not (math.isfinite(w) and math.isfinite(g)):
            warnings.append(f"{name}: its weights or gradients are no longer numbers "
                            "(NaN/inf); training has diverged.")
        elif g < 1e-6 * max(w, 1e-12):
            warnings.append(f"{name}: its gradient has almost vanished ({g:.1e}); this layer "
                            "has stopped learning.")
        elif g > 10 * max(w, 1.0):
            warnings.append(f"{name}: its gradient is exploding ({g:.1e}, weights {w:.1e}); "
                            "try a smaller learning rate.")
    for name, frac in inactive.items():
        if frac > 0.5 and name not in frozen:
            warnings.append(f"{name}: {frac:.0%} of its ReLU units never fire on the probe "
                            "batch (dead); a smaller learning rate may help.")
    for name, frac in saturated.items():
        if frac > 0.5 and name not in frozen:
            warnings.append(f"{name}: {frac:.0%} of its tanh outputs are saturated near +-1, "
                            "where gradients vanish.")
    return LayerHealth([n for n, _ in layers], weight_norm, grad_norm, inactive, saturated,
                       batchnorm, warnings, frozen)


def _in_frozen_block(model: nn.Module, name: str) -> bool:
    """Whether module ``name`` sits in a block that has weights, none of which train:
    what it outputs for a picture never changes."""
    parent = model.get_submodule(name.rpartition(".")[0])
    params = list(parent.parameters())
    return bool(params) and not any(p.requires_grad for p in params)
