"""One layer's filters of two runs, paired: B's kernels put in the order of the A filters
they match best, each pair's similarity, and the headline saying how alike they are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core.inspect.compare import comparable, match_filters


@dataclass(frozen=True)
class FilterPairs:
    headline: str
    weights_b: np.ndarray  # B's kernels in A's order (zeros where A's filter has no match)
    perm: np.ndarray | None  # B's filter shown at each place (-1: none); None: not matched
    similarity: np.ndarray | None

    def tile_texts(self) -> list[str] | None:
        """Each pair's similarity, as B's tiles are labelled."""
        if self.similarity is None:
            return None
        return ["–" if np.isnan(s) else f"{s:.2f}" for s in self.similarity]

    def describe(self, index: int) -> str:
        if self.perm is None:
            return f"B's filter {index}"
        if self.perm[index] < 0:
            return f"A's filter {index} has no match: B has fewer filters"
        return (f"B's filter {self.perm[index]}, matched to A's filter {index}: "
                f"similarity {self.similarity[index]:.2f}")


def pair_filters(name: str, weights_a: np.ndarray, weights_b: np.ndarray) -> FilterPairs:
    """Match B's filters of layer ``name`` to A's (see :func:`match_filters`)."""
    reason = comparable(weights_a, weights_b)
    if reason:
        return FilterPairs(f"{name}: not matched, because {reason}", weights_b, None, None)
    a, b = weights_a.astype(np.float32), weights_b.astype(np.float32)
    perm, similarity = match_filters(a, b)
    ordered = np.zeros((len(a), *b.shape[1:]), np.float32)
    ordered[perm >= 0] = b[perm[perm >= 0]]
    headline = f"{name}: {np.nanmean(similarity):.2f} matched similarity"
    if a.shape[2:] != b.shape[2:]:
        headline += (f" (B's {b.shape[2]}x{b.shape[3]} kernels compared as if padded to "
                     f"{max(a.shape[2], b.shape[2])}x{max(a.shape[3], b.shape[3])})")
    if len(b) != len(a):
        headline += f"; A has {len(a)} filters, B {len(b)}"
    return FilterPairs(headline, ordered, perm, similarity)
