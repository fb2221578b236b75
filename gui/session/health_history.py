"""Layer health, epoch by epoch, measured from the weights a run saved after each epoch:
nothing is spent on it until its tab is shown (a forward and backward pass per epoch, on
the training thread, slowed every run for a tab most never open), and a run opened or
watched shows its whole history too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnn_core.inspect.analysis import LayerHealth, layer_health
from cnn_core.nn.models import model_for_weights
from cnn_core.runs.store import read_snapshot, snapshot_epoch

from ..threads.tasks import TaskState
from ..training.bridge import load_saved

Measured = list[tuple[int, LayerHealth]]


def saved_epochs(history: Path, upto: int) -> dict[int, Path]:
    """The snapshot file of each epoch up to ``upto`` saved in the run folder ``history``."""
    files = {snapshot_epoch(path): path for path in (history / "snapshots").glob("epoch-*.npz")}
    return {epoch: files[epoch] for epoch in sorted(files) if 0 <= epoch <= upto}


def measure_saved(files: list[Path], meta: dict[str, Any], images: np.ndarray,
                  labels: np.ndarray, state: TaskState) -> Measured:
    """:func:`~cnn_core.inspect.analysis.layer_health` of each snapshot in ``files`` on
    ``images``; a snapshot unreadable or of another network is skipped."""
    model = model_for_weights(meta)
    probe, targets = torch.from_numpy(images), torch.from_numpy(labels)
    measured: Measured = []
    for done, path in enumerate(files):
        if state.cancelled:
            break
        state.progress(done, len(files), f"epoch {done + 1} of {len(files)}")
        saved = read_snapshot(path)
        if saved is not None and load_saved(model, saved):
            measured.append((saved.epoch, layer_health(model, probe, targets)))
    return measured
