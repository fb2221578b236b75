"""What a filter is worth: the accuracy the network loses when some of a conv layer's
channels are switched off (their feature maps zeroed where people see them, after the
nonlinearity), without changing the model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..nn.models import StudioModel
from .analysis import _device, _inference, confusion_from_predictions
from .cancel import check
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


def _predictions(model: nn.Module, images: Tensor, batch_size: int) -> np.ndarray:
    device = _device(model)
    with _inference(model):
        parts = [model(images[i:i + batch_size].to(device)).argmax(1).cpu()
                 for i in range(0, len(images), batch_size) or [0]]
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
           batch_size: int = 500, before: np.ndarray | None = None) -> Ablation:
    """Accuracy, per class and as a confusion matrix, before and after zeroing ``channels``
    of conv ``layer_name``'s feature maps (after its nonlinearity). A forward hook does the
    zeroing and is removed afterwards; the model itself is never changed.

    ``before``: the intact model's predictions of ``images``, when the caller has them (an
    evaluation of the same weights), to spare their forward pass."""
    seen, count = _seen_module(model, layer_name)
    off = _channels(channels, count, layer_name)
    classes = model.num_classes if num_classes is None else num_classes
    if before is None:
        before = _predictions(model, images, batch_size)
    after = before
    if off:
        def zero(_m: nn.Module, _i: object, out: Tensor) -> Tensor:
            out = out.clone()
            out[:, list(off)] = 0
            return out

        hook = seen.register_forward_hook(zero)
        try:
            after = _predictions(model, images, batch_size)
        finally:
            hook.remove()
    truth = labels.cpu().numpy()
    accuracy_before, per_class_before, confusion_before = _scores(truth, before, classes)
    accuracy_after, per_class_after, confusion_after = _scores(truth, after, classes)
    return Ablation(layer_name, off, accuracy_before, accuracy_after, per_class_before,
                    per_class_after, confusion_before, confusion_after)


def _layers_after(model: StudioModel, seen: nn.Module) -> list[nn.Module]:
    """The leaf modules of ``features`` that follow ``seen``, in forward order (blocks are
    sequences, so their leaves run in the order they are listed)."""
    leaves = [m for m in model.features.modules() if next(m.children(), None) is None]
    return leaves[next(i for i, m in enumerate(leaves) if m is seen) + 1:]


def _chunk_size(model: StudioModel, seen: nn.Module, images: Tensor, batch_size: int) -> int:
    """Images whose maps at ``seen`` fit in ``CHUNK_BYTES``, in whole batches (one at least)."""
    if not len(images):
        return batch_size
    one = run_until(model, seen, images[:1].to(_device(model)))
    fits = CHUNK_BYTES // (one.numel() * one.element_size())
    return max(1, fits // batch_size) * batch_size


def filter_importance(model: StudioModel, images: Tensor, labels: Tensor, layer_name: str, *,
                      progress: Callable[[int, int], None] | None = None,
                      cancel: Callable[[], bool] | None = None,
                      batch_size: int = 500) -> np.ndarray:
    """float32 (channels,): the accuracy lost (before - after) when each channel of conv
    ``layer_name`` alone is switched off, as :func:`ablate` measures it. Negative where the
    network does better without the channel.

    The network runs once up to the layer; only what follows it runs again, once per
    channel. The layer's maps are kept for up to ``CHUNK_BYTES`` of images at a time:
    ``progress(done, total)`` counts channels times such chunks (one for most sets);
    ``cancel()`` returning True raises :class:`~cnn_core.inspect.cancel.Cancelled`.
    """
    seen, count = _seen_module(model, layer_name)
    rest = _layers_after(model, seen)
    device = _device(model)

    def classify(maps: Tensor) -> Tensor:
        for layer in rest:
            maps = layer(maps)
        return model.classifier(maps).argmax(1)

    right_before = 0
    right_after = np.zeros(count, np.int64)
    with _inference(model):
        chunk = _chunk_size(model, seen, images, batch_size)
        starts = range(0, len(images), chunk)
        for k, start in enumerate(starts):
            # the same values, laid out channels-last: pooling on the CPU is several times faster
            batches = [(run_until(model, seen, images[i:i + batch_size].to(device))
                        .contiguous(memory_format=torch.channels_last),
                        labels[i:i + batch_size].to(device))
                       for i in range(start, min(start + chunk, len(images)), batch_size)]
            right_before += sum(int((classify(maps) == y).sum()) for maps, y in batches)
            for c in range(count):
                check(cancel)
                for maps, y in batches:
                    maps = maps.clone()
                    maps[:, c] = 0
                    right_after[c] += int((classify(maps) == y).sum())
                if progress is not None:
                    progress(k * count + c + 1, len(starts) * count)
    total = max(len(labels), 1)
    return (right_before / total - right_after / total).astype(np.float32)
