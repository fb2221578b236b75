"""The time-lapse: what the network looked like at moments through the run.

Snapshots arrive every ~1.5 s and at every epoch's end. Each is stored in float16: the
conv kernels, the rest of the layers before the flatten (biases, batch norm: a few
hundred numbers, so that the explainer can run any image through them) and the probe
image's feature maps; no classifier weights and no optimizer state. The store keeps to a
memory cap: when full, every other stored moment is dropped (the first and the latest
always stay), so a long run is covered evenly from start to now.
"""

from __future__ import annotations

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

    @property
    def nbytes(self) -> int:
        return (sum(a.nbytes for a in self.filters.values())
                + sum(a.nbytes for a in self.maps.values()) + self.probabilities.nbytes
                + sum(a.nbytes for a in self.extras.values()))

    def features_state(self) -> dict[str, np.ndarray]:
        """The conv and pooling part's weights at this moment, as state-dict entries
        (``features.conv1.weight``, ...): what a model needs to compute any feature map."""
        kernels = {f"features.{name}.weight": w for name, w in self.filters.items()}
        return {**self.extras, **kernels}


class TimeLapse:
    def __init__(self, memory_cap: int = MEMORY_CAP) -> None:
        self.memory_cap = memory_cap
        self.moments: list[Moment] = []

    def __len__(self) -> int:
        return len(self.moments)

    def __getitem__(self, index: int) -> Moment:
        return self.moments[index]

    @property
    def nbytes(self) -> int:
        return sum(m.nbytes for m in self.moments)

    def clear(self) -> None:
        self.moments.clear()

    def add(self, progress: float, step: int, filters: dict[str, np.ndarray],
            maps: dict[str, np.ndarray], probabilities: np.ndarray,
            state: dict[str, torch.Tensor] | None = None) -> None:
        """``state``: the model's weights then, of which the features' are kept."""
        half = {k: v.astype(np.float16) for k, v in filters.items()}
        kernels = {f"features.{name}.weight" for name in filters}
        extras = {k: _compact(v) for k, v in (state or {}).items()
                  if k.startswith("features.") and k not in kernels}
        self.moments.append(Moment(progress, step, half,
                                   {k: v.astype(np.float16) for k, v in maps.items()},
                                   probabilities.astype(np.float32), extras))
        while self.nbytes > self.memory_cap and len(self.moments) > 2:
            keep = self.moments[0:-1:2] + [self.moments[-1]]
            if len(keep) == len(self.moments):
                break
            self.moments = keep


def _compact(tensor: torch.Tensor) -> np.ndarray:
    """Floats in float16; counters (batch norm's ``num_batches_tracked``) as they are."""
    array = tensor.detach().cpu().numpy()
    return array.astype(np.float16) if array.dtype.kind == "f" else array.copy()
