"""Checkpoints: written atomically, read without ever running code from the file.

A checkpoint is a plain dict of tensors and primitives (``Trainer.state_dict``, stamped
with this module's format and version), so ``torch.load(weights_only=True)`` can read
it. A file that fails that -- a pickle that wants to run code, a truncated or foreign
file -- is refused, never retried unsafely.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_write
from ..train.callbacks import EpochMetrics, SettingsChange
from ..train.config import TrainConfig

CHECKPOINT_FORMAT = "cnn-studio-checkpoint"
CHECKPOINT_VERSION = 1
_REQUIRED = ("config", "model_meta", "epoch", "model", "optimizer", "scheduler", "history", "rng")


class CheckpointError(ValueError):
    """The file is not a checkpoint CNN Studio can safely use; the message says why."""


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` (a ``Trainer.state_dict()``) to ``path`` with the format stamp,
    atomically (temp file in the same folder + os.replace)."""
    stamped = {**state, "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION}
    atomic_write(path, lambda f: torch.save(stamped, f))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint; raise :class:`CheckpointError` for anything unusable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the file is empty")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path}: refused, the file holds objects that are not plain weights and could "
            f"run code when loaded ({first})") from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError, KeyError,
            struct.error) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint (damaged or truncated: "
                              f"{type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a CNN Studio checkpoint")
    if state.get("version", 0) > CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: made by a newer CNN Studio (format {state['version']})")
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, missing {', '.join(missing)}")
    _check_contents(state, path)
    return state


def _check_contents(state: dict[str, Any], path: Path) -> None:
    """The parts read before the model is built: settings, epoch, history, changes."""
    try:
        TrainConfig.from_dict({**state["config"], "device": "cpu"}).validate()
        int(state["epoch"])
        [EpochMetrics(**m) for m in state["history"]]
        [SettingsChange.from_dict(c) for c in state.get("changes", [])]
        checkpoint_lr(state)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise CheckpointError(f"{path}: the checkpoint's settings or history are unusable "
                              f"({exc})") from None


def checkpoint_lr(state: dict[str, Any]) -> float:
    """The learning rate the run had reached (after the schedule's cuts)."""
    return float(state["optimizer"]["param_groups"][0]["lr"])

