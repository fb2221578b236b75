"""The conv layers inside a torchvision backbone, in forward order, each with the module
whose output people are shown as its feature map.

Which map stands for a conv (the views hook that module):

- the activation right after it, with its batch norm between, where both sit in a
  ``Sequential`` (MobileNet's and EfficientNet's ``Conv2dNormActivation``, ResNet's stem
  ``conv1 -> bn1 -> relu``): there each module runs once, in the order listed;
- the batch norm right after it inside a block whose ``forward`` is its own code
  (ResNet's ``BasicBlock``): that block runs one ReLU module twice, after ``bn1`` and again
  after the shortcut is added, so a hook on it fires twice and its second output is the
  block's sum, not this conv's work; the batch norm runs once and is this conv's output,
  normalised;
- the conv itself when neither follows it.

Squeeze-and-excitation gates (MobileNet, EfficientNet) are left out: their two 1x1 convs
read a map pooled to one pixel and scale channels, they draw no feature map.
"""

from __future__ import annotations

from torch import nn

from .backbones import Pretrained
from .layers import Conv2D

CONV_TYPES = (Conv2D, nn.Conv2d)  # the project's own conv, and torchvision's
ConvLayer = Conv2D | nn.Conv2d
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Hardswish, nn.SiLU, nn.GELU, nn.Tanh,
               nn.Sigmoid)

ConvMap = tuple[str, nn.Conv2d, nn.Module]  # name, conv, the module whose output is its map


def backbone_convs(backbone: Pretrained, prefix: str = "") -> list[ConvMap]:
    """Every ``nn.Conv2d`` of ``backbone`` in forward order, named ``prefix`` + its
    torchvision name (``backbone.layer1.0.conv1``), with the module its map comes from."""
    found: list[ConvMap] = []
    _walk(backbone, prefix, found)
    return found


def _is_gate(module: nn.Module) -> bool:
    from torchvision.ops.misc import SqueezeExcitation

    return isinstance(module, SqueezeExcitation)


def _walk(container: nn.Module, prefix: str, found: list[ConvMap]) -> None:
    """Add the convs of ``container`` to ``found``. Only a ``Sequential`` (or the backbone
    itself, which runs its children in turn) is known to run its children once each, in
    the order listed; any other block may run them otherwise."""
    in_order = isinstance(container, (nn.Sequential, Pretrained))
    pending: list | None = None  # [name, conv, map] waiting for what follows the conv

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            found.append((pending[0], pending[1], pending[2]))
            pending = None

    for name, child in container.named_children():
        if isinstance(child, nn.Conv2d):
            flush()
            pending = [prefix + name, child, child]
        elif pending is not None and isinstance(child, nn.BatchNorm2d):
            pending[2] = child
            if not in_order:
                flush()
        elif pending is not None and in_order and isinstance(child, nn.Dropout):
            continue
        elif pending is not None and in_order and isinstance(child, ACTIVATIONS):
            pending[2] = child
            flush()
        else:
            flush()
            if next(child.children(), None) is not None and not _is_gate(child):
                _walk(child, f"{prefix}{name}.", found)
    flush()
