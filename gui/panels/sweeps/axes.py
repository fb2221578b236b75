"""The axes of a parallel-coordinates plot of a sweep: each varied parameter and the
objective as a scale from its values to [0, 1] and back to tick labels. A log parameter
is spaced by decades, a choice by its categories, the objective by the values seen."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_core.sweep import Param, SweepReport

MAX_TICKS = 6


def value_text(value: Any) -> str:
    """A parameter's value as a cell or a tick says it: ``1e-4``, ``0.0032``, ``64``,
    ``adam``, a network file's name without ``.json``."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.2g}".replace("e-0", "e-").replace("e+0", "e+")
    if isinstance(value, str) and value.endswith(".json"):
        return Path(value).stem
    return str(value)


def objective_text(value: float | None, objective: str, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}%}" if objective == "test_acc" else f"{value:.4f}"


@dataclass(frozen=True)
class Axis:
    """One vertical axis: ``title``, and where a value goes on it (0 bottom, 1 top)."""

    key: str  # the parameter, or "" for the objective
    title: str
    kind: str  # log, uniform, int, choice or objective
    low: float = 0.0
    high: float = 1.0
    choices: tuple[Any, ...] = ()

    def position(self, value: Any) -> float | None:
        """Where ``value`` sits on the axis, in [0, 1]; None where it cannot be placed."""
        if self.kind == "choice":
            keys = [repr(c) for c in self.choices]
            if repr(value) not in keys:
                return None
            return keys.index(repr(value)) / (len(keys) - 1) if len(keys) > 1 else 0.5
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None
        if self.kind == "log":
            if value <= 0:
                return None
            low, high, value = math.log10(self.low), math.log10(self.high), math.log10(value)
        else:
            low, high = self.low, self.high
        return min(max((value - low) / (high - low), 0.0), 1.0) if high > low else 0.5

    def ticks(self, objective: str = "test_acc") -> list[tuple[float, str]]:
        """(position, label) pairs: decades on a log axis, each category of a choice,
        a few round values elsewhere."""
        if self.kind == "choice":
            return [(self.position(c) or 0.0, value_text(c)) for c in self.choices]
        if self.kind == "log":
            first, last = math.ceil(math.log10(self.low) - 1e-9), math.floor(
                math.log10(self.high) + 1e-9)
            decades = list(range(first, last + 1))
            step = max(1, math.ceil(len(decades) / MAX_TICKS))
            values = [10.0 ** d for d in decades[::step]] or [self.low, self.high]
            return [(self.position(v), value_text(v)) for v in values]
        count = 5
        if self.kind == "int":
            count = min(count, int(self.high - self.low) + 1)
        values = [self.low + (self.high - self.low) * i / max(count - 1, 1)
                  for i in range(count)]
        if self.kind == "int":
            values = sorted({round(v) for v in values})
            return [(self.position(v), str(v)) for v in values]
        if self.kind == "objective":
            return [(self.position(v), objective_text(v, objective, 1)) for v in values]
        return [(self.position(v), f"{v:.3g}") for v in values]


def param_axis(param: Param) -> Axis:
    if param.kind == "choice":
        return Axis(param.key, param.key, "choice", choices=param.choices)
    return Axis(param.key, param.key, param.kind, float(param.low), float(param.high))


def objective_axis(report: SweepReport) -> Axis:
    """The objective from the worst to the best value seen among the finished trials (a
    little either side); an accuracy axis never goes past 0 % or 100 %."""
    objective = report.settings.objective
    values = [t.value for t in report.trials
              if t.finished and t.value is not None and math.isfinite(t.value)]
    title = "test accuracy" if objective == "test_acc" else "test loss"
    if not values:
        return Axis("", title, "objective", 0.0, 1.0)
    low, high = min(values), max(values)
    span = high - low or max(abs(high) * 0.1, 0.01)
    low, high = low - 0.05 * span, high + 0.05 * span
    if objective == "test_acc":
        low, high = max(low, 0.0), min(high, 1.0)
    else:
        low = max(low, 0.0)
    return Axis("", title, "objective", low, high)


def report_axes(report: SweepReport) -> list[Axis]:
    """The varied parameters' axes, in the space's order, then the objective's."""
    return [*(param_axis(p) for p in report.settings.space.varied), objective_axis(report)]
