"""Two runs side by side: which of B's filters is A's filter, which test images one run gets
right and the other wrong, and B's embedding turned to sit on A's. NumPy in and out.

SciPy is imported when first needed: the window imports this module, and starts without
it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _padded(weights: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Kernels zero-padded (centred) to ``size``: a 3x3 kernel is the 5x5 kernel with a ring
    of zeros, so the padded kernel computes what the small one does."""
    kh, kw = weights.shape[-2:]
    top, left = (size[0] - kh) // 2, (size[1] - kw) // 2
    out = np.zeros((*weights.shape[:-2], *size), np.float64)
    out[..., top:top + kh, left:left + kw] = weights
    return out


def comparable(weights_a: np.ndarray, weights_b: np.ndarray) -> str:
    """Why two layers' filters cannot be matched ('' when they can): they must read the
    same number of input channels."""
    if weights_a.ndim != 4 or weights_b.ndim != 4:
        return "kernels must be (out, in, kh, kw)"
    if weights_a.shape[1] != weights_b.shape[1]:
        return (f"A's filters read {weights_a.shape[1]} channels and B's "
                f"{weights_b.shape[1]}")
    return ""


def filter_similarity(weights_a: np.ndarray, weights_b: np.ndarray) -> np.ndarray:
    """(out_a, out_b) cosine similarity of every kernel of A with every kernel of B, over
    all input channels; kernels of different sizes are compared zero-padded to the larger."""
    reason = comparable(weights_a, weights_b)
    if reason:
        raise ValueError(reason)
    size = (max(weights_a.shape[2], weights_b.shape[2]),
            max(weights_a.shape[3], weights_b.shape[3]))
    a = _padded(weights_a, size).reshape(len(weights_a), -1)
    b = _padded(weights_b, size).reshape(len(weights_b), -1)
    norms = np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :]
    return np.divide(a @ b.T, norms, out=np.zeros((len(a), len(b))), where=norms > 0)


def match_filters(weights_a: np.ndarray, weights_b: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(perm, similarity)``: ``perm[i]`` is B's filter matched to A's filter ``i`` (so
    ``weights_b[perm]`` lines up with ``weights_a``), chosen by the Hungarian method to
    maximise the total cosine similarity; ``similarity[i]`` is that pair's. When B has
    fewer filters than A, A's unmatched filters get ``perm`` -1 and similarity NaN."""
    from scipy.optimize import linear_sum_assignment

    sim = filter_similarity(weights_a, weights_b)
    rows, cols = linear_sum_assignment(sim, maximize=True)
    perm = np.full(len(weights_a), -1, np.int64)
    similarity = np.full(len(weights_a), np.nan)
    perm[rows] = cols
    similarity[rows] = sim[rows, cols]
    return perm, similarity


@dataclass(frozen=True)
class PredictionComparison:
    """Per-class accuracy of each run (fractions; NaN for a class with no test image) and
    the test images only one of them gets right."""

    accuracy_a: np.ndarray
    accuracy_b: np.ndarray
    only_a_right: np.ndarray
    only_b_right: np.ndarray
    counts: np.ndarray  # test images per class

    @property
    def change(self) -> np.ndarray:
        """B's per-class accuracy minus A's."""
        return self.accuracy_b - self.accuracy_a

    def by_change(self) -> np.ndarray:
        """The classes, the largest change (either way) first; classes without images last."""
        change = np.nan_to_num(np.abs(self.change), nan=-1.0)
        return np.argsort(-change, kind="stable")


def compare_predictions(labels: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
                        num_classes: int) -> PredictionComparison:
    """Both runs' predictions on the same test images (``labels``), compared."""
    labels, pred_a, pred_b = (np.asarray(x, np.int64) for x in (labels, pred_a, pred_b))
    if not len(labels) == len(pred_a) == len(pred_b):
        raise ValueError(f"{len(labels)} labels but {len(pred_a)} and {len(pred_b)} "
                         "predictions: the runs were not tested on the same images")
    right_a, right_b = pred_a == labels, pred_b == labels
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc_a = np.bincount(labels, weights=right_a, minlength=num_classes) / counts
        acc_b = np.bincount(labels, weights=right_b, minlength=num_classes) / counts
    return PredictionComparison(acc_a, acc_b, np.flatnonzero(right_a & ~right_b),
                                np.flatnonzero(right_b & ~right_a), counts.astype(np.int64))


def align_embeddings(xy_a: np.ndarray, xy_b: np.ndarray) -> np.ndarray:
    """``xy_b`` mapped onto ``xy_a`` (the same images, row for row) by the rotation (or
    reflection), uniform scale and shift that bring them closest: orthogonal Procrustes."""
    from scipy.linalg import orthogonal_procrustes

    a, b = np.asarray(xy_a, np.float64), np.asarray(xy_b, np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"the embeddings must be the same images: {a.shape} and {b.shape}")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - mean_a, b - mean_b
    if not np.any(b0):
        return np.broadcast_to(mean_a, a.shape).copy()
    rotation, singular_sum = orthogonal_procrustes(b0, a0)
    scale = singular_sum / np.sum(b0 * b0)
    return b0 @ rotation * scale + mean_a
