"""The three architectures of the article, built only from the project's own layers.

Every model is ``features`` (convolutions, activations, pooling) followed by
``classifier`` (flatten and fully connected layers). The classifier's input size is
measured by a dry run of ``features`` on the real input shape, so the same class works
for 1x28x28 digits and 3x32x32 CIFAR images.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from .layers import AveragePool2D, Conv2D, Flatten, MaxPool2D

_ACTIVATIONS = (nn.ReLU, nn.Tanh)


def _flat_size(features: nn.Module, in_channels: int, input_size: int) -> int:
    """Number of values ``features`` produces for one image of the given shape."""
    was_training = features.training
    features.eval()  # BatchNorm must not learn from the dry run
    try:
        with torch.no_grad():
            out = features(torch.zeros(1, in_channels, input_size, input_size))
    except RuntimeError as exc:
        raise ValueError(
            f"input of {in_channels}x{input_size}x{input_size} is too small for this network"
        ) from exc
    finally:
        features.train(was_training)
    if out.numel() == 0:
        raise ValueError(f"input size {input_size} is too small for this network")
    return out.numel()


class StudioModel(nn.Module):
    """Common shape of every model: ``features`` then ``classifier``."""

    display_name = ""
    description = ""
    features: nn.Sequential
    classifier: nn.Sequential

    def __init__(self, num_classes: int, in_channels: int, input_size: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.input_size = input_size

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))

    def conv_layers(self) -> list[tuple[str, Conv2D]]:
        """Every ``Conv2D`` in forward order, with a readable name (``conv1``, ``block2.conv``)."""
        return [(name.removeprefix("features."), m) for name, m in self.named_modules()
                if isinstance(m, Conv2D)]

    def activation_layers(self) -> list[tuple[str, nn.Module]]:
        """For each conv layer, the nonlinearity that follows it: its output is what the
        layer "sees" (the feature map shown to people), named after the conv layer."""
        result: list[tuple[str, nn.Module]] = []
        pending: str | None = None
        for name, module in self.features.named_modules():
            if isinstance(module, Conv2D):
                pending = name
            elif pending is not None and isinstance(module, _ACTIVATIONS):
                result.append((pending, module))
                pending = None
        return result


class LeNet5(StudioModel):
    """LeNet-5 (LeCun et al., 1998): tanh and average pooling, as before ReLU existed."""

    display_name = "LeNet-5"
    description = "LeCun's 1998 digit reader: 2 conv layers, tanh, average pooling (62k weights)."

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28) -> None:
        super().__init__(num_classes, in_channels, input_size)
        self.features = nn.Sequential(OrderedDict(
            conv1=Conv2D(in_channels, 6, kernel_size=5, padding=2),
            tanh1=nn.Tanh(),
            pool1=AveragePool2D(kernel_size=2, stride=2),
            conv2=Conv2D(6, 16, kernel_size=5),
            tanh2=nn.Tanh(),
            pool2=AveragePool2D(kernel_size=2, stride=2),
        ))
        flat = _flat_size(self.features, in_channels, input_size)  # 16x5x5 on 28x28
        self.classifier = nn.Sequential(OrderedDict(
            flatten=Flatten(),
            fc1=nn.Linear(flat, 120),
            tanh3=nn.Tanh(),
            fc2=nn.Linear(120, 84),
            tanh4=nn.Tanh(),
            fc3=nn.Linear(84, num_classes),
        ))


class SimpleCNN(StudioModel):
    """The modern pattern: Conv -> ReLU -> MaxPool twice, then dropout-regularised FC layers."""

    display_name = "SimpleCNN"
    description = "Two 3x3 conv layers with ReLU and max pooling, dropout 0.5 (422k weights)."

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28) -> None:
        super().__init__(num_classes, in_channels, input_size)
        self.features = nn.Sequential(OrderedDict(
            conv1=Conv2D(in_channels, 32, kernel_size=3, padding=1),
            relu1=nn.ReLU(),
            pool1=MaxPool2D(kernel_size=2, stride=2),
            conv2=Conv2D(32, 64, kernel_size=3, padding=1),
            relu2=nn.ReLU(),
            pool2=MaxPool2D(kernel_size=2, stride=2),
        ))
        flat = _flat_size(self.features, in_channels, input_size)  # 64x7x7 on 28x28
        self.classifier = nn.Sequential(OrderedDict(
            flatten=Flatten(),
            fc1=nn.Linear(flat, 128),
            relu3=nn.ReLU(),
            dropout=nn.Dropout(0.5),
            fc2=nn.Linear(128, num_classes),
        ))


class CNNBlock(nn.Module):
    """Reusable Conv -> BatchNorm -> ReLU -> (MaxPool) block."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 pool: bool = True) -> None:
        super().__init__()
        self.conv = Conv2D(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.pool = MaxPool2D(kernel_size=2, stride=2) if pool else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.relu(self.bn(self.conv(x))))


class DeepCNN(StudioModel):
    """VGG-style stack of CNN blocks, channels doubling (32 -> 64 -> 128 -> 256)."""

    display_name = "DeepCNN"
    description = "VGG-style: 4 Conv-BatchNorm-ReLU blocks, channels 32->256, dropout (981k weights)."

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
                 num_blocks: int = 4, initial_channels: int = 32) -> None:
        super().__init__(num_classes, in_channels, input_size)
        if num_blocks < 1 or initial_channels < 1:
            raise ValueError("num_blocks and initial_channels must be >= 1")
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        channels_in, channels_out = in_channels, initial_channels
        for i in range(num_blocks):
            last = i == num_blocks - 1
            blocks[f"block{i + 1}"] = CNNBlock(channels_in, channels_out, pool=not last)
            # Block i+1 takes what block i produced; only then do the channels double.
            channels_in, channels_out = channels_out, channels_out * 2
        self.features = nn.Sequential(blocks)
        flat = _flat_size(self.features, in_channels, input_size)  # 256x3x3 on 28x28
        self.classifier = nn.Sequential(OrderedDict(
            flatten=Flatten(),
            dropout1=nn.Dropout(0.5),
            fc1=nn.Linear(flat, 256),
            relu=nn.ReLU(),
            dropout2=nn.Dropout(0.5),
            fc2=nn.Linear(256, num_classes),
        ))


MODELS: dict[str, type[StudioModel]] = {
    "lenet5": LeNet5,
    "simplecnn": SimpleCNN,
    "deepcnn": DeepCNN,
}


def build_model(name: str, in_channels: int = 1, num_classes: int = 10, input_size: int = 28,
                **kwargs: object) -> StudioModel:
    """Instantiate a registered architecture for the given input shape."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose from {', '.join(MODELS)}") from None
    return cls(num_classes=num_classes, in_channels=in_channels, input_size=input_size, **kwargs)


def model_for_weights(meta: Mapping[str, Any]) -> StudioModel:
    """An uninitialised CPU model of ``meta``'s architecture and shape, to load saved
    weights into (``meta`` as in a checkpoint's ``model_meta``).

    Built on the meta device, so it draws nothing from torch's global random generator:
    that generator is shared by all threads and a training run's dropout draws from it,
    so initialising a model elsewhere mid-run would change the run's numbers.
    """
    with torch.device("meta"):
        model = build_model(str(meta["arch"]), int(meta["in_channels"]),
                            int(meta["num_classes"]), int(meta["input_size"]))
    return model.to_empty(device="cpu")


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (what the article's counts refer to)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
