"""The settings of one training run, validated before anything starts."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, fields
from collections.abc import Callable
from typing import Any

import torch

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("step", "onecycle", "cosine", "constant")  # see cnn_core.train.schedules
MONITORS = ("test_acc", "test_loss")  # what early stopping watches
SPLIT_RULES = ("path", "shuffle")  # a folder without test/: see cnn_core.data.folders
# what a fine-tuned run keeps as it was: see cnn_core.train.init_from
FREEZE_MODES = ("none", "features", "all-but-head")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass
class TrainConfig:
    """Defaults follow the article: Adam, lr 1e-3, StepLR(5, 0.5), batch 64."""

    arch: str = "simplecnn"
    dataset: str = "mnist-sample"
    epochs: int = 5
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    step_size: int = 5  # StepLR: multiply the lr by gamma every step_size epochs
    gamma: float = 0.5
    schedule: str = "step"  # how the lr moves: one of SCHEDULES
    warmup_epochs: float = 0.0  # cosine: epochs of linear warm-up before the cosine
    early_stop: int = 0  # stop after this many epochs without improvement (0: never)
    monitor: str = "test_acc"  # what early stopping watches: one of MONITORS
    min_delta: float = 0.0  # the least change that counts as an improvement (acc: 0..1)
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    network: dict[str, Any] | None = None  # a custom network's spec; arch is then its name
    # an image folder (dataset is its absolute path): how its pictures become tensors
    image_size: int = 32  # pixels of the square every picture is resized to
    channels: int = 0  # 1 or 3; 0: 3 if any picture has colour, else 1 (set at load)
    test_fraction: float = 0.2  # held out per class when the folder has no test/ split
    split: str = "path"  # how: "path" (by each picture's path) or "shuffle" (older runs)
    class_names: list[str] | None = None  # the folder's classes, recorded at load
    augment: str = ""  # e.g. "shift=2,flip,rotate=10" (see cnn_core.data.augment)
    sweep: dict[str, Any] | None = None  # a sweep's trial: {"name": sweep, "trial": number}
    # the run folder or checkpoint whose weights a new run starts from; once started, what
    # it started from: {"path", "sha256", "copied": [layers], "fresh": [layers]}
    init_from: str | dict[str, Any] | None = None
    freeze: str = "none"  # layers that keep the weights they started with: FREEZE_MODES
    backbone_lr_scale: float = 1.0  # the copied layers' share of the learning rate

    def validate(self) -> None:
        """Raise ``ValueError("field: reason")`` for the first bad field."""
        from ..data.augment import parse_augmentation
        from ..data.source import resolve
        from ..nn.models import MODELS, network_spec
        from ..nn.spec import infer_shapes

        def bad(name: str, reason: str) -> ValueError:
            return ValueError(f"{name}: {reason}")

        for f in fields(self):
            value = getattr(self, f.name)
            expected = {"int": int, "float": (int, float), "str": str}.get(str(f.type))
            if expected and (not isinstance(value, expected) or isinstance(value, bool)):
                raise bad(f.name, f"expected {f.type}, got {value!r}")
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise bad("data_dir", f"expected a folder, got {self.data_dir!r}")
        if self.network is None and self.arch not in MODELS:
            raise bad("arch", f"unknown architecture {self.arch!r} (choose {', '.join(MODELS)}"
                              " or a network spec)")
        try:
            resolve(self.dataset)
        except ValueError as exc:
            raise bad("dataset", str(exc)) from None
        self._validate_folder_settings(bad)
        try:
            parse_augmentation(self.augment)
        except ValueError as exc:
            raise bad("augment", str(exc)) from None
        shapes = None
        if self.network is not None:
            if not isinstance(self.network, dict):
                raise bad("network", f"expected a network spec, got {self.network!r:.40}")
            try:
                spec = network_spec(self.arch, self.network)
                shape = self.input_shape
                shapes = infer_shapes(spec, shape, self.num_classes or 2) if shape else None
            except ValueError as exc:
                raise bad("network", str(exc)) from None
            if spec.name != self.arch:
                raise bad("arch", f"a custom network's arch is its name, {spec.name!r}")
        if not 1 <= self.epochs <= 10_000:
            raise bad("epochs", "must be between 1 and 10000")
        if not 1 <= self.batch_size <= 65_536:
            raise bad("batch_size", "must be between 1 and 65536")
        self._validate_memory(bad, shapes)
        if self.optimizer not in OPTIMIZERS:
            raise bad("optimizer", f"must be one of {', '.join(OPTIMIZERS)}")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise bad("lr", "must be a number greater than 0 and at most 10")
        if not (math.isfinite(self.momentum) and 0 <= self.momentum < 1):
            raise bad("momentum", "must be at least 0 and below 1")
        if not (math.isfinite(self.weight_decay) and 0 <= self.weight_decay <= 1):
            raise bad("weight_decay", "must be between 0 and 1")
        if not 1 <= self.step_size <= 10_000:
            raise bad("step_size", "must be between 1 and 10000")
        if not (math.isfinite(self.gamma) and 0 < self.gamma <= 1):
            raise bad("gamma", "must be greater than 0 and at most 1")
        self._validate_schedule(bad)
        self._validate_start(bad)
        if not 0 <= self.seed < 2**63:
            raise bad("seed", "must be a non-negative integer")
        if self.sweep is not None and not (
                isinstance(self.sweep, dict) and isinstance(self.sweep.get("name"), str)
                and type(self.sweep.get("trial")) is int and self.sweep["trial"] >= 0):
            raise bad("sweep", f"expected {{\"name\": ..., \"trial\": N}}, got {self.sweep!r:.60}")
        try:
            resolve_device(self.device)
        except ValueError as exc:
            raise bad("device", str(exc)) from None

    def _validate_memory(self, bad: Callable[[str, str], ValueError],
                         shapes: list[Any] | None) -> None:
        """One training batch must fit in the memory free for it (``shapes``: a custom
        network's layers, already inferred; a built-in's are inferred here)."""
        from ..nn.models import network_spec
        from ..nn.spec import infer_shapes, training_bytes

        shape = self.input_shape
        if shape is None:
            return
        if shapes is None:
            try:
                shapes = infer_shapes(network_spec(self.arch), shape, self.num_classes or 2)
            except ValueError:
                return  # said where the network is built
        needed = training_bytes(shapes, shape, self.batch_size)
        free = available_memory(self.device)
        if free is not None and needed > free:
            raise bad("network" if self.network is not None else "batch_size",
                      f"one training batch of {self.batch_size} needs about "
                      f"{needed / 1e9:,.1f} GB, more than the {free / 1e9:,.1f} GB free for it; "
                      "make the network or the batch smaller")

    def _validate_schedule(self, bad: Callable[[str, str], ValueError]) -> None:
        if self.schedule not in SCHEDULES:
            raise bad("schedule", f"must be one of {', '.join(SCHEDULES)}")
        if not (math.isfinite(self.warmup_epochs) and 0 <= self.warmup_epochs < self.epochs):
            raise bad("warmup_epochs", "must be at least 0 and fewer than the epochs")
        if not 0 <= self.early_stop <= 10_000:
            raise bad("early_stop", "must be between 0 (off) and 10000 epochs")
        if self.monitor not in MONITORS:
            raise bad("monitor", f"must be one of {', '.join(MONITORS)}")
        if not (math.isfinite(self.min_delta) and 0 <= self.min_delta <= 1):
            raise bad("min_delta", "must be between 0 and 1")

    def _validate_start(self, bad: Callable[[str, str], ValueError]) -> None:
        """What a run starts from: another run's weights, and what of them it keeps."""
        start = self.init_from
        if isinstance(start, str):
            if not start.strip():
                raise bad("init_from", "give a run folder or a checkpoint file")
            if not os.path.exists(start):
                raise bad("init_from", f"there is no run folder or checkpoint at {start}")
        elif isinstance(start, dict):
            if not is_start_record(start):
                raise bad("init_from", f"expected {{\"path\", \"sha256\", \"copied\", "
                                       f"\"fresh\"}}, got {start!r:.60}")
        elif start is not None:
            raise bad("init_from", f"expected a run folder or a checkpoint, got {start!r:.40}")
        if self.freeze not in FREEZE_MODES:
            raise bad("freeze", f"must be one of {', '.join(FREEZE_MODES)}")
        # above 1 the copied layers would learn faster than the fresh head they feed; at 0
        # they would not learn at all, which is what freeze says
        if not (math.isfinite(self.backbone_lr_scale) and 0 < self.backbone_lr_scale <= 1):
            raise bad("backbone_lr_scale", "must be greater than 0 and at most 1")
        if start is None and self.freeze != "none":
            raise bad("freeze", "only for a run that starts from another's weights (init_from)")
        if start is None and self.backbone_lr_scale != 1:
            raise bad("backbone_lr_scale", "only for a run that starts from another's weights "
                                           "(init_from)")

    def _validate_folder_settings(self, bad: Callable[[str, str], ValueError]) -> None:
        if not 8 <= self.image_size <= 256:
            raise bad("image_size", "must be between 8 and 256 pixels")
        if self.channels not in (0, 1, 3):
            raise bad("channels", "must be 1 (greyscale), 3 (colour) or 0 (decide from the images)")
        if not (math.isfinite(self.test_fraction) and 0.05 <= self.test_fraction <= 0.5):
            raise bad("test_fraction", "must be between 0.05 and 0.5")
        if self.split not in SPLIT_RULES:
            raise bad("split", f"the rule {self.split!r} is not one this version knows "
                               f"({', '.join(SPLIT_RULES)})")
        names = self.class_names
        if names is not None and (not isinstance(names, list) or len(names) < 2
                                  or not all(isinstance(n, str) and n for n in names)
                                  or len(set(names)) != len(names)):
            raise bad("class_names", "must be two or more different names")

    @property
    def input_shape(self) -> tuple[int, int, int] | None:
        """(channels, height, width) of the model's input; None for a folder whose channels
        are decided when it is loaded."""
        from ..data.source import resolve

        return resolve(self).input_shape(self)

    @property
    def num_classes(self) -> int | None:
        """None for a folder not loaded yet."""
        from ..data.source import resolve

        return resolve(self).num_classes(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from saved settings; unknown keys are an error, missing ones take defaults
        (but for ``split``: settings saved without one were split by shuffling)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**{"split": "shuffle", **data})


def is_start_record(record: Any) -> bool:
    """Whether ``record`` is what a fine-tuned run records of its start: ``{"path",
    "sha256", "copied": [layer names], "fresh": [layer names]}``."""
    lists = ("copied", "fresh")
    return (isinstance(record, dict) and set(record) == {"path", "sha256", *lists}
            and isinstance(record["path"], str) and isinstance(record["sha256"], str)
            and _SHA256_RE.match(record["sha256"]) is not None
            and all(isinstance(record[k], list) and all(isinstance(n, str) for n in record[k])
                    for k in lists))


def available_memory(device: str) -> int | None:
    """Bytes a run on ``device`` may use: a GPU's memory, else the memory the system has
    free (None where neither can be told, or for a device that is not there)."""
    try:
        resolved = resolve_device(device)
    except ValueError:
        return None
    if resolved.type == "cuda":
        return torch.cuda.get_device_properties(resolved).total_memory
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def resolve_device(spec: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an unavailable device is a ValueError."""
    if not isinstance(spec, str) or not _DEVICE_RE.match(spec):
        raise ValueError(f"{spec!r} is not a device (use auto, cpu, cuda, cuda:N or mps)")
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("CUDA was asked for, but no CUDA GPU is available to this PyTorch")
        index = int(spec.split(":")[1]) if ":" in spec else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"there is no {spec} (found {torch.cuda.device_count()} GPU(s))")
    if spec == "mps" and not torch.backends.mps.is_available():
        raise ValueError("MPS was asked for, but this machine has no Apple GPU")
    return torch.device(spec)


def available_devices() -> list[tuple[str, str]]:
    """(spec, human name) for every device this PyTorch can train on."""
    devices = [("cpu", "CPU")]
    for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
        devices.append((f"cuda:{i}", f"GPU {i}: {torch.cuda.get_device_name(i)}"))
    if torch.backends.mps.is_available():
        devices.append(("mps", "Apple GPU (MPS)"))
    return devices
