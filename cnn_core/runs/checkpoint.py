"""Checkpoints: written atomically, read without ever running code from the file.

A checkpoint is a plain dict of tensors and primitives (``Trainer.state_dict``, stamped
with this module's format and version), so ``torch.load(weights_only=True)`` can read
it. A file that fails that -- a pickle that wants to run code, a truncated or foreign
file -- is refused, never retried unsafely.
"""

from __future__ import annotations

import io
import pickletools
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .atomic import atomic_write
from .errors import first_line
from ..data.datasets import DatasetInfo, get_info, info_from_dict
from ..nn.models import model_for_weights
from ..train.callbacks import EpochMetrics, SettingsChange
from ..train.config import TrainConfig

CHECKPOINT_FORMAT = "cnn-studio-checkpoint"
CHECKPOINT_VERSION = 3  # 2: the config may carry a custom network; 3: the dataset's
# description (class names, normalisation) and image-folder settings
_REQUIRED = ("config", "model_meta", "epoch", "model", "optimizer", "scheduler", "history", "rng")


class CheckpointError(ValueError):
    """The file is not a checkpoint CNN Studio can safely use; the message says why."""


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` (a ``Trainer.state_dict()``) to ``path`` with the format stamp,
    atomically (temp file in the same folder + os.replace)."""
    stamped = {**state, "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION}
    buffer = io.BytesIO()  # torch's writer reports a full disk as RuntimeError; a file's
    torch.save(stamped, buffer)  # write says OSError(ENOSPC)
    atomic_write(path, lambda f: f.write(buffer.getbuffer()))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint, down to its weights fitting their architecture; raise
    :class:`CheckpointError` for anything unusable, whatever the file holds."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = _read(path)
        _check(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: this file is not a usable checkpoint: {exc}") from None
    return state


def _read(path: Path) -> Any:
    if path.stat().st_size == 0:
        raise CheckpointError("the file is empty")
    try:
        _check_sums(path)
        with warnings.catch_warnings():  # torch warns about odd files before failing on them
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except CheckpointError:
        raise
    except Exception as exc:  # torch's unpickler and storages fail in many ways on damage
        unsafe = _unsafe_globals(path)
        if unsafe:
            raise CheckpointError(
                f"refused, it holds objects that are not plain weights and could run code "
                f"when loaded ({', '.join(sorted(unsafe)[:3])})") from None
        if not zipfile.is_zipfile(path):
            with path.open("rb") as f:
                zip_start = f.read(4) == b"PK\x03\x04"
            raise CheckpointError("truncated (it ends before its table of contents)" if zip_start
                                  else "not in PyTorch's checkpoint format") from None
        reason = first_line(exc)[:160]
        if reason.startswith("Weights only load failed"):  # torch's advice, not the cause
            reason = "its pickled contents are damaged"
        raise CheckpointError(f"damaged or truncated ({reason})") from None


def _check_sums(path: Path) -> None:
    """torch's zip format keeps a CRC-32 of every part, but its reader does not check
    them: a changed byte in the weights would load as different weights."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
        if bad is not None:
            raise CheckpointError(f"damaged ({bad} does not match its checksum)")


def _unsafe_globals(path: Path) -> list[str]:
    """The code a pickle in ``path`` refers to beyond plain weights ([] for a file too
    damaged to say): what makes a refused file a possible attack rather than damage."""
    try:
        if zipfile.is_zipfile(path):
            return torch.serialization.get_unsafe_globals_in_checkpoint(path)
        found = []
        strings: list[str] = []
        with path.open("rb") as f:
            for op, arg, _ in pickletools.genops(f):
                if op.name == "GLOBAL":
                    found.append(str(arg).replace(" ", "."))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append(f"{strings[-2]}.{strings[-1]}")
                elif isinstance(arg, str):
                    strings.append(arg)
        return found  # not torch's format: any code it names is more than weights
    except Exception:  # a file too damaged to disassemble is damage, not an attack
        return []


def _check(state: Any) -> None:
    """What a usable checkpoint holds: the stamp, every part, settings and history that
    make sense, and finite weights that fit the architecture they name."""
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError("not a CNN Studio checkpoint")
    version = state.get("version", 0)
    if not isinstance(version, int) or version > CHECKPOINT_VERSION:
        raise CheckpointError(f"made by a newer CNN Studio (format {version})")
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"incomplete, missing {', '.join(missing)}")
    try:
        TrainConfig.from_dict({**state["config"], "device": "cpu"}).validate()
        int(state["epoch"])
        [EpochMetrics(**m) for m in state["history"]]
        [SettingsChange.from_dict(c) for c in state.get("changes", [])]
        checkpoint_lr(state)
        checkpoint_dataset(state)
    except Exception as exc:
        raise CheckpointError(f"its settings or history are unusable "
                              f"({first_line(exc)[:160]})") from None
    _check_weights(state)


def _check_weights(state: dict[str, Any]) -> None:
    weights = state["model"]
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor)
                                                for v in weights.values()):
        raise CheckpointError("its weights are not a set of tensors")
    try:
        expected = model_for_weights(state["model_meta"]).state_dict()
    except Exception as exc:
        raise CheckpointError(f"it names no buildable model ({first_line(exc)[:160]})") from None
    arch = state["model_meta"].get("arch")
    missing = [k for k in expected if k not in weights]
    extra = [k for k in weights if k not in expected]
    misshapen = [k for k in expected if k in weights and weights[k].shape != expected[k].shape]
    for problem, keys in (("lack", missing), ("have unknown", extra),
                          ("have the wrong shape for", misshapen)):
        if keys:
            raise CheckpointError(f"its weights do not fit a {arch}: they {problem} "
                                  f"{', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}")
    broken = [k for k, v in weights.items()  # NumPy: a hundred times quicker here
              if v.is_floating_point() and not np.isfinite(v.float().numpy()).all()]
    if broken:
        raise CheckpointError(f"its weights hold NaN or infinite values ({', '.join(broken[:3])})"
                              "; the run it was saved from had diverged")


def checkpoint_lr(state: dict[str, Any]) -> float:
    """The learning rate the run had reached (after the schedule's cuts)."""
    return float(state["optimizer"]["param_groups"][0]["lr"])



def checkpoint_dataset(state: dict[str, Any]) -> DatasetInfo:
    """The dataset the model learnt: its classes and the normalisation its input needs
    (recorded since format 3; a built-in's own description before)."""
    if "dataset" in state:
        return info_from_dict(state["dataset"])
    return get_info(state["config"]["dataset"])
