"""The article's three networks, as specs: the same format a person writes, built by the
same code (``python -m cnn_core arch export NAME`` prints them)."""

from __future__ import annotations

from typing import Any


def _conv_act_pool(n: int, channels: int, kernel: int, padding: int, act: str,
                   pool: str) -> list[dict[str, Any]]:
    return [{"type": "conv2d", "name": f"conv{n}", "out_channels": channels,
             "kernel_size": kernel, "padding": padding},
            {"type": act, "name": f"{act}{n}"},
            {"type": pool, "name": f"pool{n}", "kernel_size": 2, "stride": 2}]


LENET5: dict[str, Any] = {"name": "lenet5", "layers": [
    *_conv_act_pool(1, 6, 5, 2, "tanh", "avgpool2d"),
    *_conv_act_pool(2, 16, 5, 0, "tanh", "avgpool2d"),
    {"type": "flatten", "name": "flatten"},
    {"type": "linear", "name": "fc1", "out_features": 120},
    {"type": "tanh", "name": "tanh3"},
    {"type": "linear", "name": "fc2", "out_features": 84},
    {"type": "tanh", "name": "tanh4"},
    {"type": "linear", "name": "fc3"},
]}

SIMPLECNN: dict[str, Any] = {"name": "simplecnn", "layers": [
    *_conv_act_pool(1, 32, 3, 1, "relu", "maxpool2d"),
    *_conv_act_pool(2, 64, 3, 1, "relu", "maxpool2d"),
    {"type": "flatten", "name": "flatten"},
    {"type": "linear", "name": "fc1", "out_features": 128},
    {"type": "relu", "name": "relu3"},
    {"type": "dropout", "name": "dropout", "p": 0.5},
    {"type": "linear", "name": "fc2"},
]}


def deepcnn(num_blocks: int = 4, initial_channels: int = 32) -> dict[str, Any]:
    """VGG-style blocks (conv 3x3, batch norm, ReLU, max pool but after the last),
    channels doubling block by block."""
    layers: list[dict[str, Any]] = []
    for i in range(num_blocks):
        block = f"block{i + 1}"
        layers += [{"type": "conv2d", "name": f"{block}.conv",
                    "out_channels": initial_channels * 2 ** i, "kernel_size": 3, "padding": 1},
                   {"type": "batchnorm2d", "name": f"{block}.bn"},
                   {"type": "relu", "name": f"{block}.relu"}]
        if i < num_blocks - 1:
            layers.append({"type": "maxpool2d", "name": f"{block}.pool", "kernel_size": 2,
                           "stride": 2})
    layers += [{"type": "flatten", "name": "flatten"},
               {"type": "dropout", "name": "dropout1", "p": 0.5},
               {"type": "linear", "name": "fc1", "out_features": 256},
               {"type": "relu", "name": "relu"},
               {"type": "dropout", "name": "dropout2", "p": 0.5},
               {"type": "linear", "name": "fc2"}]
    return {"name": "deepcnn", "layers": layers}


def _imagenet(name: str, model: str) -> dict[str, Any]:
    """A frozen ImageNet backbone and a new head: the classic way to start from what a
    network already knows."""
    return {"name": name, "layers": [
        {"type": "pretrained", "name": "backbone", "model": model, "weights": "imagenet",
         "trainable": False},
        {"type": "flatten", "name": "flatten"},
        {"type": "dropout", "name": "dropout", "p": 0.2},
        {"type": "linear", "name": "fc"},
    ]}


RESNET18_IMAGENET = _imagenet("resnet18-imagenet", "resnet18")
MOBILENET_V3_SMALL_IMAGENET = _imagenet("mobilenet-v3-small-imagenet", "mobilenet_v3_small")

PRESETS: dict[str, dict[str, Any]] = {"lenet5": LENET5, "simplecnn": SIMPLECNN,
                                      "deepcnn": deepcnn(),
                                      "resnet18-imagenet": RESNET18_IMAGENET,
                                      "mobilenet-v3-small-imagenet": MOBILENET_V3_SMALL_IMAGENET}
