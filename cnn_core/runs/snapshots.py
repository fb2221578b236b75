"""The weights a run saves after every epoch, for the time-lapse of a past run, and how
they are read back.

``snapshots/epoch-NNNN.npz`` holds ``filters/<conv layer>`` and ``state/<state_dict key>``
in half precision (float32 where a value is beyond float16's range). What does not train
(a frozen backbone: 11 of ResNet-18's 11.2 million weights) is written once per run, in
``snapshots/fixed.npz``, and an epoch's file holds only what differs from it; reading an
epoch puts the two together. A run saved before ``fixed.npz`` existed has everything in
each epoch's file, and reads as it always did.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write

FIXED = "fixed.npz"
HALF_MAX = float(np.finfo(np.float16).max)

Arrays = dict[str, np.ndarray]


@dataclass
class Snapshot:
    """The network after one epoch, as saved in ``snapshots/`` (float16 on disk)."""

    epoch: int
    filters: dict[str, np.ndarray]  # conv layer -> float32 (out, in, kh, kw)
    state: dict[str, np.ndarray]  # the model's state_dict, float32 where it was floating


def compact(weights: np.ndarray) -> np.ndarray:
    """Half precision, unless that would turn large weights (a diverging run's) into inf."""
    finite = weights[np.isfinite(weights)]
    fits = finite.size == 0 or float(np.abs(finite).max()) <= HALF_MAX
    return weights.astype(np.float16 if fits else np.float32)


def frozen_state(model: Any) -> set[str]:
    """The state-dict keys of ``model`` (an ``nn.Module``) that training leaves as they
    are: parameters that get no gradient, and the buffers (batch norm's statistics) of
    layers none of whose own parameters train, which stay in eval mode (a frozen
    backbone's)."""
    training: set[str] = set()
    for prefix, module in model.named_modules():
        own = [(f"{prefix}.{name}" if prefix else name, p)
               for name, p in module.named_parameters(recurse=False)]
        training |= {name for name, p in own if p.requires_grad}
        if any(p.requires_grad for _, p in own):
            training |= {f"{prefix}.{name}" if prefix else name
                         for name, _ in module.named_buffers(recurse=False)}
    return {key for key in model.state_dict() if key not in training}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


class SnapshotWriter:
    """Writes a run's ``snapshots/`` folder: ``fixed.npz`` with the first snapshot (or
    the one already there, when a run resumes into its folder), then each epoch's file
    without the arrays that still equal it. Whatever the model says of what trains, an
    array is left out only where it is equal, so every epoch reads back exactly."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fixed: Arrays | None = None

    def path(self, epoch: int) -> Path:
        return self.folder / f"epoch-{epoch:04d}.npz"

    def write(self, epoch: int, arrays: Arrays, unchanging: set[str]) -> None:
        """Save ``arrays`` (``filters/…``, ``state/…``, compacted) as ``epoch``'s;
        ``unchanging``: the keys that are not meant to train, kept once."""
        fixed = self._fixed_arrays(arrays, unchanging)
        changed = {k: v for k, v in arrays.items() if k not in fixed or not _same(v, fixed[k])}
        # uncompressed: half-precision weights hardly compress, and zlib took 60 ms a
        # DeepCNN epoch from training
        atomic_write(self.path(epoch), lambda f: np.savez(f, **changed))

    def _fixed_arrays(self, arrays: Arrays, unchanging: set[str]) -> Arrays:
        if self._fixed is None:
            path = self.folder / FIXED
            if path.is_file():  # a damaged one: every epoch's file keeps everything
                self._fixed = _read_arrays(path) or {}
            else:
                self._fixed = {k: v for k, v in arrays.items() if k in unchanging}
                if self._fixed:
                    fixed = self._fixed
                    atomic_write(path, lambda f: np.savez(f, **fixed))
        return self._fixed


def _read_arrays(path: Path) -> Arrays | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception:  # NumPy's and zipfile's readers fail in many ways on damage
        return None


@functools.lru_cache(maxsize=2)
def _read_fixed(path: Path, _mtime_ns: int, _size: int) -> Arrays | None:
    """A run's ``fixed.npz``, read once for all its epochs (the file's time and size in
    the key: a new one is read again)."""
    return _read_arrays(path)


def read_snapshots(run_dir: str | Path) -> Iterator[Snapshot]:
    """Every saved snapshot, oldest first, read one at a time (a damaged one is skipped:
    the time-lapse goes on without that epoch)."""
    for path in sorted((Path(run_dir) / "snapshots").glob("epoch-*.npz")):
        snapshot = read_snapshot(path)
        if snapshot is not None:
            yield snapshot


def snapshot_epoch(path: str | Path) -> int:
    """The epoch in a snapshot's name (``epoch-0003.npz``); -1 for a stray name."""
    try:
        return int(Path(path).stem.split("-")[1])
    except (IndexError, ValueError):
        return -1


def read_snapshot(path: str | Path) -> Snapshot | None:
    """One ``snapshots/epoch-NNNN.npz`` with its run's ``fixed.npz``, or None if either
    is damaged or not yet complete."""
    path = Path(path)
    epoch = snapshot_epoch(path)
    if epoch < 0:
        return None
    arrays = _read_arrays(path)
    if arrays is None:
        return None
    fixed_path = path.parent / FIXED
    if fixed_path.is_file():
        stat = fixed_path.stat()
        fixed = _read_fixed(fixed_path, stat.st_mtime_ns, stat.st_size)
        if fixed is None:
            return None
        arrays = {**fixed, **arrays}
    if not all(v.dtype.kind in "fiub" and (v.ndim == 4 or not k.startswith("filters/"))
               for k, v in arrays.items()):
        return None

    def part(prefix: str) -> dict[str, np.ndarray]:
        return {k[len(prefix):]: v.astype(np.float32) if v.dtype.kind == "f" else v
                for k, v in arrays.items() if k.startswith(prefix)}
    return Snapshot(epoch, part("filters/"), part("state/"))
