"""What a spec knows of torchvision's ImageNet networks without building one (no torch
import: the editor checks specs as they are typed); :mod:`.backbones` builds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MIN_SIZE, MAX_SIZE = 64, 224  # pixels the backbone sees: below 64 its last maps vanish


@dataclass(frozen=True)
class Backbone:
    """What a spec needs to know of one torchvision network without building it."""

    name: str  # torchvision's builder, e.g. ``resnet18``
    display_name: str
    features: int  # channels of its pooled output
    parameters: int  # of the layers kept (its own classifier is dropped)
    weights_enum: str  # torchvision.models' enum of its weights
    values_per_pixel: int  # what its layers output for each input pixel, summed

    def imagenet_weights(self) -> Any:
        """torchvision's ``IMAGENET1K_V1`` entry: its URL, file name and hash."""
        import torchvision.models

        return getattr(torchvision.models, self.weights_enum).IMAGENET1K_V1


BACKBONES: dict[str, Backbone] = {b.name: b for b in (
    Backbone("resnet18", "ResNet-18", 512, 11_176_512, "ResNet18_Weights", 149),
    Backbone("mobilenet_v3_small", "MobileNetV3-Small", 576, 927_008,
             "MobileNet_V3_Small_Weights", 82),
    Backbone("efficientnet_b0", "EfficientNet-B0", 1280, 4_007_548, "EfficientNet_B0_Weights",
             396),
)}
FIELDS = {"model": True, "weights": False, "trainable": False, "size": False}


def check_settings(data: dict[str, Any]) -> dict[str, Any]:
    """A ``pretrained`` layer's settings with defaults; ValueError names the bad one."""
    model = data["model"]
    if model not in BACKBONES:
        raise ValueError(f"model {model!r} is not one of {', '.join(BACKBONES)}")
    weights = data.get("weights", "imagenet")
    if not isinstance(weights, str) or not weights.strip():
        raise ValueError("weights must be \"imagenet\", \"none\" or the path of a .pth file")
    trainable = data.get("trainable", False)
    if not isinstance(trainable, bool):
        raise ValueError(f"trainable must be true or false, got {trainable!r}")
    size = data.get("size")
    if size is not None and (type(size) is not int or not MIN_SIZE <= size <= MAX_SIZE):
        raise ValueError(f"size must be a whole number of pixels from {MIN_SIZE} to "
                         f"{MAX_SIZE}, got {size!r}")
    return {"model": model, "weights": weights, "trainable": trainable, "size": size}


def seen_size(settings: dict[str, Any], input_size: int) -> int:
    """The square the backbone sees: the layer's ``size``, else the pictures' own size
    brought into 64..224 (digits of 28 pixels are seen at 64)."""
    size = settings.get("size")
    return int(size) if size is not None else min(max(input_size, MIN_SIZE), MAX_SIZE)


def kept_values(settings: dict[str, Any], input_size: int) -> int:
    """The values a trainable backbone keeps for the backward pass, per picture (a frozen
    one keeps none: nothing before it needs a gradient)."""
    if not settings["trainable"]:
        return 0
    return BACKBONES[settings["model"]].values_per_pixel * seen_size(settings, input_size) ** 2


def output_shape(settings: dict[str, Any], input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(features, 1, 1); ValueError for an input it cannot take."""
    if input_shape[0] not in (1, 3):
        raise ValueError(f"takes greyscale or colour pictures (1 or 3 channels), not "
                         f"{input_shape[0]}")
    return (BACKBONES[settings["model"]].features, 1, 1)
