"""The one exception a long look inside a model raises when the person cancels it, and
how many pictures such a look runs at once."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ..nn.backbones import Pretrained


class Cancelled(Exception):
    """Raised between two steps when the caller's ``cancel()`` said so; nothing is returned."""


def check(cancel: Callable[[], bool] | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is given and returns True."""
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


BACKBONE_BATCH = 64  # pictures per forward pass through a backbone that sees 64x64


def pictures_per_pass(model: nn.Module, wanted: int) -> int:
    """``wanted`` pictures per forward pass, or fewer through a backbone, so that a long
    look stops soon after it is cancelled and its maps fit in memory: a backbone costs
    as much per picture as its whole input, a ResNet-18 at 224x224 pixels 1.8 billion
    multiply-adds, so it takes ``BACKBONE_BATCH`` pictures at 64 pixels, five at 224."""
    sizes = [m.size for m in model.modules() if isinstance(m, Pretrained)]
    if not sizes:
        return wanted
    return max(1, min(wanted, BACKBONE_BATCH * 64 ** 2 // max(sizes) ** 2))
