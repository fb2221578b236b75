"""How one output value of a convolution is computed: the window of the layer's input it
reads, times the kernel, summed, plus the bias (CNN Explainer's view, on any network)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.backbone_layers import CONV_TYPES, ConvLayer
from ..nn.backbones import Pretrained
from ..nn.layers import AveragePool2D, MaxPool2D
from ..nn.models import StudioModel
from .reach import conv_layer, run_until, seen_module


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
    normalised image (C, H, W). Stride, padding and dilation are honoured; raises
    ValueError for a layer, channel or position that does not exist, and for a grouped
    convolution (MobileNet's depthwise layers), whose output channels each read only a
    few of the input's."""
    return _explain(model, image, layer_name, channel, row, col)[0]


def _explain(model: StudioModel, image: Tensor, layer_name: str, channel: int, row: int,
             col: int) -> tuple[ConvExplanation, tuple[int, int]]:
    """:func:`explain_conv`, and the height and width of what the layer reads."""
    conv = conv_layer(model, layer_name)
    groups = getattr(conv, "groups", 1)
    if groups != 1:
        raise ValueError(f"{layer_name} is a grouped convolution ({groups} groups, each "
                         f"output channel reads {conv.in_channels // groups} of the "
                         f"{conv.in_channels} input channels): the explainer is not for "
                         "grouped convolutions")
    if not isinstance(conv.padding, tuple) or getattr(conv, "padding_mode", "zeros") != "zeros":
        raise ValueError(f"{layer_name} pads with {conv.padding!r} "
                         f"({getattr(conv, 'padding_mode', 'zeros')}): the explainer takes "
                         "zero padding of a given size")
    sizes: list[tuple[int, int]] = []  # what each backbone reads, on the way to the conv
    hooks = [m.register_forward_pre_hook(lambda _m, args: sizes.append(tuple(args[0].shape[-2:])))
             for m in model.features.modules() if isinstance(m, Pretrained)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            x = image.unsqueeze(0).to(next(model.parameters()).device)
            layer_input = run_until(model, conv, x, inputs=True)
            output = conv(layer_input)[0]
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    if not (0 <= channel < output.shape[0] and 0 <= row < output.shape[1]
            and 0 <= col < output.shape[2]):
        raise ValueError(f"{layer_name} has outputs {tuple(output.shape)}; "
                         f"({channel}, {row}, {col}) is outside them")
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _window(conv)
    padded = F.pad(layer_input[0], (pw, pw, ph, ph))
    patch = padded[:, row * sh:row * sh + dh * (kh - 1) + 1:dh,
                   col * sw:col * sw + dw * (kw - 1) + 1:dw]
    bias = float(conv.bias[channel].detach()) if conv.bias is not None else 0.0
    explained = ConvExplanation(
        layer_name, channel, row, col,
        patch=patch.float().cpu().numpy().copy(),
        kernel=conv.weight[channel].detach().float().cpu().numpy().copy(),
        bias=bias, value=float(output[channel, row, col]),
        field=_receptive_field(model, layer_name, row, col, tuple(image.shape[-2:]),
                               iter(sizes)))
    return explained, (int(layer_input.shape[-2]), int(layer_input.shape[-1]))


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[-1]))


def _window(module: nn.Module) -> tuple[tuple[int, int], ...]:
    """Kernel, stride, padding and dilation of a conv or pooling layer, as pairs."""
    kernel = _pair(module.kernel_size)
    stride = _pair(module.stride if module.stride is not None else module.kernel_size)
    return (kernel, stride, _pair(module.padding), _pair(getattr(module, "dilation", 1)))


def _steps_to(model: StudioModel, target: str) -> list[nn.Module]:
    """The convolutions, poolings and backbones (which resize) that the main path to
    conv ``target`` runs through, in forward order, the target included. Left out, as
    they do not widen the field: squeeze-and-excitation gates, which scale whole maps,
    and ResNet's shortcuts (``downsample``), which run beside a block's convs and see no
    more than they do (a shortcut conv's own path skips that block's convs instead)."""
    full = f"{target}."
    shortcut = f"{target.rpartition('.downsample.')[0]}." if ".downsample." in full else None
    skipped: list[str] = []
    steps: list[nn.Module] = []
    for name, module in model.features.named_modules():
        if name == target:
            return steps + [module]
        if any(name.startswith(prefix) for prefix in skipped):
            continue
        inside = f"{name}."
        if (type(module).__name__ == "SqueezeExcitation"
                or (name.endswith(".downsample") and not full.startswith(inside))
                or (shortcut is not None and inside.startswith(shortcut)
                    and not full.startswith(inside) and name != shortcut[:-1])):
            skipped.append(inside)
        elif isinstance(module, (*CONV_TYPES, MaxPool2D, AveragePool2D, nn.MaxPool2d,
                                 nn.AvgPool2d, Pretrained)):
            steps.append(module)
    raise ValueError(f"no conv layer {target!r}")


def _receptive_field(model: StudioModel, target: str, row: int, col: int,
                     size: tuple[int, int], backbone_inputs: Iterator[tuple[int, int]]
                     ) -> tuple[int, int, int, int]:
    """The input pixels output (row, col) of conv ``target`` depends on, walking back
    through every convolution and pooling before it, and through the resizing a backbone
    does to its input (``backbone_inputs``: the size each backbone is given)."""
    steps = _steps_to(model, target)
    resized = {id(m): (next(backbone_inputs), m.size) for m in steps
               if isinstance(m, Pretrained)}
    top, bottom, left, right = row, row, col, col
    for module in reversed(steps):
        if isinstance(module, Pretrained):
            (height, width), seen = resized[id(module)]
            top, bottom = _unresize(top, bottom, seen, height)
            left, right = _unresize(left, right, seen, width)
            continue
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _window(module)
        top, bottom = top * sh - ph, bottom * sh - ph + dh * (kh - 1)
        left, right = left * sw - pw, right * sw - pw + dw * (kw - 1)
    height, width = int(size[0]), int(size[1])
    return (max(top, 0), max(left, 0), min(bottom, height - 1), min(right, width - 1))


def _unresize(first: int, last: int, resized: int, original: int) -> tuple[int, int]:
    """Pixels ``first..last`` of a picture resized from ``original`` to ``resized``
    pixels (bilinear, as the backbone resizes) -> the original pixels they are made of."""
    if resized == original:
        return first, last
    scale = original / resized
    first, last = max(first, 0), min(last, resized - 1)
    low = math.floor(max((first + 0.5) * scale - 0.5, 0.0))
    high = min(math.floor(max((last + 0.5) * scale - 0.5, 0.0)) + 1, original - 1)
    return low, high


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
    seen = seen_module(model, layer_name)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            fmap = run_until(model, seen, image.unsqueeze(0).to(next(model.parameters()).device))
    finally:
        model.train(was_training)
    fmap = fmap[0].float().cpu().numpy().copy()
    if not 0 <= channel < len(fmap):
        raise ValueError(f"{layer_name} has {len(fmap)} channels; {channel} is not one")
    if row is None or col is None:
        row, col = (int(i) for i in np.unravel_index(np.argmax(fmap[channel]),
                                                     fmap.shape[1:]))
    explained, (in_h, in_w) = _explain(model, image, layer_name, channel, row, col)
    conv = conv_layer(model, layer_name)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _window(conv)
    rows = np.arange(kh) * dh + row * sh - ph
    cols = np.arange(kw) * dw + col * sw - pw
    inside = ((rows >= 0) & (rows < in_h))[:, None] & ((cols >= 0) & (cols < in_w))[None, :]
    return MapPixel(explained, fmap[channel], _between(model, conv, seen), ~inside,
                    (sh, sw), (ph, pw))


def _between(model: StudioModel, conv: ConvLayer, seen: nn.Module) -> tuple[str, ...]:
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
