"""Networks as data: a JSON spec, checked layer by layer with its shapes before anything
is built.

A spec is ``{"name": ..., "layers": [{"type": "conv2d", "out_channels": 8, ...}, ...]}``
(the README has the whole format). :func:`parse_spec` checks the fields,
:func:`infer_shapes` every layer's output shape and parameter count for an input shape;
both raise :class:`SpecError` naming the 1-based layer number and the reason.
"""

from __future__ import annotations

import functools
import json
import math
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import backbone_specs

Shape = tuple[int, ...]
Pair = tuple[int, int]

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu")
POOLS = ("maxpool2d", "avgpool2d")
# type -> {field: required?}; "name" is allowed everywhere (the presets name their layers)
_FIELDS: dict[str, dict[str, bool]] = {
    "conv2d": {"out_channels": True, "kernel_size": True, "stride": False, "padding": False},
    "maxpool2d": {"kernel_size": True, "stride": False, "padding": False},
    "avgpool2d": {"kernel_size": True, "stride": False, "padding": False},
    "batchnorm2d": {},
    **{name: {} for name in ACTIVATIONS},
    "dropout": {"p": False},
    "flatten": {},
    "linear": {"out_features": False},
    "pretrained": backbone_specs.FIELDS,  # an ImageNet backbone: see .backbone_specs
}
LAYER_TYPES = tuple(_FIELDS)
MAX_PARAMETERS = 50_000_000  # beyond this a "network" is a typo, not an experiment
_MAX_SIZE = 4096  # channels, features and kernel sides
MAX_FILE_BYTES = 10_000_000  # a spec is a few kilobytes; anything this large is not one
BYTES_PER_VALUE = 4  # float32
OPTIMIZER_COPIES = 3  # a parameter's gradient and Adam's two moments


class SpecError(ValueError):
    """A network that cannot be built; the message names the layer and the reason."""


@dataclass(frozen=True)
class LayerSpec:
    """One checked layer: its type, its settings with defaults filled in, and its name."""

    type: str
    name: str
    settings: dict[str, Any]

    def pair(self, key: str) -> Pair:
        return self.settings[key]


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    layers: tuple[LayerSpec, ...]

    def to_json(self) -> dict[str, Any]:
        """The spec as written (pairs as ``[h, w]`` unless square), names included."""
        layers = []
        for layer in self.layers:
            fields = {"type": layer.type, "name": layer.name}
            for key, value in layer.settings.items():
                if isinstance(value, tuple):
                    value = value[0] if value[0] == value[1] else list(value)
                if value is not None:
                    fields[key] = value
            layers.append(fields)
        return {"name": self.name, "layers": layers}


@dataclass(frozen=True)
class LayerShape:
    """What :func:`infer_shapes` says of one layer."""

    number: int  # 1-based, as messages and the editor count
    name: str
    type: str
    output: Shape  # without the batch dimension
    parameters: int
    inside: int = 0  # values computed inside the layer and kept for training (a backbone)


def layer_fields(kind: str) -> dict[str, bool]:
    """The settings a layer type takes, each with whether it is required (in spec order)."""
    return dict(_FIELDS[kind])


def parse_spec(data: Any) -> NetworkSpec:
    """Check a spec's structure and fields (not yet its shapes: see :func:`infer_shapes`)."""
    if not isinstance(data, dict):
        raise SpecError("a network spec is a JSON object with \"name\" and \"layers\"")
    unknown = sorted(set(data) - {"name", "layers"})
    if unknown:
        raise SpecError(f"unknown field {unknown[0]!r} (a spec has \"name\" and \"layers\")")
    name = data.get("name", "custom")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise SpecError("\"name\" must be a short, non-empty text")
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise SpecError("\"layers\" must be a non-empty list")
    counters: dict[str, int] = {}
    taken = _given_names(layers)
    parsed = [_parse_layer(i + 1, layer, counters, taken) for i, layer in enumerate(layers)]
    _check_names(parsed)
    if parsed[-1].type != "linear":
        raise SpecError(f"layer {len(parsed)}: a network must end in a linear layer "
                        "(one output per class)")
    return NetworkSpec(name.strip(), tuple(parsed))


def _given_names(layers: list[Any]) -> set[str]:
    return {layer["name"] for layer in layers
            if isinstance(layer, dict) and isinstance(layer.get("name"), str)}


def _parse_layer(number: int, data: Any, counters: dict[str, int],
                 taken: set[str]) -> LayerSpec:
    def bad(reason: str) -> SpecError:
        return SpecError(f"layer {number}: {reason}")

    if not isinstance(data, dict):
        raise bad("must be an object such as {\"type\": \"relu\"}")
    kind = data.get("type")
    if kind not in _FIELDS:
        raise bad(f"unknown type {kind!r} (choose {', '.join(_FIELDS)})")
    fields = _FIELDS[kind]
    unknown = sorted(set(data) - set(fields) - {"type", "name"})
    if unknown:
        raise bad(f"{kind} has no field {unknown[0]!r} (it has "
                  f"{', '.join(fields) or 'no settings'})")
    missing = [key for key, required in fields.items() if required and key not in data]
    if missing:
        raise bad(f"{kind} needs {missing[0]!r}")
    settings: dict[str, Any] = {}
    if kind == "conv2d":
        settings["out_channels"] = _size(data["out_channels"], "out_channels", bad)
    if kind == "conv2d" or kind in POOLS:
        kernel = _pair(data["kernel_size"], "kernel_size", 1, bad)
        settings["kernel_size"] = kernel
        default_stride = (1, 1) if kind == "conv2d" else kernel
        settings["stride"] = _pair(data.get("stride", default_stride), "stride", 1, bad)
        settings["padding"] = _pair(data.get("padding", 0), "padding", 0, bad)
    if kind == "dropout":
        p = data.get("p", 0.5)
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p < 1:
            raise bad(f"dropout's p must be a number from 0 up to (not including) 1, got {p!r}")
        settings["p"] = float(p)
    if kind == "linear":
        out = data.get("out_features")
        settings["out_features"] = None if out is None else _size(out, "out_features", bad)
    if kind == "pretrained":
        if number != 1:
            raise bad("a pretrained backbone must be the first layer: it reads the pictures")
        try:
            settings.update(backbone_specs.check_settings(data))
        except ValueError as exc:
            raise bad(str(exc)) from None
    # a named layer still counts (as it always has), so other layers keep their names
    default = _default_name(kind, counters, set() if "name" in data else taken)
    name = data.get("name", default)
    if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
        raise bad(f"name {name!r:.60} must be letters, digits and '_' (dots nest blocks)")
    taken_by_torch = [part for part in name.split(".") if part in _reserved_names()]
    if taken_by_torch:
        raise bad(f"name {name!r}: {taken_by_torch[0]!r} is a name PyTorch's modules use "
                  "themselves; choose another")
    return LayerSpec(kind, name, settings)


@functools.cache
def _reserved_names() -> frozenset[str]:
    """What a layer or block may not be called: the attributes of the module that holds
    it, an ``nn.Sequential`` (``train``, ``forward``, ``append``...)."""
    from torch import nn

    return frozenset(dir(nn.Sequential))


def _check_names(layers: list[LayerSpec]) -> None:
    """Names are unique, and a block (``block1.conv``, ``block1.bn``) is one run of layers:
    a block runs as a whole, so its layers cannot be split by others."""
    seen: set[str] = set()
    finished: set[str] = set()
    block = ""
    for number, layer in enumerate(layers, start=1):
        if layer.name in seen:
            raise SpecError(f"layer {number}: the name {layer.name!r} is already used")
        seen.add(layer.name)
        current = layer.name.rpartition(".")[0]
        if current != block:
            finished.add(block)
            if current and (current in finished or current in seen):
                raise SpecError(f"layer {number}: the layers of block {current!r} must "
                                "follow one another")
            block = current
    prefixes = {".".join(parts[:i]) for layer in layers
                for parts in [layer.name.split(".")] for i in range(1, len(parts))}
    for number, layer in enumerate(layers, start=1):
        if layer.name in prefixes:
            raise SpecError(f"layer {number}: {layer.name!r} is both a layer and a block")


def _default_name(kind: str, counters: dict[str, int], taken: set[str]) -> str:
    """``conv1``, ``relu1``, ``pool1``, ``fc1``...: the names the built-ins use, skipping
    those other layers are given (a layer inserted before ``conv1`` becomes ``conv2``)."""
    stem = {"conv2d": "conv", "maxpool2d": "pool", "avgpool2d": "pool", "batchnorm2d": "bn",
            "linear": "fc", "leaky_relu": "lrelu",
            "pretrained": "backbone"}.get(kind, kind)
    while True:
        counters[stem] = counters.get(stem, 0) + 1
        count = counters[stem]
        name = (stem if kind in ("flatten", "pretrained") and count == 1
                else f"{stem}{count}")
        if name not in taken:
            return name


def _size(value: Any, key: str, bad: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX_SIZE:
        raise bad(f"{key} must be a whole number from 1 to {_MAX_SIZE}, got {value!r}")
    return value


def _pair(value: Any, key: str, least: int, bad: Any) -> Pair:
    pair = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                 and least <= v <= _MAX_SIZE for v in pair):
        raise bad(f"{key} must be a whole number (or a pair [h, w]) of at least {least}, "
                  f"got {value!r}")
    return pair  # type: ignore[return-value]


def infer_shapes(spec: NetworkSpec, input_shape: Shape, num_classes: int) -> list[LayerShape]:
    """Every layer's output shape and parameter count for one input of ``input_shape``
    (C, H, W), without building anything."""
    shape = tuple(input_shape)
    shapes, total = [], 0
    for number, layer in enumerate(spec.layers, start=1):
        last = number == len(spec.layers)
        shape, params = _layer_shape(number, layer, shape, num_classes if last else None)
        total += params
        if total > MAX_PARAMETERS:
            raise SpecError(f"layer {number}: the network passes {MAX_PARAMETERS:,} "
                            "parameters here; make it smaller")
        inside = (backbone_specs.kept_values(layer.settings, input_shape[1])
                  if layer.type == "pretrained" else 0)
        shapes.append(LayerShape(number, layer.name, layer.type, shape, params, inside))
    return shapes


def leading_shapes(data: dict[str, Any], input_shape: Shape,
                   num_classes: int) -> list[LayerShape]:
    """The shapes of a spec's layers up to the first one that is wrong (all of them for a
    good spec): what an editor shows while a later layer is still being typed. Never
    raises; :func:`parse_spec` and :func:`infer_shapes` say what is wrong."""
    layers = data.get("layers") if isinstance(data, dict) else None
    if not isinstance(layers, list):
        return []
    counters: dict[str, int] = {}
    taken = _given_names(layers)
    shape, shapes = tuple(input_shape), []
    for number, item in enumerate(layers, start=1):
        classes = num_classes if number == len(layers) else None
        try:
            layer = _parse_layer(number, item, counters, taken)
            shape, params = _layer_shape(number, layer, shape, classes)
        except SpecError:
            break
        shapes.append(LayerShape(number, layer.name, layer.type, shape, params))
    return shapes


def _layer_shape(number: int, layer: LayerSpec, shape: Shape,
                 classes: int | None) -> tuple[Shape, int]:
    def bad(reason: str) -> SpecError:
        return SpecError(f"layer {number} ({layer.type}): {reason}")

    kind, s = layer.type, layer.settings
    image = len(shape) == 3
    if kind in ("conv2d", "batchnorm2d", "pretrained", *POOLS) and not image:
        raise bad(f"needs an image-shaped input (channels, height, width), but gets a flat "
                  f"one of {shape[0]} values; put it before the flatten")
    if kind == "conv2d" or kind in POOLS:
        channels, height, width = shape
        (kh, kw), (sh, sw), (ph, pw) = s["kernel_size"], s["stride"], s["padding"]
        if kind in POOLS and (2 * ph > kh or 2 * pw > kw):
            raise bad("padding can be at most half the kernel size")
        if kh > height + 2 * ph or kw > width + 2 * pw:
            raise bad(f"a {kh}x{kw} kernel is larger than its {height}x{width} input"
                      + (f" (padded to {height + 2 * ph}x{width + 2 * pw})" if ph or pw else ""))
        out_h, out_w = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
        if kind in POOLS:
            return (channels, out_h, out_w), 0
        out = s["out_channels"]
        return (out, out_h, out_w), channels * out * kh * kw + out
    if kind == "batchnorm2d":
        return shape, 2 * shape[0]
    if kind == "pretrained":
        try:
            output = backbone_specs.output_shape(s, shape)
        except ValueError as exc:
            raise bad(str(exc)) from None
        return output, backbone_specs.BACKBONES[s["model"]].parameters
    if kind == "flatten":
        if not image:
            raise bad("its input is already flat")
        return (math.prod(shape),), 0
    if kind == "linear":
        if image:
            raise bad(f"needs a flat input, but gets {'x'.join(map(str, shape))}; put a "
                      "flatten before it")
        out = s["out_features"]
        if classes is not None:
            if out is not None and out != classes:
                raise bad(f"the last layer has {out} outputs, but the dataset has {classes} "
                          "classes (leave out_features out to follow the dataset)")
            out = classes
        elif out is None:
            raise bad("needs out_features (only the last layer follows the dataset)")
        return (out,), shape[0] * out + out
    return shape, 0  # activations and dropout keep the shape


def load_spec(path: str | Path) -> NetworkSpec:
    """Read and check a spec file; raises :class:`SpecError` naming the file and why."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(f"{path}: not a regular file (a folder or a device); give a "
                            "network spec (.json)")
        if info.st_size > MAX_FILE_BYTES:
            raise SpecError(f"{path}: {info.st_size:,} bytes, too large to be a network spec "
                            f"(at most {MAX_FILE_BYTES:,})")
        data = spec_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a text file") from None
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    try:
        return parse_spec(data)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def spec_json(text: str) -> Any:
    """JSON text as data, or :class:`SpecError` saying in one line why it is not: invalid,
    nested too deeply, or with a number too long to be a size."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                        f"{exc.msg})") from None
    except RecursionError:
        raise SpecError("nested too deeply to be a network spec") from None
    except ValueError:  # Python refuses integers of thousands of digits
        raise SpecError("holds a number too long to be a size") from None


def training_bytes(shapes: list[LayerShape], input_shape: Shape, batch_size: int) -> int:
    """About the memory one training batch takes: every layer's output and its gradient
    for ``batch_size`` inputs, and each parameter with its gradient and optimizer state."""
    values = math.prod(input_shape) + sum(math.prod(s.output) + s.inside for s in shapes)
    parameters = sum(s.parameters for s in shapes)
    return BYTES_PER_VALUE * (2 * batch_size * values + (1 + OPTIMIZER_COPIES) * parameters)


def spec_text(spec: NetworkSpec) -> str:
    return json.dumps(spec.to_json(), indent=2) + "\n"
