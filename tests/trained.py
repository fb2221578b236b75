"""A SimpleCNN trained on the bundled MNIST sample (one epoch: about 90% test accuracy),
trained once per test session for the tests that need a network that has learned."""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

from cnn_core.data.datasets import load_dataset
from cnn_core.nn.models import SimpleCNN


@lru_cache(maxsize=None)
def trained_simplecnn(epochs: int = 1) -> SimpleCNN:
    """Shared: callers must not change it (the inspect functions under test never do)."""
    train = load_dataset("mnist-sample").train
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = SimpleCNN()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(train.labels))
            for i in range(0, len(order), 64):
                batch = order[i:i + 64]
                loss = F.cross_entropy(model(train.images[batch]), train.labels[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        optimizer.zero_grad()  # no .grad left: tests check that inspecting writes none
    return model.eval()
