"""How one output value of a convolution is computed: the window of the layer's input it
reads, times the kernel, summed, plus the bias (CNN Explainer's view, on any network)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..nn.layers import AveragePool2D, Conv2D, MaxPool2D
from ..nn.models import StudioModel


@dataclass(frozen=True)
class ConvExplanation:
    """One output value of a conv layer, taken apart. Arrays are float32."""

    layer: str
    channel: int
    row: int
    col: int
    patch: np.ndarray  # (C_in, kh, kw): the layer's padded input under the window
    kernel: np.ndarray  # (C_in, kh, kw): the output channel's weights
    bias: float
    value: float  # the layer's output there, before any activation
    # The input image's pixels it depends on: (top, left, bottom, right), inclusive.
    field: tuple[int, int, int, int]

    @property
    def products(self) -> np.ndarray:
        return self.patch * self.kernel

    @property
    def channel_sums(self) -> np.ndarray:
        """Each input channel's share of the sum (C_in,)."""
        return self.products.reshape(len(self.patch), -1).sum(axis=1)


def explain_conv(model: StudioModel, image: Tensor, layer_name: str, channel: int, row: int,
                 col: int) -> ConvExplanation:
    """Take apart output ``(channel, row, col)`` of conv layer ``layer_name`` for one
    normalised image (C, H, W). Stride and padding are honoured; raises ValueError for a
    layer, channel or position that does not exist."""
    convs = dict(model.conv_layers())
    if layer_name not in convs:
        raise ValueError(f"no conv layer {layer_name!r} (the network has "
                         f"{', '.join(convs) or 'none'})")
    conv = convs[layer_name]
    captured: dict[str, Tensor] = {}
    hook = conv.register_forward_hook(
        lambda _m, inputs, output: captured.update(input=inputs[0][0], output=output[0]))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(image.unsqueeze(0).to(next(model.parameters()).device))
    finally:
        hook.remove()
        model.train(was_training)
    output = captured["output"]
    if not (0 <= channel < output.shape[0] and 0 <= row < output.shape[1]
            and 0 <= col < output.shape[2]):
        raise ValueError(f"{layer_name} has outputs {tuple(output.shape)}; "
                         f"({channel}, {row}, {col}) is outside them")
    (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
    padded = F.pad(captured["input"], (pw, pw, ph, ph))
    patch = padded[:, row * sh:row * sh + kh, col * sw:col * sw + kw]
    bias = float(conv.bias[channel].detach()) if conv.bias is not None else 0.0
    return ConvExplanation(
        layer_name, channel, row, col,
        patch=patch.float().cpu().numpy().copy(),
        kernel=conv.weight[channel].detach().float().cpu().numpy().copy(),
        bias=bias, value=float(output[channel, row, col]),
        field=_receptive_field(model, conv, row, col, image.shape[-2:]))


def _receptive_field(model: StudioModel, target: Conv2D, row: int, col: int,
                     size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The input pixels output (row, col) of ``target`` depends on, walking back through
    every convolution and pooling before it."""
    windows = []
    for module in model.features.modules():
        if isinstance(module, (Conv2D, MaxPool2D, AveragePool2D)):
            windows.append((module.kernel_size, module.stride, module.padding))
        if module is target:
            break
    top, bottom, left, right = row, row, col, col
    for (kh, kw), (sh, sw), (ph, pw) in reversed(windows):
        top, bottom = top * sh - ph, bottom * sh - ph + kh - 1
        left, right = left * sw - pw, right * sw - pw + kw - 1
    height, width = int(size[0]), int(size[1])
    return (max(top, 0), max(left, 0), min(bottom, height - 1), min(right, width - 1))
