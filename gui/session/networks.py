"""The networks to choose from -- the built-ins, then the person's own -- which one is
chosen, and what it makes of the chosen dataset's images.

The architecture combo, the layer summary and the editor are views of this one model:
each subscribes to its signals and changes networks only through its methods. A person's
network is kept as its spec JSON, exactly as typed, so that what was trained can be found
again (a resumed run must have the very same network).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from cnn_core.nn.models import MODELS
from cnn_core.nn.presets import PRESETS
from cnn_core.nn.spec import LayerShape, SpecError, infer_shapes, leading_shapes, parse_spec

from .network_text import new_layer, retyped

BLANK = "blank"  # "start from" a network of a flatten and a linear layer
_LAYER_NUMBER = re.compile(r"^layer (\d+)\b")
Layer = dict[str, Any]


@dataclass
class Network:
    """A built-in (``builtin`` is its arch) or a person's network (``builtin`` is None)."""

    spec: dict[str, Any]
    builtin: str | None = None

    @property
    def name(self) -> str:
        name = self.spec.get("name", "custom")  # as the spec's own default
        return name.strip() if isinstance(name, str) else ""

    @property
    def layers(self) -> list[Any]:
        layers = self.spec.get("layers")
        return layers if isinstance(layers, list) else []


@dataclass
class Report:
    """What the chosen network makes of the input: each good layer's shape and, if it
    cannot be trained as it is, why (``error``) and which layer is at fault."""

    shapes: list[LayerShape] = field(default_factory=list)
    error: str | None = None
    bad_layer: int | None = None  # 1-based

    @property
    def parameters(self) -> int:
        return sum(row.parameters for row in self.shapes)


class Networks(QObject):
    listChanged = Signal()  # a network added, removed or renamed
    currentChanged = Signal()  # another network chosen
    edited = Signal()  # the chosen network's layers or name, or the input, changed
    lockedChanged = Signal(bool)

    def __init__(self, saved: Iterable[dict[str, Any]] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.networks = [Network(copy.deepcopy(PRESETS[arch]), arch) for arch in MODELS]
        self.networks += [Network(copy.deepcopy(spec)) for spec in saved]
        self.index = list(MODELS).index("simplecnn")
        self.locked = False
        self._input: tuple[tuple[int, int, int], int] = ((1, 28, 28), 10)
        self.report = Report()
        self._check()

    # -- reading ----------------------------------------------------------------------

    @property
    def current(self) -> Network:
        return self.networks[self.index]

    @property
    def arch(self) -> str:
        """The config's ``arch``: a built-in's key, or a person's network's name."""
        return self.current.builtin or self.current.name

    @property
    def network(self) -> dict[str, Any] | None:
        """The config's ``network``: None for a built-in, else a copy of the spec as typed."""
        return None if self.current.builtin else copy.deepcopy(self.current.spec)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self._input[0]

    @property
    def num_classes(self) -> int:
        return self._input[1]

    def custom_specs(self) -> list[dict[str, Any]]:
        """The person's networks, to remember."""
        return [copy.deepcopy(n.spec) for n in self.networks if n.builtin is None]

    def label(self, index: int) -> str:
        """A person's network's name, numbered if an earlier one has the same name."""
        network = self.networks[index]
        same = sum(1 for n in self.networks[:index] if n.builtin is None and n.name == network.name)
        return f"{network.name or '(no name)'}{f' ({same + 1})' if same else ''}"

    # -- choosing -----------------------------------------------------------------------

    def choose(self, index: int) -> None:
        """Choose a network (the combo is what stops a person while the network is locked;
        a resumed run's config must still show its own)."""
        if index != self.index and 0 <= index < len(self.networks):
            self.index = index
            self._check()
            self.currentChanged.emit()

    def choose_config(self, arch: str, network: dict[str, Any] | None) -> None:
        """Choose what a config names: a built-in, or its own network (added if new)."""
        if network is None:
            builtins = [n.builtin for n in self.networks]
            if arch in builtins:
                self.choose(builtins.index(arch))
        else:
            self.add(network)

    def add(self, spec: dict[str, Any]) -> None:
        """Add a person's network and choose it (the one already listed, if identical)."""
        for index, network in enumerate(self.networks):
            if network.builtin is None and network.spec == spec:
                self.choose(index)
                return
        self._append(Network(copy.deepcopy(spec)))

    def start_from(self, preset: str) -> None:
        """A new network of one's own, with a built-in's layers (or ``BLANK``'s)."""
        if self.locked:
            return
        if preset == BLANK:
            layers = [new_layer("flatten"), new_layer("linear")]
            del layers[1]["out_features"]
        else:  # unnamed: the names follow the layers through inserts and type changes
            layers = [{k: v for k, v in layer.items() if k != "name"}
                      for layer in PRESETS[preset]["layers"]]
        stem = "my network" if preset == BLANK else f"my {preset}"
        self._append(Network({"name": self._free_name(stem), "layers": layers}))

    def remove_current(self) -> None:
        """Forget the chosen network (a person's own); the default built-in is chosen."""
        if self.current.builtin is None and not self.locked:
            del self.networks[self.index]
            self.index = list(MODELS).index("simplecnn")
            self._check()
            self.listChanged.emit()
            self.currentChanged.emit()

    def set_input(self, input_shape: tuple[int, int, int], num_classes: int) -> None:
        """The images the networks are for (the chosen dataset's)."""
        if (tuple(input_shape), num_classes) != self._input:
            self._input = (tuple(input_shape), num_classes)  # type: ignore[assignment]
            self._check()
            self.edited.emit()

    def set_locked(self, locked: bool) -> None:
        """While a run trains (or one is about to be resumed) a person cannot change the
        network: the edits and "start from" do nothing."""
        if locked != self.locked:
            self.locked = locked
            self.lockedChanged.emit(locked)

    # -- editing (a built-in is first copied, and the copy edited) -----------------------

    def set_name(self, name: str) -> None:
        if not self.locked and name.strip() != self.current.name:
            self._own()
            self.current.spec["name"] = name.strip()
            self.listChanged.emit()
            self._edited()

    def set_type(self, row: int, kind: str) -> None:
        self._change(row, lambda layer: layer if layer.get("type") == kind
                     else retyped(layer, kind))

    def set_settings(self, row: int, settings: dict[str, Any]) -> None:
        """Replace the layer's settings (its type and name stay)."""
        self._change(row, lambda layer: {**{k: layer[k] for k in ("type", "name")
                                            if k in layer}, **settings})

    def set_layer_name(self, row: int, name: str) -> None:
        """Name a layer; an empty name lets the network name it."""
        def renamed(layer: Layer) -> Layer:
            rest = {k: v for k, v in layer.items() if k not in ("type", "name")}
            named = {"name": name.strip()} if name.strip() else {}
            return {"type": layer.get("type"), **named, **rest}

        self._change(row, renamed)

    def insert_layer(self, row: int, layer: dict[str, Any]) -> None:
        if not self.locked:
            self._own()
            self.current.layers.insert(row, layer)
            self._edited()

    def remove_layer(self, row: int) -> None:
        if not self.locked and 0 <= row < len(self.current.layers):
            self._own()
            del self.current.layers[row]
            self._edited()

    def move_layer(self, row: int, to: int) -> None:
        layers = self.current.layers
        if not self.locked and 0 <= row < len(layers) and 0 <= to < len(layers) and row != to:
            self._own()
            layers = self.current.layers
            layers.insert(to, layers.pop(row))
            self._edited()

    def layer(self, row: int) -> dict[str, Any]:
        """A copy of the chosen network's layer (an empty one where the JSON has no object)."""
        layer = self.current.layers[row]
        return copy.deepcopy(layer) if isinstance(layer, dict) else {}

    # -- inside -------------------------------------------------------------------------

    def _change(self, row: int, change: Callable[[Layer], Layer]) -> None:
        if self.locked or change(self.layer(row)) == self.layer(row):
            return
        self._own()
        self.current.layers[row] = change(self.layer(row))
        self._edited()

    def _own(self) -> None:
        """Make the chosen network a person's own: a built-in is copied, as if started from."""
        if self.current.builtin is not None:
            self.start_from(self.current.builtin)

    def _append(self, network: Network) -> None:
        self.networks.append(network)
        self.index = len(self.networks) - 1
        self._check()
        self.listChanged.emit()
        self.currentChanged.emit()

    def _edited(self) -> None:
        self._check()
        self.edited.emit()

    def _free_name(self, stem: str) -> str:
        taken = {n.name for n in self.networks} | set(MODELS)
        name, number = stem, 1
        while name in taken:
            number += 1
            name = f"{stem} {number}"
        return name

    def _check(self) -> None:
        spec, (shape, classes) = self.current.spec, self._input
        report = Report(leading_shapes(spec, shape, classes))
        try:
            infer_shapes(parse_spec(spec), shape, classes)
        except SpecError as exc:
            report.error = str(exc)
            number = _LAYER_NUMBER.match(report.error)
            report.bad_layer = int(number.group(1)) if number else None
        self.report = report
