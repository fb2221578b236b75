"""The window's cost as a ratio of wall time per epoch against the CLI, over alternating
rounds of fresh processes, so that both sides see the same machine load.

The verdict is on the median of the per-round ratios: one ratio per round pairs runs that
ran back to back, which cancels most of the load that drifts between rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

LIMIT = 1.10  # issue 9: the window may cost at most 10% in wall time


@dataclass
class Comparison:
    """Seconds per epoch of each round's CLI run and the run it is compared with."""

    cli: list[float] = field(default_factory=list)
    other: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [o / c for c, o in zip(self.cli, self.other)]

    @property
    def cli_median(self) -> float:
        return statistics.median(self.cli)

    @property
    def other_median(self) -> float:
        return statistics.median(self.other)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.ratios), max(self.ratios)

    @property
    def passed(self) -> bool:
        return self.ratio <= LIMIT


def compare(run_cli: Callable[[], float], run_other: Callable[[], float], rounds: int,
            on_round: Callable[[int, float, float], None]) -> Comparison:
    """``rounds`` times: a CLI run, then the other run; ``on_round(i, cli_s, other_s)``."""
    result = Comparison()
    for i in range(rounds):
        result.cli.append(run_cli())
        result.other.append(run_other())
        on_round(i, result.cli[-1], result.other[-1])
    return result
