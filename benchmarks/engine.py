"""Engine throughput against the plain loop the article implies, in the same process.

The baseline is what a tutorial reader writes: a torchvision-style dataset that turns
each uint8 image into a PIL image and runs ``ToTensor`` + ``Normalize`` per sample, a
``DataLoader`` with shuffling, default Adam, and ``.item()`` on every batch. Both loops
train the same architecture from the same initial weights on the same images; only the
training pass is timed (evaluation excluded). The best of ``repeats`` epochs is kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DataBundle, get_info, load_dataset
from cnn_core.nn.models import build_model
from cnn_core.train.trainer import Trainer


class PerSampleDataset(Dataset):
    """What ``torchvision.datasets.MNIST.__getitem__`` does, on our uint8 images."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, mean: float, std: float) -> None:
        self.images, self.labels = images, labels
        self.transform = transforms.Compose([transforms.ToTensor(),
                                             transforms.Normalize((mean,), (std,))])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


def _uint8_train(bundle: DataBundle) -> tuple[np.ndarray, np.ndarray]:
    info = bundle.info
    x = bundle.train.images * info.std[0] + info.mean[0]
    return ((x[:, 0] * 255).round().clamp(0, 255).to(torch.uint8).numpy(),
            bundle.train.labels.numpy())


def plain_epoch(model: nn.Module, loader: DataLoader, device: torch.device) -> float:
    """The article's ``train_epoch``: seconds for one pass."""
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    start = time.perf_counter()
    running_loss, correct, total = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        correct += outputs.argmax(1).eq(targets).sum().item()
        total += targets.size(0)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


@dataclass
class EngineResult:
    arch: str
    images: int
    plain_ips: float
    engine_ips: float

    @property
    def ratio(self) -> float:
        return self.engine_ips / self.plain_ips


def measure(arch: str, device: str = "cpu", repeats: int = 2, batch_size: int = 64,
            dataset: str = "mnist-sample") -> EngineResult:
    bundle = load_dataset(dataset)
    info = get_info(dataset)
    images, labels = _uint8_train(bundle)
    dev = torch.device(device)

    torch.manual_seed(0)
    model = build_model(arch, info.in_channels, info.num_classes, info.input_size).to(dev)
    loader = DataLoader(PerSampleDataset(images, labels, info.mean[0], info.std[0]),
                        batch_size=batch_size, shuffle=True)
    plain = min(plain_epoch(model, loader, dev) for _ in range(repeats))

    trainer = Trainer(TrainConfig(arch=arch, dataset=dataset, epochs=repeats,
                                  batch_size=batch_size, device=device), data=bundle)
    history = trainer.fit().history
    engine = min(m.seconds for m in history)
    n = len(labels)
    return EngineResult(arch, n, n / plain, n / engine)
