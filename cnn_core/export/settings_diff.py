"""The settings in which two runs differ, as a person reads them: what changed between a run
and the one it is compared with (the window's settings dialog shows the same rows)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from ..nn.models import network_spec
from ..train.config import TrainConfig

_HIDDEN = ("data_dir", "class_names")  # where this machine keeps data; what a folder held


@dataclass(frozen=True)
class SettingRow:
    """One setting that differs: its name and each run's value in words."""

    name: str
    a: str
    b: str


def value_text(value: Any) -> str:
    """Short, and exact enough to tell settings apart: 64, 0.5, 1e-3, 3e-4, 2.5e-5."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            mantissa, exponent = f"{value:.3e}".split("e")
            return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
        return f"{value:.6g}"
    if isinstance(value, dict):
        return str(value.get("path") or value.get("name") or json.dumps(value, sort_keys=True))
    return str(value)


def _setting_text(value: Any) -> str:
    """A layer setting: a pair of whole numbers as ``3x5``."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"{value[0]}x{value[1]}"
    return str(value)


def layer_text(layer: dict[str, Any]) -> str:
    """``conv2d  out_channels=6, kernel_size=3, padding=1``: a layer in a line."""
    settings = ", ".join(f"{k}={_setting_text(v)}" for k, v in layer.items()
                         if k not in ("type", "name"))
    return f"{layer.get('type')}  {settings}" if settings else str(layer.get("type"))


def _layers(config: TrainConfig) -> list[dict[str, Any]] | None:
    """The network's layers with every setting spelled out (None if it cannot be read)."""
    try:
        return network_spec(config.arch, config.network).to_json()["layers"]
    except ValueError:
        return None


def _network_text(config: TrainConfig) -> str:
    if config.network is None:
        return f"built-in {config.arch}"
    layers = config.network.get("layers")
    count = len(layers) if isinstance(layers, list) else "?"
    return f"own network “{config.arch}”, {count} layers"


def _layer_rows(a: TrainConfig, b: TrainConfig) -> list[SettingRow]:
    """A row per layer that differs (by position), when one of the two trained a network of
    its own: a built-in's name says all there is to say of it."""
    if a.network is None and b.network is None:
        return []
    layers_a, layers_b = _layers(a), _layers(b)
    if layers_a is None or layers_b is None:
        return []
    rows = [SettingRow("network", _network_text(a), _network_text(b))]
    for i in range(max(len(layers_a), len(layers_b))):
        sides = [layer_text(side[i]) if i < len(side) else "—" for side in (layers_a, layers_b)]
        if sides[0] != sides[1]:
            names = {side[i].get("name") for side in (layers_a, layers_b) if i < len(side)}
            rows.append(SettingRow(f"layer {i + 1} ({' / '.join(sorted(map(str, names)))})",
                                   *sides))
    return rows


def settings_diff(a: TrainConfig, b: TrainConfig) -> list[SettingRow]:
    """The settings of ``a`` and ``b`` that differ, in TrainConfig's order, the network's
    differing layers where the network is."""
    rows: list[SettingRow] = []
    for field in fields(TrainConfig):
        if field.name == "network":
            rows += _layer_rows(a, b)
            continue
        if field.name in _HIDDEN:
            continue
        va, vb = getattr(a, field.name), getattr(b, field.name)
        if va != vb:
            rows.append(SettingRow(field.name, value_text(va), value_text(vb)))
    return rows
