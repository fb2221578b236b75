"""How well a model does on a split: mean loss and accuracy, and every image's prediction,
confidence and loss, which the views that explain the accuracy read; on request, every
image's last hidden representation too (the embedding view's, for free: it is computed
by the same forward pass)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.datasets import Split
from ..inspect.reach import last_hidden_layer
from ..nn.models import StudioModel


@dataclass
class EvalResult:
    loss: float
    accuracy: float
    predictions: Tensor  # (N,) predicted class of every image, on the split's device
    confidence: Tensor  # (N,) the probability the model gave its prediction
    losses: Tensor  # (N,) each image's cross-entropy: the hardest images lead when sorted
    hidden: Tensor | None = None  # (N, D) the input of the classifier's last linear layer


@torch.no_grad()
def evaluate(model: StudioModel, split: Split, criterion: nn.Module,
             batch_size: int = 1000, keep_hidden: bool = False) -> EvalResult:
    """Mean loss and accuracy over a split, in eval mode, keeping every prediction (for
    the confusion matrix); one device sync at the end."""
    hidden: list[Tensor] = []
    hook = (last_hidden_layer(model).register_forward_pre_hook(
        lambda _m, args: hidden.append(args[0].flatten(1).float())) if keep_hidden else None)
    was_training = model.training
    model.eval()
    device = split.labels.device
    loss_sum = torch.zeros((), device=device)
    predictions = torch.empty(len(split), dtype=torch.int64, device=device)
    confidence = torch.empty(len(split), device=device)
    losses = torch.empty(len(split), device=device)
    try:
        for start in range(0, len(split), batch_size):
            x = split.images[start:start + batch_size]
            y = split.labels[start:start + batch_size]
            logits = model(x)
            loss_sum += criterion(logits, y) * len(y)
            conf, pred = torch.softmax(logits.float(), dim=1).max(dim=1)
            predictions[start:start + len(y)] = pred
            confidence[start:start + len(y)] = conf
            losses[start:start + len(y)] = F.cross_entropy(logits.float(), y, reduction="none")
    finally:
        model.train(was_training)
        if hook is not None:
            hook.remove()
    n = max(len(split), 1)
    correct = (predictions == split.labels).sum()
    return EvalResult(loss_sum.item() / n, correct.item() / n, predictions, confidence, losses,
                      torch.cat(hidden) if hidden else None)
