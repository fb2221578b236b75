"""CPU copies of a model's insides for the snapshots, made once for what does not train.

A snapshot every 1.5 s copied the whole network: with a frozen ResNet-18, 45 MB of
weights that never change, its 20 layers' kernels turned into arrays, and the probe
image run through the backbone for maps that never change either. The tensors that do
not train (:func:`~cnn_core.runs.snapshots.frozen_state`: parameters that get no
gradient, the statistics of batch norms none of whose parameters train) are copied
once, and their copy handed out again while the tensor is the same object at the same
version (autograd's count of in-place changes, which a load or an edit made in place
bumps); the probe's maps likewise, while nothing before the flatten trains. What trains
is copied every time: fused optimizers and batch norm's statistics change tensors
without bumping that count. The copies are shared by the snapshots; nobody writes into
them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from torch import Tensor

from cnn_core.nn.models import StudioModel
from cnn_core.runs.snapshots import frozen_state

_Kept = tuple[Tensor, int, object]  # the live tensor, its version, the copy made of it


def _version(tensor: Tensor) -> int:
    return tensor._version  # noqa: SLF001 - autograd's own count of in-place changes


class WeightCopies:
    """Hands out copies of one model's weights, kernels and probe maps, reusing those of
    tensors that do not train and have not been changed since the last call."""

    def __init__(self) -> None:
        self._state: dict[str, _Kept] = {}
        self._filters: dict[str, _Kept] = {}
        self._maps: tuple[list[tuple[int, tuple, int]], dict[str, np.ndarray]] | None = None

    def state(self, model: StudioModel) -> dict[str, Tensor]:
        """The state dict, on the CPU."""
        self._state = _reuse(self._state, model.state_dict(keep_vars=True), frozen_state(model),
                             lambda t: t.detach().to("cpu", copy=True))
        return {key: kept[2] for key, kept in self._state.items()}

    def filters(self, model: StudioModel) -> dict[str, np.ndarray]:
        """Each conv layer's kernels, float32 (out, in, kh, kw), as ``conv_filters``."""
        weights = {name: conv.weight for name, conv in model.conv_layers()}
        frozen = {name for name, weight in weights.items() if not weight.requires_grad}
        self._filters = _reuse(self._filters, weights, frozen,
                               lambda t: t.detach().float().cpu().numpy().copy())
        return {name: kept[2] for name, kept in self._filters.items()}

    def maps(self, model: StudioModel, probe: Tensor,
             compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """``compute()`` (the probe's feature maps), or the maps computed last when
        nothing before the flatten trains or has been changed since, and the probe is the
        same (a new view of the same picture each time: its memory is compared)."""
        state = model.features.state_dict(keep_vars=True)
        inputs = [(probe.data_ptr(), tuple(probe.shape), _version(probe))]
        inputs += [(id(t), (), _version(t)) for t in state.values()]
        fixed = {f"features.{key}" for key in state} <= frozen_state(model)
        if fixed and self._maps is not None and self._maps[0] == inputs:
            return self._maps[1]
        maps = compute()
        self._maps = (inputs, maps)
        return maps


def _reuse(kept: dict[str, _Kept], tensors: dict[str, Tensor], frozen: set[str],
           copy: Callable[[Tensor], object]) -> dict[str, _Kept]:
    fresh: dict[str, _Kept] = {}
    for key, tensor in tensors.items():
        old = kept.get(key)
        if key in frozen and old is not None and old[0] is tensor and old[1] == _version(tensor):
            fresh[key] = old
        else:
            fresh[key] = (tensor, _version(tensor), copy(tensor))
    return fresh
