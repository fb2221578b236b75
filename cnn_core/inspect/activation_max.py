"""What a filter is looking for: an input image grown by gradient ascent until it makes one
channel of a conv layer fire as strongly as it can (activation maximisation).

The images are regularised (weight decay, jitter, a periodic blur, the range of real
pixels) so they show patterns rather than high-frequency noise that fools the filter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from ..nn.models import StudioModel
from .analysis import _device
from .cancel import check
from .reach import conv_layer, run_until, seen_module

LEARNING_RATE = 0.1  # Adam's step, in normalised pixel units
DECAY = 1e-3  # L2 pull towards the mean pixel, against the map's mean
JITTER = 2  # the image is rolled by up to this many pixels each step
BLUR_EVERY = 4  # steps between two blurs
BLUR_SIGMA = 0.5
START_NOISE = 0.1
PROGRESS_EVERY = 8  # steps between two progress reports
LEAK = 0.05  # share of the conv's own output in the score
DEFAULT_RANGE = (-3.0, 3.0)  # normalised units, when the caller gives no pixel range


def _blur(x: Tensor, sigma: float) -> Tensor:
    """A 3x3 Gaussian blur of each channel, edges reflected (torchvision's gaussian_blur,
    without importing torchvision, whose import takes about two seconds)."""
    offsets = torch.tensor([-1.0, 0.0, 1.0], dtype=x.dtype, device=x.device)
    weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
    weights = weights / weights.sum()
    kernel = torch.outer(weights, weights).expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernel, groups=x.shape[1])


def _bounds(input_range: tuple[Sequence[float], Sequence[float]] | None,
            device: torch.device) -> tuple[Tensor, Tensor]:
    low, high = ((DEFAULT_RANGE[0],), (DEFAULT_RANGE[1],)) if input_range is None else input_range
    low_t = torch.as_tensor(low, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    high_t = torch.as_tensor(high, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    if not bool((low_t < high_t).all()):
        raise ValueError("input_range: every channel's low must be below its high")
    return low_t, high_t


def maximize_activation(model: StudioModel, layer_name: str, channels: Sequence[int],
                        steps: int = 64, seed: int = 0, *,
                        input_range: tuple[Sequence[float], Sequence[float]] | None = None,
                        progress: Callable[[int, int], None] | None = None,
                        cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """One image per channel, float32 (len(channels), C, H, W) in normalised input space,
    that maximises the spatial mean of ``layer_name``'s output channel ``channels[i]``.

    The objective is the feature map people see (after the conv's nonlinearity): a mean
    of a conv's own, linear output would be maximised by a flat image. ``input_range`` is (low, high) per input channel in
    normalised units (None: [-3, 3]); ``progress(done, steps)`` is called every few steps;
    ``cancel()`` returning True raises :class:`~cnn_core.inspect.cancel.Cancelled`.
    The forward pass stops at that map. Deterministic for a seed; the model is run
    in eval mode and left untouched.
    """
    conv = conv_layer(model, layer_name)
    seen = seen_module(model, layer_name)
    wanted = [int(c) for c in channels]
    if any(not 0 <= c < conv.out_channels for c in wanted):
        raise ValueError(f"{layer_name} has channels 0..{conv.out_channels - 1}, got {wanted}")
    shape = (len(wanted), model.in_channels, model.input_size, model.input_size)
    if not wanted:
        return np.zeros(shape, np.float32)
    device = _device(model)
    low, high = _bounds(input_range, device)
    generator = torch.Generator().manual_seed(seed)
    start = torch.randn(shape, generator=generator) * START_NOISE
    shifts = torch.randint(-JITTER, JITTER + 1, (steps, 2), generator=generator).tolist()
    x = torch.maximum(torch.minimum(start.to(device), high), low).requires_grad_(True)
    rows, index = torch.arange(len(wanted), device=device), torch.tensor(wanted, device=device)
    optimizer = torch.optim.Adam([x], lr=LEARNING_RATE)
    pixels = x[0].numel()
    raw: list[Tensor] = []
    hook = conv.register_forward_hook(lambda _m, _i, out: raw.append(out))
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            for step in range(steps):
                check(cancel)
                raw.clear()
                shown = run_until(model, seen, torch.roll(x, shifts[step], dims=(2, 3)))
                # the map as shown, plus a little of the conv's own output: a unit that the
                # nonlinearity turns off still has a slope to climb
                score = (shown[rows, index].mean(dim=(1, 2)).sum()
                         + LEAK * raw[0][rows, index].mean(dim=(1, 2)).sum())
                (grad,) = torch.autograd.grad(score, [x])
                optimizer.zero_grad()
                # Adam minimises: descend on -(score - DECAY * mean squared pixel)
                x.grad = 2 * DECAY / pixels * x.detach() - grad
                optimizer.step()
                with torch.no_grad():
                    if (step + 1) % BLUR_EVERY == 0:
                        x.copy_(_blur(x, BLUR_SIGMA))
                    x.copy_(torch.maximum(torch.minimum(x, high), low))
                if progress is not None and ((step + 1) % PROGRESS_EVERY == 0 or
                                             step + 1 == steps):
                    progress(step + 1, steps)
    finally:
        hook.remove()
        model.train(was_training)
    return x.detach().float().cpu().numpy().copy()
