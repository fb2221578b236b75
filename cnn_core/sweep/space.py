"""The search space of a sweep: which settings vary, over what, as a JSON file says::

    {"lr": {"log": [1e-4, 1e-1]},
     "batch_size": {"choice": [32, 64, 128]},
     "optimizer": {"choice": ["adam", "sgd"]},
     "weight_decay": {"log": [1e-6, 1e-2]},
     "arch": {"choice": ["simplecnn", "lenet5", "my_net.json"]},
     "epochs": 5}

``log`` and ``uniform`` take [low, high] (``log`` draws evenly on a log scale), ``int``
takes whole [low, high], ``choice`` a list; a plain value fixes the setting. Keys are the
:class:`TrainConfig` settings a run may differ by (not its data or device). An ``arch`` may
be a built-in's name or a network file, found beside the space file. Everything is checked
before anything trains: a bad entry is one :class:`SweepError` line that names its key.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import optuna

from .errors import SweepError
from ..nn.models import MODELS
from ..nn.spec import load_spec
from ..train.config import TrainConfig

KINDS = ("log", "uniform", "int", "choice")
# What a trial must share with the others: its data, where it runs, and the record.
NOT_SWEPT = frozenset({"dataset", "device", "data_dir", "network", "class_names", "split",
                       "sweep", "channels", "image_size", "test_fraction"})
DEFAULT_SPACE: dict[str, Any] = {"lr": {"log": [1e-4, 1e-1]},
                                 "batch_size": {"choice": [32, 64, 128]}}
_CHOICE_TYPES = (str, int, float, bool, type(None))  # what Optuna keeps as a choice


def sweepable() -> tuple[str, ...]:
    """The settings a space may name."""
    return tuple(f.name for f in fields(TrainConfig) if f.name not in NOT_SWEPT)


def _field_type(key: str) -> str:
    return next(str(f.type) for f in fields(TrainConfig) if f.name == key)


@dataclass(frozen=True)
class Param:
    """One entry of the space: ``kind`` is one of :data:`KINDS`, or ``fixed``."""

    key: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    choices: tuple[Any, ...] = ()
    value: Any = None  # a fixed setting's value

    @property
    def log(self) -> bool:
        """Drawn on a log scale (a plot shows it on a log axis)."""
        return self.kind == "log"

    @property
    def varies(self) -> bool:
        return self.kind != "fixed"

    def suggest(self, trial: optuna.Trial) -> Any:
        """The trial's value: Optuna's sampler draws it (and records it as a parameter)."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.key, list(self.choices))
        if _field_type(self.key) == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.key, float(self.low), float(self.high), log=self.log)

    def to_json(self) -> Any:
        if self.kind == "fixed":
            return self.value
        if self.kind == "choice":
            return {"choice": list(self.choices)}
        return {self.kind: [self.low, self.high]}


@dataclass(frozen=True)
class SearchSpace:
    """A checked space. ``networks``: each network file named by ``arch``, as written in
    the space, with the spec it held when the sweep began (every trial builds that one,
    on whichever machine it runs)."""

    params: tuple[Param, ...]
    networks: Mapping[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @property
    def varied(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.varies)

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """The settings of ``trial``: drawn where the space varies, fixed elsewhere."""
        return self.settings({p.key: p.suggest(trial) for p in self.varied})

    def settings(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The :class:`TrainConfig` settings of a trial with ``params`` (its drawn values),
        the fixed ones included; an ``arch`` becomes the network it names."""
        chosen = {p.key: p.value for p in self.params if not p.varies}
        chosen.update(params)
        if "arch" in chosen:
            chosen.update(_arch_settings(chosen.pop("arch"), self.networks))
        return chosen

    def max_epochs(self, base: TrainConfig) -> int:
        """The most epochs any trial runs (Hyperband's budget)."""
        epochs = next((p for p in self.params if p.key == "epochs"), None)
        if epochs is None:
            return base.epochs
        if epochs.kind == "fixed":
            return int(epochs.value)
        return int(max(epochs.choices) if epochs.kind == "choice" else epochs.high)

    def to_json(self) -> dict[str, Any]:
        """The space as a file writes it (the study records it with ``networks``)."""
        return {p.key: p.to_json() for p in self.params}

    def record(self) -> dict[str, Any]:
        return {"space": self.to_json(), "networks": dict(self.networks)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any], base: TrainConfig) -> SearchSpace:
        """The space a study recorded (its networks as they were, no file read)."""
        networks = dict(record.get("networks") or {})
        return parse_space(record["space"], base, networks=networks)


def _arch_settings(arch: str, networks: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    if arch in networks:
        spec = networks[arch]
        return {"arch": spec["name"], "network": spec}
    return {"arch": arch, "network": None}


def load_space(path: str | Path, base: TrainConfig) -> SearchSpace:
    """Read and check the space file at ``path`` against the sweep's ``base`` settings."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepError(f"--space: cannot read {path} ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SweepError(f"--space: {path} is not JSON ({exc})") from None
    return parse_space(data, base, folder=path.parent)


def parse_space(data: Any, base: TrainConfig, *, folder: Path | None = None,
                networks: Mapping[str, dict[str, Any]] | None = None) -> SearchSpace:
    """Check ``data`` (a space as a mapping): network files are read from ``folder``,
    unless ``networks`` already holds them. Raises :class:`SweepError` naming the key."""
    if not isinstance(data, Mapping) or not data:
        raise SweepError("space: expected a JSON object of settings, e.g. "
                         '{"lr": {"log": [1e-4, 1e-1]}}')
    known = sweepable()
    networks = dict(networks or {})
    params = []
    for key, entry in data.items():
        if key not in known:
            raise SweepError(f"{key}: not a setting a sweep can vary (choose from "
                             f"{', '.join(known)})")
        param = _param(key, entry)
        if key == "arch":
            for name in (param.choices if param.kind == "choice" else (param.value,)):
                if not isinstance(name, str):
                    raise SweepError(f"arch: expected a network's name or file, got {name!r}")
                if name not in MODELS and name not in networks:
                    networks[name] = _network(name, folder)
        for value in _values_to_check(param):
            _check_value(key, value, base, networks)
        params.append(param)
    return SearchSpace(tuple(params), networks)


def _param(key: str, entry: Any) -> Param:
    """One entry's form: a fixed value, or one of KINDS with a well-formed argument."""
    if not isinstance(entry, dict):
        if isinstance(entry, list):
            raise SweepError(f"{key}: a list needs a kind, e.g. {{\"choice\": {entry!r:.40}}}")
        return Param(key, "fixed", value=entry)
    if len(entry) != 1 or next(iter(entry)) not in KINDS:
        raise SweepError(f"{key}: expected one of {', '.join(KINDS)} (e.g. "
                         f'{{"log": [low, high]}}), got {json.dumps(entry):.60}')
    kind, arg = next(iter(entry.items()))
    field_type = _field_type(key)
    if kind == "choice":
        if not isinstance(arg, list) or not arg:
            raise SweepError(f"{key}: choice takes a list of values")
        if not all(isinstance(v, _CHOICE_TYPES) for v in arg):
            raise SweepError(f"{key}: a choice is a list of plain values (text or numbers)")
        if len({json.dumps(v) for v in arg}) != len(arg):
            raise SweepError(f"{key}: the choice lists a value twice")
        return Param(key, kind, choices=tuple(arg))
    if not (isinstance(arg, list) and len(arg) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in arg)):
        raise SweepError(f"{key}: {kind} takes [low, high], got {json.dumps(arg):.60}")
    low, high = arg
    if field_type not in ("int", "float"):
        raise SweepError(f"{key}: is not a number; give a choice of values")
    if field_type == "int" and kind == "uniform":
        raise SweepError(f"{key}: is a whole number; use int (or log) for its range")
    if field_type == "int" and not all(float(v).is_integer() for v in arg):
        raise SweepError(f"{key}: is a whole number; give a range of whole numbers")
    if kind == "int" and field_type != "int":
        raise SweepError(f"{key}: is not a whole number; use uniform or log for its range")
    if not all(math.isfinite(v) for v in arg):
        raise SweepError(f"{key}: the range must be finite, got {arg}")
    if not low < high:
        raise SweepError(f"{key}: low must be below high, got [{low}, {high}]")
    if kind == "log" and low <= 0:
        raise SweepError(f"{key}: a log range must start above 0, got [{low}, {high}]")
    if field_type == "int":
        low, high = int(low), int(high)
    return Param(key, kind, low=low, high=high)


def _values_to_check(param: Param) -> tuple[Any, ...]:
    if param.kind == "fixed":
        return (param.value,)
    if param.kind == "choice":
        return param.choices
    return (param.low, param.high)  # a TrainConfig takes a range if it takes both ends


def _check_value(key: str, value: Any, base: TrainConfig,
                 networks: Mapping[str, dict[str, Any]]) -> None:
    """Refuse ``value`` for ``key`` if a run with it would be refused."""
    settings = _arch_settings(value, networks) if key == "arch" else {key: value}
    try:
        dataclasses.replace(base, **settings).validate()
    except ValueError as exc:
        reason = str(exc).split(": ", 1)[-1] if str(exc).startswith(f"{key}: ") else str(exc)
        raise SweepError(f"{key}: {value!r} is refused: {reason}") from None


def _network(name: str, folder: Path | None) -> dict[str, Any]:
    """A network file named in the space, found beside the space file."""
    if not name.endswith(".json"):
        raise SweepError(f"arch: unknown architecture {name!r}: choose {', '.join(MODELS)} "
                         "or a network file (.json)")
    path = Path(name) if folder is None else folder / name
    try:
        return load_spec(path).to_json()
    except (OSError, ValueError) as exc:
        raise SweepError(f"arch: {exc}") from None
