"""How well a model does on a split: mean loss and accuracy, and every image's prediction,
confidence and loss, which the views that explain the accuracy read."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.datasets import Split


@dataclass
class EvalResult:
    loss: float
    accuracy: float
    predictions: Tensor  # (N,) predicted class of every image, on the split's device
    confidence: Tensor  # (N,) the probability the model gave its prediction
    losses: Tensor  # (N,) each image's cross-entropy: the hardest images lead when sorted


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, criterion: nn.Module,
             batch_size: int = 1000) -> EvalResult:
    """Mean loss and accuracy over a split, in eval mode, keeping every prediction (for
    the confusion matrix); one device sync at the end."""
    was_training = model.training
    model.eval()
    device = split.labels.device
    loss_sum = torch.zeros((), device=device)
    predictions = torch.empty(len(split), dtype=torch.int64, device=device)
    confidence = torch.empty(len(split), device=device)
    losses = torch.empty(len(split), device=device)
    for start in range(0, len(split), batch_size):
        x = split.images[start:start + batch_size]
        y = split.labels[start:start + batch_size]
        logits = model(x)
        loss_sum += criterion(logits, y) * len(y)
        conf, pred = torch.softmax(logits.float(), dim=1).max(dim=1)
        predictions[start:start + len(y)] = pred
        confidence[start:start + len(y)] = conf
        losses[start:start + len(y)] = F.cross_entropy(logits.float(), y, reduction="none")
    model.train(was_training)
    n = max(len(split), 1)
    correct = (predictions == split.labels).sum()
    return EvalResult(loss_sum.item() / n, correct.item() / n, predictions, confidence, losses)
