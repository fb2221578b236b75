"""torchvision's ImageNet networks as one layer of a spec: ``{"type": "pretrained",
"model": "resnet18"}`` gives the backbone's pooled features, for a head of ``flatten``,
``dropout`` and ``linear`` to classify.

The layer prepares its input itself: it resizes the pictures to its ``size``, repeats a
greyscale channel three times and turns the dataset's normalisation into ImageNet's. So
the prepared pictures are never stored (5,000 digits at 224x224x3 would take 3 GB), and
whatever runs the network (a resume, ``predict``, ONNX, the Draw panel) prepares its
pictures the same way, because the preparation is part of the network.

Building the layer never reads weights: a checkpoint holds the whole network.
:mod:`cnn_core.nn.weights` loads ImageNet's (or a file's) into a fresh run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .backbone_specs import IMAGENET_MEAN, IMAGENET_STD


class Pretrained(nn.Module):
    """A torchvision network without its classifier, ending in its global average pool.

    Its modules keep torchvision's names (``conv1``, ``layer1.0.conv1``, ``features.3``),
    so a state dict of the torchvision network loads into it, and the views name its
    layers as the papers do. With ``trainable`` False its parameters get no gradient and
    its batch norm stays in eval mode whatever ``train()`` is asked.
    """

    def __init__(self, model: str, in_channels: int, size: int, trainable: bool = False) -> None:
        super().__init__()
        import torchvision.models

        self.model_name, self.size, self.trainable = model, size, trainable
        network = getattr(torchvision.models, model)(weights=None)
        for name, child in network.named_children():
            if name not in ("fc", "classifier"):
                self.add_module(name, child)
        # the dataset's normalisation, undone before ImageNet's is applied (set at start)
        self.register_buffer("input_mean", torch.zeros(in_channels))
        self.register_buffer("input_std", torch.ones(in_channels))
        self.register_buffer("imagenet_mean", torch.tensor(IMAGENET_MEAN))
        self.register_buffer("imagenet_std", torch.tensor(IMAGENET_STD))
        self.requires_grad_(trainable)

    def set_input_normalisation(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        """The mean and std the dataset's pictures were standardised with."""
        with torch.no_grad():
            self.input_mean.copy_(torch.tensor(mean))
            self.input_std.copy_(torch.tensor(std))

    def prepare(self, x: Tensor) -> Tensor:
        """Dataset-normalised pictures -> what ImageNet's networks expect."""
        pixels = x * self.input_std.view(1, -1, 1, 1) + self.input_mean.view(1, -1, 1, 1)
        if pixels.shape[1] == 1:
            pixels = pixels.expand(-1, 3, -1, -1)
        if pixels.shape[-2:] != (self.size, self.size):
            pixels = F.interpolate(pixels, size=(self.size, self.size), mode="bilinear",
                                   align_corners=False)
        return (pixels - self.imagenet_mean.view(1, 3, 1, 1)) / self.imagenet_std.view(1, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.prepare(x)
        for child in self.children():
            x = child(x)
        return x

    def train(self, mode: bool = True) -> Pretrained:
        super().train(mode and self.trainable)
        return self

    def trunk_state_keys(self) -> set[str]:
        """The keys a torchvision state dict of this network must provide."""
        return {k for k in self.state_dict() if not k.startswith(("input_", "imagenet_"))}


def pretrained_modules(model: nn.Module) -> list[tuple[str, Pretrained]]:
    return [(name, m) for name, m in model.named_modules() if isinstance(m, Pretrained)]
