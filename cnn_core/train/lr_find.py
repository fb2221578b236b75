"""The learning-rate finder, after fastai's ``lr_find``: a short run on a fresh copy of the
configuration's model, the learning rate growing exponentially from ``start_lr`` to
``end_lr`` over ``steps`` batches. Where the loss falls fastest, training goes fastest.

The suggestion follows fastai's "valley" rule (:func:`valley`): the longest stretch over
which the smoothed loss keeps falling, and the rate about halfway along it: past the start
of the fall, well before the bottom, where the loss is about to rise again.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data.augment import augment_batch, parse_augmentation
from ..data.bundle import DataBundle
from ..nn.models import build_model
from .config import TrainConfig, resolve_device
from .init_from import frozen_layers, starting_weights
from .optimizers import make_optimizer

SMOOTHING = 0.98  # the exponential moving average of the loss, as fastai's
DIVERGED = 4.0  # stop once the smoothed loss is this many times its best


@dataclass(frozen=True)
class LrFinding:
    """The loss at each learning rate tried (``losses`` smoothed, ``raw_losses`` as
    measured), and the rate suggested."""

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float


def find_lr(config: TrainConfig, data: DataBundle, *, start_lr: float = 1e-7,
            end_lr: float = 10.0, steps: int = 100,
            progress: Callable[[int, int], None] | None = None,
            cancel: threading.Event | None = None) -> LrFinding:
    """Try ``steps`` learning rates from ``start_lr`` to ``end_lr`` (one batch each) on a
    fresh model built as ``config``'s run would build it (same seed; the weights it starts
    from, its frozen layers and their groups' shares of the rate), stopping early once
    the loss diverges. Touches nothing of any run: not its model, not the global random
    state (dropout draws from a forked one)."""
    if not (0 < start_lr < end_lr) or steps < 2:
        raise ValueError("lr-find: needs 0 < start_lr < end_lr and at least 2 steps")
    config.validate()
    device = resolve_device(config.device)
    info = data.info
    train = data.train.to(device)
    if len(train) == 0:
        raise ValueError("lr-find: the dataset has no training pictures")
    augmentation = parse_augmentation(config.augment)
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(steps) / (steps - 1))
    raw: list[float] = []
    smoothed: list[float] = []  # debiased exponential moving average of ``raw``
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(config.seed)
        model = build_model(config.arch, network=config.network, in_channels=info.in_channels,
                            num_classes=info.num_classes, input_size=info.input_size).to(device)
        model.freeze(frozen_layers(model.spec, config.freeze))
        record = starting_weights(model, config, info)  # the weights the run starts from
        if record is not None:  # and the groups its copied layers train in
            config = dataclasses.replace(config, init_from=record)
        optimizer = make_optimizer(dataclasses.replace(config, lr=float(lrs[0])), model, device)
        criterion = nn.CrossEntropyLoss()
        order = torch.Generator().manual_seed(config.seed)
        augment_rng = torch.Generator().manual_seed(config.seed + 1)
        batches = _batches(len(train), config.batch_size, order)
        model.train()
        best, average = float("inf"), 0.0
        for step, lr in enumerate(lrs):
            if cancel is not None and cancel.is_set():
                break
            for group in optimizer.param_groups:
                group["lr"] = float(lr) * group["lr_scale"]
            idx = next(batches).to(device)
            x = augment_batch(train.images[idx], augmentation, info, augment_rng)
            loss = criterion(model(x), train.labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = float(loss.detach())
            raw.append(value)
            average = SMOOTHING * average + (1 - SMOOTHING) * value
            smoothed.append(average / (1 - SMOOTHING ** (step + 1)))
            if progress is not None:
                progress(step + 1, steps)
            if not np.isfinite(smoothed[-1]) or smoothed[-1] > DIVERGED * best:
                break
            best = min(best, smoothed[-1])
    tried, losses = lrs[:len(raw)], np.array(smoothed)
    return LrFinding(tried, losses, np.array(raw), valley(tried, losses))


def _batches(n: int, batch_size: int, order: torch.Generator):
    """Batches of shuffled indices, one pass after another, for as long as asked."""
    while True:
        for batch in torch.randperm(n, generator=order).split(batch_size):
            yield batch


def valley(lrs: np.ndarray, losses: np.ndarray) -> float:
    """fastai's "valley" rule: leave out the first tenth of the steps and the last five,
    find the longest falling run of the smoothed loss (a longest decreasing subsequence),
    and take the rate about halfway along it."""
    n = len(losses)
    if n == 0:
        return float("nan")
    skip = n // 10
    kept_lrs, kept = (lrs[skip:n - 5], losses[skip:n - 5]) if n - 5 - skip >= 2 else (lrs, losses)
    longest = np.ones(len(kept), int)  # the longest falling run ending at each step
    start = end = 0
    for i in range(1, len(kept)):
        for j in range(i):
            if kept[i] < kept[j] and longest[i] < longest[j] + 1:
                longest[i] = longest[j] + 1
        if longest[end] < longest[i]:
            end = i
            start = end - longest[end]
    third = (end - start) / 3
    return float(kept_lrs[start + int(third) + int(third / 2)])
