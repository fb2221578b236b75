"""A network's layers as a person reads and types them: ``conv2d`` with
``out_channels=8, kernel_size=5, padding=2``.

The text never has its own error: whatever is typed becomes spec fields, and the spec's
checks (:mod:`cnn_core.nn.spec`) say what is wrong, naming the layer, as they do for a file.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cnn_core.nn.backbone_specs import BACKBONES, MAX_SIZE, MIN_SIZE
from cnn_core.nn.models import network_spec
from cnn_core.nn.spec import layer_fields

# What a new layer of each type starts with (a conv layer that keeps the image size).
NEW_LAYER: dict[str, dict[str, Any]] = {
    "conv2d": {"out_channels": 16, "kernel_size": 3, "padding": 1},
    "maxpool2d": {"kernel_size": 2}, "avgpool2d": {"kernel_size": 2},
    "dropout": {"p": 0.5}, "linear": {"out_features": 64},
    "pretrained": {"model": "resnet18", "weights": "imagenet", "trainable": False},
}
FIELD_HELP = {
    "out_channels": "how many filters", "kernel_size": "a number, or HxW such as 3x5",
    "stride": "a number or HxW; 1 for conv2d, the kernel size for pools if left out",
    "padding": "a number or HxW; 0 if left out", "p": "the share of values dropped; 0.5 if "
    "left out", "out_features": "how many outputs; leave it out on the last layer (one per "
    "class)",
    "model": f"an ImageNet network: {', '.join(BACKBONES)}",
    "weights": "imagenet (downloaded once), none (random), or the path of a .pth file",
    "trainable": "false keeps its weights (only the layers after it train); true fine-tunes",
    "size": f"the square it sees, {MIN_SIZE} to {MAX_SIZE} pixels; if left out, the "
            f"pictures' own size (at least {MIN_SIZE})",
}
_PAIR = re.compile(r"^[\[(]?\s*(\d+)\s*[x×,]\s*(\d+)\s*[\])]?$")
_KEYS = ("type", "name")


def parse_settings(text: str) -> dict[str, Any]:
    """``"out_channels=8, kernel_size=3x5"`` -> ``{"out_channels": 8, "kernel_size": [3, 5]}``.

    Numbers become numbers, ``3x5`` or ``[3, 5]`` a pair, anything else stays text; a
    piece without ``=`` becomes a field of that name (which no layer has, so it is
    refused by name)."""
    settings: dict[str, Any] = {}
    for piece in _split(text):
        key, equals, value = piece.partition("=")
        settings[key.strip()] = _value(value.strip()) if equals else None
    return settings


def settings_text(layer: dict[str, Any]) -> str:
    """The settings of ``layer`` (a spec's layer object) as :func:`parse_settings` reads them."""
    return ", ".join(key if value is None else f"{key}={_text(value)}"
                     for key, value in layer.items() if key not in _KEYS)


def layer_text(layer: dict[str, Any]) -> str:
    """``conv2d  out_channels=8, kernel_size=5``: a layer in a line."""
    settings = settings_text(layer)
    return f"{layer.get('type')}  {settings}" if settings else str(layer.get("type"))


def new_layer(kind: str) -> dict[str, Any]:
    return {"type": kind, **NEW_LAYER.get(kind, {})}


def retyped(layer: dict[str, Any], kind: str) -> dict[str, Any]:
    """``layer`` as a ``kind``: the settings that type also takes are kept, the ones it
    needs are filled in; a block's name is kept (the block stays whole), others go (a
    pool called conv2 would mislead)."""
    fields = layer_fields(kind)
    kept = {k: v for k, v in layer.items() if k in fields}
    result: dict[str, Any] = {"type": kind, **NEW_LAYER.get(kind, {}), **kept}
    name = layer.get("name")
    if isinstance(name, str) and "." in name:
        result["name"] = name
    return result


def settings_help(kind: str) -> str:
    """What a layer type takes, for a tooltip."""
    try:
        fields = layer_fields(kind)
    except KeyError:
        return "Choose a type first."
    if not fields:
        return f"{kind} takes no settings."
    lines = [f"{key}{' (required)' if required else ''}: {FIELD_HELP[key]}"
             for key, required in fields.items()]
    return f"{kind} takes:\n" + "\n".join(lines)


def network_layers(arch: str, network: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The layers of a built-in or custom network with every setting spelled out and without
    their names (to compare two networks), or None if it cannot be read."""
    try:
        spec = network_spec(arch, network)
    except ValueError:
        return None
    return [{k: v for k, v in layer.items() if k != "name"}
            for layer in spec.to_json()["layers"]]


def differing_layers(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[int]:
    """The 1-based numbers of the layers that differ (or that only one network has)."""
    return [i + 1 for i in range(max(len(a), len(b)))
            if i >= len(a) or i >= len(b) or a[i] != b[i]]


def _split(text: str) -> list[str]:
    """Pieces between commas, except the commas inside brackets (``[3, 5]``)."""
    pieces, depth, current = [], 0, ""
    for char in text:
        depth += (char in "[(") - (char in "])")
        if char == "," and depth <= 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def _value(text: str) -> Any:
    pair = _PAIR.match(text)
    if pair:
        return [int(pair.group(1)), int(pair.group(2))]
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _text(value: Any) -> str:
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        return f"{value[0]}x{value[1]}"
    if isinstance(value, str) and _value(value) == value:
        return value
    return json.dumps(value)
