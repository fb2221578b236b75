"""What a filter is worth: the accuracy the network loses when some of a conv layer's
channels are switched off (their feature maps zeroed where people see them, after the
nonlinearity), without changing the model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..nn.backbones import Pretrained
from ..nn.models import StudioModel
from .analysis import _device, _inference, confusion_from_predictions
from .cancel import check, pictures_per_pass
from .reach import conv_layer, run_until, seen_module

CHUNK_BYTES = 256 * 2 ** 20  # filter_importance keeps at most this much of the layer's maps


@dataclass(frozen=True)
class Ablation:
    """The network's accuracy on a labelled set as it is and with ``channels`` of ``layer``
    switched off. Per-class accuracy is over each true class; a class with no images
    counts 0 (not NaN, so the arrays can be drawn and compared as they are)."""

    layer: str
    channels: tuple[int, ...]
    accuracy_before: float
    accuracy_after: float
    per_class_before: np.ndarray  # float64 (classes,)
    per_class_after: np.ndarray
    confusion_before: np.ndarray  # int64 (true, predicted)
    confusion_after: np.ndarray


def _seen_module(model: StudioModel, layer_name: str) -> tuple[nn.Module, int]:
    """The module whose output people see for conv ``layer_name``, and its channel count."""
    return seen_module(model, layer_name), conv_layer(model, layer_name).out_channels


def _channels(channels: Sequence[int], count: int, layer_name: str) -> tuple[int, ...]:
    off = tuple(int(c) for c in channels)
    if any(not 0 <= c < count for c in off):
        raise ValueError(f"{layer_name} has channels 0..{count - 1}, got {list(off)}")
    return off


def _predictions(model: nn.Module, images: Tensor, batch_size: int,
                 cancel: Callable[[], bool] | None = None) -> np.ndarray:
    device = _device(model)
    parts = []
    with _inference(model):
        for i in range(0, len(images), batch_size) or [0]:
            check(cancel)
            parts.append(model(images[i:i + batch_size].to(device)).argmax(1).cpu())
    return torch.cat(parts).numpy()


def _scores(labels: np.ndarray, predictions: np.ndarray,
            num_classes: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Accuracy, per-class accuracy (0 for an empty class) and confusion matrix."""
    confusion = confusion_from_predictions(labels, predictions, num_classes)
    images = confusion.sum(axis=1)
    per_class = np.divide(np.diag(confusion), images, out=np.zeros(num_classes),
                          where=images > 0)
    return float(np.trace(confusion) / max(confusion.sum(), 1)), per_class, confusion


def ablate(model: StudioModel, images: Tensor, labels: Tensor, layer_name: str,
           channels: Sequence[int], num_classes: int | None = None,
           batch_size: int = 500, before: np.ndarray | None = None,
           cancel: Callable[[], bool] | None = None) -> Ablation:
    """Accuracy, per class and as a confusion matrix, before and after zeroing ``channels``
    of conv ``layer_name``'s feature maps (after its nonlinearity). A forward hook does the
    zeroing and is removed afterwards; the model itself is never changed.

    ``before``: the intact model's predictions of ``images``, when the caller has them (an
    evaluation of the same weights), to spare their forward pass. ``cancel()`` returning
    True between two batches raises :class:`~cnn_core.inspect.cancel.Cancelled`."""
    seen, count = _seen_module(model, layer_name)
    batch_size = pictures_per_pass(model, batch_size)
    off = _channels(channels, count, layer_name)
    classes = model.num_classes if num_classes is None else num_classes
    if before is None:
        before = _predictions(model, images, batch_size, cancel)
    after = before
    if off:
        def zero(_m: nn.Module, _i: object, out: Tensor) -> Tensor:
            out = out.clone()
            out[:, list(off)] = 0
            return out

        hook = seen.register_forward_hook(zero)
        try:
            after = _predictions(model, images, batch_size, cancel)
        finally:
            hook.remove()
    truth = labels.cpu().numpy()
    accuracy_before, per_class_before, confusion_before = _scores(truth, before, classes)
    accuracy_after, per_class_after, confusion_after = _scores(truth, after, classes)
    return Ablation(layer_name, off, accuracy_before, accuracy_after, per_class_before,
                    per_class_after, confusion_before, confusion_after)


def _in_order(module: nn.Module) -> bool:
    """Whether ``module`` runs its children once each, in the order listed (a backbone
    does, after preparing its input)."""
    return isinstance(module, (nn.Sequential, Pretrained))


def _path(model: StudioModel, module: nn.Module) -> list[nn.Module]:
    """``model.features`` and the modules inside it down to ``module``."""
    name = next(n for n, m in model.features.named_modules() if m is module)
    path = [model.features]
    for part in name.split("."):
        path.append(getattr(path[-1], part))
    return path


@dataclass(frozen=True)
class _Resume:
    """How to run the network on from a layer's maps with a channel switched off.

    ``start`` is the module whose output (``after``: True) or input is kept: the map
    itself where everything around it runs in order, else the innermost block that does
    not (a ResNet block, which adds its input back): that block runs again with the
    channel zeroed, then ``rest``, the layers after it, up to the classifier."""

    start: nn.Module
    after: bool
    rest: list[nn.Module]


def _resume(model: StudioModel, seen: nn.Module) -> _Resume:
    path = _path(model, seen)
    blocks = [i for i in range(1, len(path) - 1) if not _in_order(path[i])]
    cut = blocks[-1] if blocks else len(path) - 1
    rest: list[nn.Module] = []
    for depth in range(cut, 0, -1):
        siblings = list(path[depth - 1].children())
        rest += siblings[next(i for i, m in enumerate(siblings) if m is path[depth]) + 1:]
    return _Resume(path[cut], not blocks, rest)


def _chunk_size(model: StudioModel, resume: _Resume, images: Tensor, batch_size: int) -> int:
    """Images whose kept maps fit in ``CHUNK_BYTES``, in whole batches (one at least)."""
    if not len(images):
        return batch_size
    one = run_until(model, resume.start, images[:1].to(_device(model)), inputs=not resume.after)
    fits = CHUNK_BYTES // (one.numel() * one.element_size())
    return max(1, fits // batch_size) * batch_size


def filter_importance(model: StudioModel, images: Tensor, labels: Tensor, layer_name: str, *,
                      progress: Callable[[int, int], None] | None = None,
                      cancel: Callable[[], bool] | None = None,
                      batch_size: int = 500) -> np.ndarray:
    """float32 (channels,): the accuracy lost (before - after) when each channel of conv
    ``layer_name`` alone is switched off, as :func:`ablate` measures it. Negative where the
    network does better without the channel.

    The network runs once up to the layer (up to the block around it, where that block
    adds its input back, as ResNet's do); only what follows runs again, once per
    channel. The layer's maps are kept for up to ``CHUNK_BYTES`` of images at a time:
    ``progress(done, total)`` counts channels times such chunks (one for most sets);
    ``cancel()`` returning True raises :class:`~cnn_core.inspect.cancel.Cancelled`.
    """
    seen, count = _seen_module(model, layer_name)
    resume = _resume(model, seen)
    device = _device(model)
    batch_size = pictures_per_pass(model, batch_size)

    def classify(kept: Tensor, channel: int | None) -> Tensor:
        if resume.after:
            maps = kept
            if channel is not None:
                maps = maps.clone()
                maps[:, channel] = 0
        else:
            hook = None if channel is None else seen.register_forward_hook(
                lambda _m, _i, out: _zeroed(out, channel))
            try:
                maps = resume.start(kept)
            finally:
                if hook is not None:
                    hook.remove()
        for layer in resume.rest:
            maps = layer(maps)
        return model.classifier(maps).argmax(1)

    right_before = 0
    right_after = np.zeros(count, np.int64)
    with _inference(model):
        chunk = _chunk_size(model, resume, images, batch_size)
        starts = range(0, len(images), chunk)
        for k, start in enumerate(starts):
            batches = []
            for i in range(start, min(start + chunk, len(images)), batch_size):
                check(cancel)
                kept = run_until(model, resume.start, images[i:i + batch_size].to(device),
                                 inputs=not resume.after)
                # the same values, laid out channels-last: pooling on the CPU is several
                # times faster
                batches.append((kept.contiguous(memory_format=torch.channels_last),
                                labels[i:i + batch_size].to(device)))
            for kept, y in batches:
                check(cancel)
                right_before += int((classify(kept, None) == y).sum())
            for c in range(count):
                for kept, y in batches:
                    check(cancel)
                    right_after[c] += int((classify(kept, c) == y).sum())
                if progress is not None:
                    progress(k * count + c + 1, len(starts) * count)
    total = max(len(labels), 1)
    return (right_before / total - right_after / total).astype(np.float32)


def _zeroed(maps: Tensor, channel: int) -> Tensor:
    maps = maps.clone()
    maps[:, channel] = 0
    return maps
