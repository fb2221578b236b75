"""The time-lapse: what the network looked like at moments through the run.

Snapshots arrive every ~1.5 s and at every epoch's end. Each is stored in float16
(conv kernels and the probe image's feature maps; no optimizer state), and the store
keeps to a memory cap: when full, every other stored moment is dropped (the first and
the latest always stay), so a long run is covered evenly from start to now.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEMORY_CAP = 96 * 2**20  # bytes: ~55 DeepCNN moments, hundreds for the smaller networks


@dataclass(frozen=True)
class Moment:
    progress: float  # epochs, with the fraction of the current one
    step: int
    filters: dict[str, np.ndarray]  # float16 (out, in, kh, kw)
    maps: dict[str, np.ndarray]  # float16 (channels, h, w)
    probabilities: np.ndarray

    @property
    def nbytes(self) -> int:
        return (sum(a.nbytes for a in self.filters.values())
                + sum(a.nbytes for a in self.maps.values()) + self.probabilities.nbytes)


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
            maps: dict[str, np.ndarray], probabilities: np.ndarray) -> None:
        half = {k: v.astype(np.float16) for k, v in filters.items()}
        self.moments.append(Moment(progress, step, half,
                                   {k: v.astype(np.float16) for k, v in maps.items()},
                                   probabilities.astype(np.float32)))
        while self.nbytes > self.memory_cap and len(self.moments) > 2:
            keep = self.moments[0:-1:2] + [self.moments[-1]]
            if len(keep) == len(self.moments):
                break
            self.moments = keep
