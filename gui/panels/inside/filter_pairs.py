"""One layer's filters of two runs, paired: B's kernels put in the order of the A filters
they match best, each pair's similarity, and the headline saying how alike they are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core.inspect.compare import comparable, match_filters


@dataclass(frozen=True)
class FilterPairs:
    headline: str
    weights_b: np.ndarray  # B's kernels as shown: in the order of A's they match, then the rest
    shown: np.ndarray | None  # B's filter at each place (-1: none for A's); None: not matched
    similarity: np.ndarray | None  # each of A's filters' pair's (NaN: no pair)

    def tile_texts(self) -> list[str] | None:
        """Each pair's similarity, as B's tiles are labelled ("–": no pair)."""
        if self.similarity is None:
            return None
        pairs = ["–" if np.isnan(s) else f"{s:.2f}" for s in self.similarity]
        return pairs + ["–"] * (len(self.shown) - len(pairs))

    def describe(self, index: int) -> str:
        if self.shown is None:
            return f"B's filter {index}"
        if index >= len(self.similarity):
            return (f"B's filter {self.shown[index]}: no pair, A has "
                    f"{len(self.similarity)} filters")
        if self.shown[index] < 0:
            return f"A's filter {index} has no pair: B has fewer filters"
        return (f"B's filter {self.shown[index]}, matched to A's filter {index}: "
                f"similarity {self.similarity[index]:.2f}")


def pair_filters(name: str, weights_a: np.ndarray, weights_b: np.ndarray) -> FilterPairs:
    """Match B's filters of layer ``name`` to A's (see :func:`match_filters`)."""
    reason = comparable(weights_a, weights_b)
    if reason:
        return FilterPairs(f"{name}: not matched, because {reason}", weights_b, None, None)
    a, b = weights_a.astype(np.float32), weights_b.astype(np.float32)
    perm, similarity = match_filters(a, b)
    unpaired = np.setdiff1d(np.arange(len(b)), perm)
    shown = np.concatenate([perm, unpaired])
    ordered = np.zeros((len(shown), *b.shape[1:]), np.float32)
    ordered[shown >= 0] = b[shown[shown >= 0]]
    headline = f"{name}: {np.nanmean(similarity):.2f} matched similarity"
    if a.shape[2:] != b.shape[2:]:
        headline += (f" (B's {b.shape[2]}x{b.shape[3]} kernels compared as if padded to "
                     f"{max(a.shape[2], b.shape[2])}x{max(a.shape[3], b.shape[3])})")
    if len(b) != len(a):
        headline += f"; A has {len(a)} filters, B {len(b)}"
        if len(unpaired):
            headline += f": B's {len(unpaired)} without a pair come last"
    return FilterPairs(headline, ordered, shown, similarity)
