"""Fine-tuning: a new run that starts from what another run learnt.

The new network takes every layer of the other run's checkpoint whose name and shape
match its own (all of a layer's tensors, parameters and buffers such as batch norm's
running statistics, or none of them); the rest starts fresh, as the seed draws it: a final
``linear`` for another number of classes, say. What was copied is recorded in the run's
config (``init_from``: the checkpoint's path and SHA-256, the copied and the fresh layers).

``freeze`` keeps some layers as they were copied (``features``: every layer before the
first ``linear``; ``all-but-head``: every layer but the last ``linear``), and
``backbone_lr_scale`` gives the copied layers that still train a share of the learning
rate: :func:`cnn_core.train.optimizers.param_groups`.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import torch

from ..data.bundle import ProgressFn
from ..nn.models import StudioModel
from ..nn.weights import load_backbone_weights
from ..nn.spec import NetworkSpec
from ..runs.checkpoint import CheckpointError, load_checkpoint
from ..runs.store import is_run_dir, shown_checkpoint

Record = dict[str, Any]  # {"path", "sha256", "copied": [layer, ...], "fresh": [layer, ...]}


def source_checkpoint(given: str | Path) -> Path:
    """The checkpoint ``given`` stands for: a run folder's best (else its last), or the
    file itself. Raises ``ValueError("init_from: ...")``."""
    path = Path(given)
    if path.is_dir():
        if not is_run_dir(path):
            raise ValueError(f"init_from: {path} is a folder, but not a run's")
        path = shown_checkpoint(path)
        if not path.is_file():
            raise ValueError(f"init_from: {given} has no checkpoint yet (it has not finished "
                             "an epoch)")
    elif not path.is_file():
        raise ValueError(f"init_from: there is no run folder or checkpoint at {given}")
    return path.resolve()


def layer_tensors(model: StudioModel) -> dict[str, list[str]]:
    """The ``state_dict`` keys of each of the spec's layers that has any, in order."""
    owners: dict[str, list[str]] = {}
    for layer in model.spec.layers:
        for part in ("features", "classifier"):
            try:
                module = model.get_submodule(f"{part}.{layer.name}")
            except AttributeError:
                continue
            keys = [f"{part}.{layer.name}.{key}" for key in module.state_dict()]
            if keys:
                owners[layer.name] = keys
    return owners


def copy_weights(model: StudioModel, given: str | Record) -> Record:
    """Copy into ``model`` every layer of ``given``'s checkpoint (a run folder or a file,
    or the record of an earlier start: its path) whose tensors match in name and shape.

    Returns the record of what was copied. Raises ``ValueError("init_from: ...")`` when
    the checkpoint was trained on pictures of another number of channels, or when no
    layer matches, and :class:`~cnn_core.runs.checkpoint.CheckpointError` for a file that
    is not a usable checkpoint.
    """
    named = given["path"] if isinstance(given, dict) else given
    path = source_checkpoint(named)
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    try:
        state = load_checkpoint(path)
    except CheckpointError as exc:
        raise CheckpointError(f"init_from: {exc}") from None
    meta = state["model_meta"]
    channels = int(meta["in_channels"])
    if channels != model.in_channels:
        raise ValueError(f"init_from: the run was trained on {channels}-channel pictures, "
                         f"this one has {model.in_channels}")
    source, target = state["model"], model.state_dict()
    copied, fresh = [], []
    for layer, keys in layer_tensors(model).items():
        same = all(k in source and source[k].shape == target[k].shape for k in keys)
        (copied if same else fresh).append(layer)
    if not copied:
        raise ValueError(f"init_from: no layer of {named} ({meta['arch']}) has the name and "
                         f"shape of one of this network's{_first_difference(source, target)}")
    with torch.no_grad():
        for layer in copied:
            for key in layer_tensors(model)[layer]:
                target[key].copy_(source[key])
    return {"path": str(path), "sha256": digest, "copied": copied, "fresh": fresh}


def starting_weights(model: StudioModel, config: Any, info: Any, *,
                     progress: ProgressFn | None = None,
                     cancel: threading.Event | None = None) -> Record | None:
    """Give a fresh ``model`` the weights ``config``'s run starts from: another run's where
    it fine-tunes (the record returned), then ImageNet's (or a file's) for each backbone not
    copied; and tell its backbones how ``info``'s pictures are normalised (a copied one
    came with the other run's)."""
    record = copy_weights(model, config.init_from) if config.init_from is not None else None
    load_backbone_weights(model, config.data_dir, progress=progress, cancel=cancel,
                          skip=record["copied"] if record is not None else ())
    model.set_input_normalisation(info.mean, info.std)
    return record


def _first_difference(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> str:
    """``" (conv1.weight: 6x1x5x5 there, 32x1x3x3 here)"``, or nothing when no name is
    shared."""
    def shape(tensor: torch.Tensor) -> str:
        return "x".join(map(str, tensor.shape)) or "a number"

    key = next((k for k in target if k in source and source[k].shape != target[k].shape),
               None)
    if key is None:
        return " (they share no name)"
    name = key.split(".", 1)[1]
    return f" ({name}: {shape(source[key])} there, {shape(target[key])} here)"


def frozen_layers(spec: NetworkSpec, freeze: str) -> list[str]:
    """The layers ``freeze`` keeps: ``features``, those before the first ``linear``;
    ``all-but-head``, all but the last ``linear``; ``none``, none."""
    layers = [layer.name for layer in spec.layers]
    linears = [i for i, layer in enumerate(spec.layers) if layer.type == "linear"]
    if freeze == "none" or not linears:
        return []
    if freeze == "features":
        return layers[:linears[0]]
    return [name for i, name in enumerate(layers) if i != linears[-1]]


def describe(record: Record, frozen: list[str], most: int = 8) -> str:
    """What a fine-tuned run started with, in a line: copied, fresh and frozen layers."""
    def names(layers: list[str]) -> str:
        shown = ", ".join(layers[:most])
        return shown + (f" and {len(layers) - most} more" if len(layers) > most else "")

    parts = [f"copied {names(record['copied'])}",
             f"fresh {names(record['fresh'])}" if record["fresh"] else "nothing fresh"]
    weighed = [name for name in frozen if name in (*record["copied"], *record["fresh"])]
    if weighed:
        parts.append(f"frozen {names(weighed)}")
    return "; ".join(parts)
