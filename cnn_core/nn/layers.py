"""From-scratch convolution and pooling layers.

``Conv2D`` owns its kernels (Xavier-uniform, zero bias, the article's weight shape) and
computes the sliding window in one of two interchangeable ways:

- ``"native"``: one call to ``F.conv2d`` (the fast path used for training);
- ``"im2col"``: the maths spelled out -- unfold every receptive field into a column,
  then one matrix multiply with the flattened kernels.

Both are tested against ``torch.nn.Conv2d`` as the oracle, forward and backward.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IntOrPair = int | tuple[int, int]
ConvImpl = Literal["native", "im2col"]


def _pair(value: IntOrPair, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair  # type: ignore[return-value]


def conv2d_im2col(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> Tensor:
    """Convolution as unfold + matrix multiply (what ``F.conv2d`` does, made visible).

    Each output pixel is the dot product of one flattened kernel with one flattened
    receptive field; unfolding all fields into columns turns the whole layer into a
    single ``(out, in*kh*kw) @ (in*kh*kw, positions)`` product.
    """
    n, _, h, w = x.shape
    out_channels, _, kh, kw = weight.shape
    out_h = (h + 2 * padding[0] - kh) // stride[0] + 1
    out_w = (w + 2 * padding[1] - kw) // stride[1] + 1
    columns = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, C*kh*kw, L)
    out = weight.reshape(out_channels, -1) @ columns  # (N, out, L)
    if bias is not None:
        out = out + bias.view(1, -1, 1)
    return out.view(n, out_channels, out_h, out_w)


class Conv2D(nn.Module):
    """2-D convolution with learnable kernels of shape (out, in, kh, kw)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrPair,
        stride: IntOrPair = 1,
        padding: IntOrPair = 0,
        bias: bool = True,
        impl: ConvImpl = "native",
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError("kernel_size and stride must be >= 1 and padding >= 0")
        self.impl: ConvImpl = impl
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        # Xavier keeps the activation variance roughly constant from layer to layer.
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        if self.impl == "im2col":
            return conv2d_im2col(x, self.weight, self.bias, self.stride, self.padding)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}, "
            f"impl={self.impl!r}"
        )


class _Pool2D(nn.Module):
    def __init__(
        self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0
    ) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        # Non-overlapping windows unless told otherwise, as in the article.
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        self.padding = _pair(padding, "padding")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2D(_Pool2D):
    """Keeps the strongest activation of each window."""

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AveragePool2D(_Pool2D):
    """Averages each window (padding counts as zeros, like ``nn.AvgPool2d``)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class Flatten(nn.Module):
    """(N, C, H, W) -> (N, C*H*W), the bridge from feature maps to the classifier."""

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1)
