"""How well each class is read (precision, recall, F1 from the confusion matrix), and which
images the network gets most wrong (the largest losses)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .analysis import _device, _inference, confusion_from_predictions


@dataclass(frozen=True)
class ClassReport:
    """Per-class scores (float64, zero where a ratio has nothing to divide by, as
    scikit-learn's ``zero_division=0``) and their averages as (precision, recall, f1)."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # int64: images of each true class
    accuracy: float
    macro: tuple[float, float, float]  # every class counts the same
    weighted: tuple[float, float, float]  # classes weighted by their support


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.divide(top, bottom, out=np.zeros(len(top)), where=bottom > 0)


def class_report(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> ClassReport:
    """The scores scikit-learn's ``precision_recall_fscore_support(labels, predictions,
    labels=range(num_classes), zero_division=0)`` gives, computed from the confusion matrix
    (same formulas, so the same numbers), without scikit-learn at run time."""
    confusion = confusion_from_predictions(labels, predictions, num_classes)
    right = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    precision, recall = _ratio(right, predicted), _ratio(right, support)
    f1 = _ratio(2 * right, (support + predicted).astype(np.float64))
    scores = (precision, recall, f1)
    macro = _averages(scores)
    # all weights zero (no labels): scikit-learn falls back to the plain mean
    weighted = _averages(scores, support) if support.sum() else macro
    accuracy = float(right.sum() / support.sum()) if support.sum() else 0.0
    return ClassReport(precision, recall, f1, support.astype(np.int64), accuracy, macro,
                       weighted)


def _averages(scores: tuple[np.ndarray, ...],
              weights: np.ndarray | None = None) -> tuple[float, float, float]:
    precision, recall, f1 = (float(np.average(s, weights=weights)) for s in scores)
    return precision, recall, f1


def report_csv(report: ClassReport, class_names: Sequence[str]) -> str:
    """The report as CSV: ``class,precision,recall,f1,support``, one row per class, then
    ``macro avg``, ``weighted avg`` and ``accuracy`` (in the f1 column, as scikit-learn's
    text report puts it). Numbers are written in full, so they read back exactly."""
    if len(class_names) != len(report.support):
        raise ValueError(f"{len(class_names)} class names for {len(report.support)} classes")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["class", "precision", "recall", "f1", "support"])
    for row in zip(class_names, report.precision, report.recall, report.f1, report.support):
        writer.writerow([row[0], *(repr(float(v)) for v in row[1:4]), int(row[4])])
    total = int(report.support.sum())
    for name, scores in (("macro avg", report.macro), ("weighted avg", report.weighted)):
        writer.writerow([name, *(repr(float(v)) for v in scores), total])
    writer.writerow(["accuracy", "", "", repr(report.accuracy), total])
    return out.getvalue()


def per_sample_losses(model: nn.Module, images: Tensor, labels: Tensor,
                      batch_size: int = 1000) -> np.ndarray:
    """float32 (N,): the cross-entropy of each image, in eval mode."""
    device = _device(model)
    with _inference(model):
        parts = [F.cross_entropy(model(images[i:i + batch_size].to(device)).float(),
                                 labels[i:i + batch_size].to(device), reduction="none").cpu()
                 for i in range(0, len(images), batch_size)]
    return torch.cat(parts).numpy() if parts else np.zeros(0, np.float32)


def hardest(losses: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest losses, largest first; equal losses in index order."""
    order = np.argsort(-np.asarray(losses), kind="stable")
    return order[:max(k, 0)]


def top_losses(model: nn.Module, images: Tensor, labels: Tensor,
               k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` images the network gets most wrong: (indices, their losses), largest first."""
    losses = per_sample_losses(model, images, labels)
    indices = hardest(losses, k)
    return indices, losses[indices]
