"""How one output value of a convolution is computed: the window of the layer's input it
reads, times the kernel, summed, plus the bias (CNN Explainer's view, on any network)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.layers import AveragePool2D, Conv2D, MaxPool2D
from ..nn.models import StudioModel
from ..nn.spec import infer_shapes
from .analysis import feature_maps


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


@dataclass(frozen=True)
class MapPixel:
    """A pixel of a feature map as people are shown it, and the convolution behind it."""

    conv: ConvExplanation
    feature_map: np.ndarray  # (h, w) float32: the channel as feature_maps() gives it
    # The layers between the conv's output and that map, e.g. ("BatchNorm2d", "ReLU");
    # empty when the map is the conv's own output.
    after: tuple[str, ...]
    padded: np.ndarray  # (kh, kw) bool: the patch's cells that are padding, not input
    stride: tuple[int, int]
    padding: tuple[int, int]

    @property
    def shown(self) -> float:
        """The feature map's value at the pixel (``conv.value`` once ``after`` is applied)."""
        return float(self.feature_map[self.conv.row, self.conv.col])


def explain_map_pixel(model: StudioModel, image: Tensor, layer_name: str, channel: int,
                      row: int | None = None, col: int | None = None) -> MapPixel:
    """:func:`explain_conv` for pixel (row, col) of channel ``channel`` of the layer's
    feature map, with that map and the layers between; the map is the conv's output size
    (see ``StudioModel.activation_layers``). Without a position: the map's strongest
    pixel, where the channel found most of what it looks for."""
    maps = feature_maps(model, image)
    if layer_name not in maps:
        raise ValueError(f"no conv layer {layer_name!r} (the network has "
                         f"{', '.join(maps) or 'none'})")
    fmap = maps[layer_name]
    if not 0 <= channel < len(fmap):
        raise ValueError(f"{layer_name} has {len(fmap)} channels; {channel} is not one")
    if row is None or col is None:
        row, col = (int(i) for i in np.unravel_index(np.argmax(fmap[channel]),
                                                     fmap.shape[1:]))
    explained = explain_conv(model, image, layer_name, channel, row, col)
    conv = dict(model.conv_layers())[layer_name]
    (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
    in_h, in_w = _input_size(model, layer_name, tuple(image.shape[-3:]))
    rows = np.arange(kh) + row * sh - ph
    cols = np.arange(kw) + col * sw - pw
    inside = ((rows >= 0) & (rows < in_h))[:, None] & ((cols >= 0) & (cols < in_w))[None, :]
    return MapPixel(explained, fmap[channel],
                    _between(model, conv, dict(model.activation_layers())[layer_name]),
                    ~inside, (sh, sw), (ph, pw))


def _input_size(model: StudioModel, layer_name: str, shape: tuple[int, ...]) -> tuple[int, int]:
    """Height and width of what layer ``layer_name`` reads, from the spec's shapes."""
    names = [layer.name for layer in model.spec.layers]
    index = names.index(layer_name)
    if index == 0:
        return int(shape[1]), int(shape[2])
    _, height, width = infer_shapes(model.spec, shape, model.num_classes)[index - 1].output
    return height, width


def _between(model: StudioModel, conv: Conv2D, seen: nn.Module) -> tuple[str, ...]:
    """The layer types from ``conv``'s output to ``seen`` (dropout left out: it does
    nothing outside training)."""
    if seen is conv:
        return ()
    names: list[str] = []
    walking = False
    for module in model.features.modules():
        if module is conv:
            walking = True
        elif walking and next(module.children(), None) is None:
            if not isinstance(module, nn.Dropout):
                names.append(type(module).__name__)
            if module is seen:
                break
    return tuple(names)
