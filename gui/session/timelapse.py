"""The time-lapse: what the network looked like at moments through the run.

Snapshots arrive every ~1.5 s and at every epoch's end. Each is stored in float16: the
conv kernels, the rest of the layers before the flatten (biases, batch norm: a few
hundred numbers, so that the explainer can run any image through them) and the probe
image's feature maps; no classifier weights and no optimizer state. An array equal to
the one the moment before kept (a frozen backbone's 11 million weights and its maps) is
not stored again: the moments share it, and only what trains takes memory. The store
keeps to a memory cap: when full, every other stored moment is dropped (the first and
the latest always stay), so a long run is covered evenly from start to now.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

MEMORY_CAP = 96 * 2**20  # bytes: ~55 DeepCNN moments, hundreds for the smaller networks


@dataclass(frozen=True)
class Moment:
    progress: float  # epochs, with the fraction of the current one
    step: int
    filters: dict[str, np.ndarray]  # float16 (out, in, kh, kw)
    maps: dict[str, np.ndarray]  # float16 (channels, h, w)
    probabilities: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # features.* besides kernels

    def arrays(self) -> list[np.ndarray]:
        return [*self.filters.values(), *self.maps.values(), self.probabilities,
                *self.extras.values()]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays())

    def features_state(self) -> dict[str, np.ndarray]:
        """The conv and pooling part's weights at this moment, as state-dict entries
        (``features.conv1.weight``, ...): what a model needs to compute any feature map."""
        kernels = {f"features.{name}.weight": w for name, w in self.filters.items()}
        return {**self.extras, **kernels}


class TimeLapse:
    def __init__(self, memory_cap: int = MEMORY_CAP) -> None:
        self.memory_cap = memory_cap
        self.moments: list[Moment] = []
        # (kind, name) -> the array last given (weakly: not kept alive for this) and what
        # was stored of it
        self._stored: dict[tuple[str, str], tuple[weakref.ref, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.moments)

    def __getitem__(self, index: int) -> Moment:
        return self.moments[index]

    @property
    def nbytes(self) -> int:
        """The memory the moments take, an array they share counted once."""
        return sum({id(a): a.nbytes for m in self.moments for a in m.arrays()}.values())

    def clear(self) -> None:
        self.moments.clear()
        self._stored.clear()

    def add(self, progress: float, step: int, filters: dict[str, np.ndarray],
            maps: dict[str, np.ndarray], probabilities: np.ndarray,
            state: dict[str, torch.Tensor] | None = None) -> None:
        """``state``: the model's weights then, of which the features' are kept."""
        half = {k: self._store("filters", k, v, _half) for k, v in filters.items()}
        kernels = {f"features.{name}.weight" for name in filters}
        extras = {k: self._store("state", k, v, _compact) for k, v in (state or {}).items()
                  if k.startswith("features.") and k not in kernels}
        shown = {k: self._store("maps", k, v, _half) for k, v in maps.items()}
        self.moments.append(Moment(progress, step, half, shown,
                                   probabilities.astype(np.float32), extras))
        while self.nbytes > self.memory_cap and len(self.moments) > 2:
            keep = self.moments[0:-1:2] + [self.moments[-1]]
            if len(keep) == len(self.moments):
                break
            self.moments = keep


    def _store(self, kind: str, name: str, given: object,
               convert: Callable[[object], np.ndarray]) -> np.ndarray:
        """What to keep of ``given``: what was kept of it last time when it is the same
        object (a snapshot's copy of a tensor unchanged since, see
        ``gui.training.weight_copies``), or equal to it, else ``convert(given)``."""
        last = self._stored.get((kind, name))
        if last is not None and last[0]() is given:
            return last[1]
        value = convert(given)
        if (last is not None and last[1].dtype == value.dtype and last[1].shape == value.shape
                and np.array_equal(last[1], value)):
            value = last[1]
        self._stored[(kind, name)] = (weakref.ref(given), value)
        return value


def _half(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float16)


def _compact(tensor: torch.Tensor) -> np.ndarray:
    """Floats in float16; counters (batch norm's ``num_batches_tracked``) as they are."""
    array = tensor.detach().cpu().numpy()
    return array.astype(np.float16) if array.dtype.kind == "f" else array.copy()
