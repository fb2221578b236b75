"""The weights a fresh run's ImageNet backbone starts from: torchvision's, downloaded once
into ``weights/`` under the data folder, or a ``.pth`` file of one's own.

torchvision names the file, gives its URL and the SHA-256 prefix in the name; the file
is fetched with progress and Cancel (:func:`cnn_core.data.fetch.fetch`, checked against
that prefix as torch.hub checks it) and read back through torchvision's own
``Weights.get_state_dict``, which finds it in the folder.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.error
from collections.abc import Collection
from pathlib import Path
from typing import Any

import torch

from .backbone_specs import BACKBONES, Backbone
from .backbones import Pretrained, pretrained_modules
from ..data.bundle import DatasetError, ProgressFn
from ..data.fetch import fetch
from ..paths import default_data_dir
from ..runs.atomic import make_folder


class WeightsError(DatasetError):
    """Weights that cannot be had; the message says where to get them and put them."""


def weights_folder(data_dir: str | Path | None = None) -> Path:
    return Path(data_dir or default_data_dir()) / "weights"


def weights_file(backbone: Backbone, data_dir: str | Path | None = None) -> Path:
    """Where torchvision's ImageNet weights of ``backbone`` are kept (its own file name)."""
    url = backbone.imagenet_weights().url
    return weights_folder(data_dir) / url.rsplit("/", 1)[1]


def download_weights(name: str, data_dir: str | Path | None = None, *,
                     progress: ProgressFn | None = None,
                     cancel: threading.Event | None = None, url: str | None = None) -> Path:
    """Fetch ``name``'s ImageNet weights unless they are there; their path.

    ``url`` replaces torchvision's (a mirror, or a local server in tests). Raises
    :class:`WeightsError` (one line: the file, its URL, the folder) when they cannot be
    fetched, ``DownloadCancelled`` when cancelled."""
    if name not in BACKBONES:
        raise WeightsError(f"no backbone called {name!r}; choose {', '.join(BACKBONES)}")
    backbone = BACKBONES[name]
    target = weights_file(backbone, data_dir)
    if target.is_file():
        return target
    url = url or backbone.imagenet_weights().url
    hash_prefix = target.name.rsplit("-", 1)[-1].split(".")[0]
    try:
        make_folder(target.parent)
        fetch(url, target, hashlib.sha256, hash_prefix, progress, cancel)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        reason = getattr(reason, "strerror", None) or reason
        raise WeightsError(
            f"{target.name} is not in {target.parent} and could not be downloaded ({reason}): "
            f"get it from {url} and put it in {target.parent}") from None
    return target


def missing_weights(spec: Any, data_dir: str | Path | None = None) -> list[str]:
    """The backbones of ``spec`` (a NetworkSpec) whose ImageNet weights a fresh run would
    have to download first."""
    return [layer.settings["model"] for layer in spec.layers
            if layer.type == "pretrained" and layer.settings["weights"] == "imagenet"
            and not weights_file(BACKBONES[layer.settings["model"]], data_dir).is_file()]


def load_backbone_weights(model: torch.nn.Module, data_dir: str | Path | None = None, *,
                          progress: ProgressFn | None = None,
                          cancel: threading.Event | None = None,
                          skip: Collection[str] = ()) -> list[str]:
    """Put each backbone's weights (as its spec layer says) into ``model``, but those of
    the layers named in ``skip`` (copied from a run being fine-tuned); what was loaded
    ("backbone: resnet18-f37072fd.pth")."""
    loaded = []
    for name, backbone in pretrained_modules(model):
        source = _weights_source(model, name)
        if source == "none" or name.removeprefix("features.") in skip:
            continue
        state, origin = _state_dict(backbone, source, data_dir, progress, cancel)
        _load(backbone, state, origin)
        loaded.append(f"{name.removeprefix('features.')}: {origin}")
    return loaded


def _weights_source(model: torch.nn.Module, module_name: str) -> str:
    spec = getattr(model, "spec", None)
    layer_name = module_name.removeprefix("features.")
    for layer in getattr(spec, "layers", ()):
        if layer.name == layer_name:
            return str(layer.settings["weights"])
    return "imagenet"


def _state_dict(backbone: Pretrained, source: str, data_dir: str | Path | None,
                progress: ProgressFn | None, cancel: threading.Event | None
                ) -> tuple[dict[str, torch.Tensor], str]:
    if source == "imagenet":
        path = download_weights(backbone.model_name, data_dir, progress=progress, cancel=cancel)
        weights = BACKBONES[backbone.model_name].imagenet_weights()
        try:
            state = weights.get_state_dict(model_dir=str(path.parent), map_location="cpu",
                                           progress=False, weights_only=True)
        except Exception as exc:  # a damaged file: torch names no single type
            raise WeightsError(f"{path}: not readable as weights ({exc}); delete it to "
                               "download it again") from None
        return state, path.name
    path = Path(os.path.expanduser(source))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such weights file") from None
    except Exception as exc:
        raise WeightsError(f"{path}: not readable as weights ({exc})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: holds no state dict of a network")
    return state, str(path)


def _load(backbone: Pretrained, state: dict[str, torch.Tensor], origin: str) -> None:
    """The trunk's tensors from ``state`` (its classifier's are left out); every one must
    be there with its shape, or the file is not of this network."""
    own = backbone.state_dict()
    wanted = backbone.trunk_state_keys()
    missing = sorted(k for k in wanted if k not in state)
    if missing:
        raise WeightsError(f"{origin}: not {backbone.model_name} weights (it has no "
                           f"{missing[0]!r}, and {len(missing) - 1} more are missing)")
    wrong = next((k for k in sorted(wanted) if state[k].shape != own[k].shape), None)
    if wrong is not None:
        raise WeightsError(f"{origin}: {wrong} is {tuple(state[wrong].shape)}, but "
                           f"{backbone.model_name} has {tuple(own[wrong].shape)}")
    backbone.load_state_dict({**own, **{k: state[k] for k in wanted}})
