"""Models built from network specs (:mod:`cnn_core.nn.spec`), the article's three
included: they are presets in the same format, built by the same code.

Every model is ``features`` (the layers before the flatten: convolutions, activations,
pooling) followed by ``classifier`` (the flatten and what follows). Shapes follow from
the input shape, so one spec works for 1x28x28 digits and 3x32x32 CIFAR images.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from . import presets
from .backbone_layers import ConvLayer, backbone_convs
from .backbone_specs import seen_size
from .backbones import Pretrained, pretrained_modules
from .layers import AveragePool2D, Conv2D, Flatten, MaxPool2D
from .spec import LayerSpec, NetworkSpec, infer_shapes, parse_spec

_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU)


class CNNBlock(nn.Sequential):
    """A named group of a spec's layers (``block1.conv``, ``block1.bn``, ...): DeepCNN's
    Conv -> BatchNorm -> ReLU -> MaxPool blocks."""


class StudioModel(nn.Module):
    """A network built from ``spec`` for inputs of ``in_channels`` x ``input_size``²."""

    display_name = ""
    description = ""
    features: nn.Sequential
    classifier: nn.Sequential
    frozen: tuple[str, ...] = ()  # the spec's layers that keep their weights: see freeze

    def __init__(self, spec: NetworkSpec, num_classes: int, in_channels: int,
                 input_size: int) -> None:
        super().__init__()
        self.spec = spec
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.input_size = input_size
        shapes = infer_shapes(spec, (in_channels, input_size, input_size), num_classes)
        inputs = [(in_channels, input_size, input_size)] + [s.output for s in shapes[:-1]]
        split = next(i for i, layer in enumerate(spec.layers) if layer.type == "flatten")
        self.features, self.classifier = nn.Sequential(), nn.Sequential()
        for i, (layer, shape) in enumerate(zip(spec.layers, inputs)):
            _place(self.features if i < split else self.classifier, layer.name,
                   _module(layer, shape, shapes[i].output))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))

    def set_input_normalisation(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        """Tell a pretrained backbone how the dataset's pictures were standardised (it
        turns them into what ImageNet's networks expect)."""
        for _, backbone in pretrained_modules(self):
            backbone.set_input_normalisation(mean, std)

    def freeze(self, layers: Iterable[str]) -> None:
        """Keep the spec's ``layers`` as they are while the rest trains: their parameters
        get no gradient, and they stay in eval mode (see :meth:`train`), so that batch
        norm's running statistics do not move either."""
        self.frozen = tuple(layers)
        for name in self.frozen:
            for parameter in self._frozen_module(name).parameters():
                parameter.requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True) -> StudioModel:
        """As ``nn.Module.train``, but frozen layers stay in eval mode: batch norm keeps
        normalising with the statistics it was given, and keeps them. A frozen dropout
        (it has no weights) goes on dropping: it regularises what follows."""
        super().train(mode)
        for name in self.frozen:
            for module in self._frozen_module(name).modules():
                if not isinstance(module, nn.modules.dropout._DropoutNd):
                    module.training = False
        return self

    def _frozen_module(self, name: str) -> nn.Module:
        part = "features" if name in dict(self.features.named_modules()) else "classifier"
        return self.get_submodule(f"{part}.{name}")

    def conv_layers(self) -> list[tuple[str, ConvLayer]]:
        """Every conv layer in forward order, with a readable name (``conv1``,
        ``block2.conv``; inside a backbone torchvision's, ``backbone.layer1.0.conv1``)."""
        return [(name, conv) for name, conv, _seen in self._conv_maps()]

    def activation_layers(self) -> list[tuple[str, nn.Module]]:
        """For each conv layer, what the layer "sees" (the feature map shown to people),
        named after the conv layer: the nonlinearity that follows it, batch norm or dropout
        allowed between, or the conv itself when another conv or a pooling comes first (a
        map of the conv's own size, which the convolution explainer points into). Inside
        a backbone, :mod:`cnn_core.nn.backbone_layers` says which map stands for a conv."""
        return [(name, seen) for name, _conv, seen in self._conv_maps()]

    def _conv_maps(self) -> list[tuple[str, ConvLayer, nn.Module]]:
        result: list[tuple[str, ConvLayer, nn.Module]] = []
        pending: tuple[str, Conv2D] | None = None
        backbone = None  # the prefix of a backbone's modules, listed by the backbone
        for name, module in self.features.named_modules():
            if backbone is not None and name.startswith(backbone):
                continue
            if isinstance(module, (Conv2D, MaxPool2D, AveragePool2D, Pretrained)):
                if pending is not None:
                    result.append((*pending, pending[1]))
                pending = (name, module) if isinstance(module, Conv2D) else None
                if isinstance(module, Pretrained):
                    backbone = f"{name}."
                    result += backbone_convs(module, backbone)
            elif pending is not None and isinstance(module, _ACTIVATIONS):
                result.append((*pending, module))
                pending = None
        if pending is not None:
            result.append((*pending, pending[1]))
        return result


def _module(layer: LayerSpec, shape: tuple[int, ...], output: tuple[int, ...]) -> nn.Module:
    """The torch module for one checked layer whose input has ``shape``."""
    s = layer.settings
    if layer.type == "conv2d":
        return Conv2D(shape[0], s["out_channels"], s["kernel_size"], stride=s["stride"],
                      padding=s["padding"])
    if layer.type == "maxpool2d":
        return MaxPool2D(s["kernel_size"], stride=s["stride"], padding=s["padding"])
    if layer.type == "avgpool2d":
        return AveragePool2D(s["kernel_size"], stride=s["stride"], padding=s["padding"])
    if layer.type == "batchnorm2d":
        return nn.BatchNorm2d(shape[0])
    if layer.type == "pretrained":
        return Pretrained(s["model"], shape[0], seen_size(s, shape[1]), s["trainable"])
    if layer.type == "linear":
        return nn.Linear(shape[0], output[0])
    if layer.type == "dropout":
        return nn.Dropout(s["p"])
    if layer.type == "flatten":
        return Flatten()
    return {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh,
            "sigmoid": nn.Sigmoid, "gelu": nn.GELU}[layer.type]()


def _place(container: nn.Module, name: str, module: nn.Module) -> None:
    """Add ``module`` as ``name``; a dotted name nests it in blocks (``block1.conv``)."""
    *blocks, leaf = name.split(".")
    for block in blocks:
        if not hasattr(container, block):
            container.add_module(block, CNNBlock())
        container = getattr(container, block)
    container.add_module(leaf, module)


class LeNet5(StudioModel):
    """LeNet-5 (LeCun et al., 1998): tanh and average pooling, as before ReLU existed."""

    display_name = "LeNet-5"
    description = "LeCun's 1998 digit reader: 2 conv layers, tanh, average pooling (62k weights)."

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28) -> None:
        super().__init__(parse_spec(presets.LENET5), num_classes, in_channels, input_size)


class SimpleCNN(StudioModel):
    """The modern pattern: Conv -> ReLU -> MaxPool twice, then dropout-regularised FC layers."""

    display_name = "SimpleCNN"
    description = "Two 3x3 conv layers with ReLU and max pooling, dropout 0.5 (422k weights)."

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28) -> None:
        super().__init__(parse_spec(presets.SIMPLECNN), num_classes, in_channels, input_size)


class DeepCNN(StudioModel):
    """VGG-style stack of CNN blocks, channels doubling (32 -> 64 -> 128 -> 256)."""

    display_name = "DeepCNN"
    description = "VGG-style: 4 Conv-BatchNorm-ReLU blocks, channels 32->256, dropout (981k weights)."

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
                 num_blocks: int = 4, initial_channels: int = 32) -> None:
        if num_blocks < 1 or initial_channels < 1:
            raise ValueError("num_blocks and initial_channels must be >= 1")
        super().__init__(parse_spec(presets.deepcnn(num_blocks, initial_channels)),
                         num_classes, in_channels, input_size)


class ResNet18ImageNet(StudioModel):
    """ResNet-18 trained on ImageNet's 1.28 million photos, with a new head to train."""

    display_name = "ResNet-18 (ImageNet)"
    description = ("He et al.'s 2015 residual network, trained on ImageNet's photos: its "
                   "11.2M weights stay as learnt, a new head trains.")

    def __init__(self, num_classes: int = 10, in_channels: int = 3, input_size: int = 224) -> None:
        super().__init__(parse_spec(presets.RESNET18_IMAGENET), num_classes, in_channels,
                         input_size)


class MobileNetV3SmallImageNet(StudioModel):
    """MobileNetV3-Small trained on ImageNet: a backbone quick enough for a laptop CPU."""

    display_name = "MobileNetV3-Small (ImageNet)"
    description = ("Howard et al.'s 2019 network for phones, trained on ImageNet's photos: "
                   "its 0.9M weights stay as learnt, a new head trains.")

    def __init__(self, num_classes: int = 10, in_channels: int = 3, input_size: int = 224) -> None:
        super().__init__(parse_spec(presets.MOBILENET_V3_SMALL_IMAGENET), num_classes,
                         in_channels, input_size)


MODELS: dict[str, type[StudioModel]] = {
    "lenet5": LeNet5,
    "simplecnn": SimpleCNN,
    "deepcnn": DeepCNN,
    "resnet18-imagenet": ResNet18ImageNet,
    "mobilenet-v3-small-imagenet": MobileNetV3SmallImageNet,
}


class CustomNetwork(StudioModel):
    """A network a person wrote (or edited from a preset)."""

    description = "Your own network, from its spec."

    def __init__(self, spec: NetworkSpec, num_classes: int = 10, in_channels: int = 1,
                 input_size: int = 28) -> None:
        super().__init__(spec, num_classes, in_channels, input_size)
        self.display_name = spec.name


def network_spec(arch: str, network: Mapping[str, Any] | None = None) -> NetworkSpec:
    """The spec of a built-in (by name) or of a custom ``network``; raises ValueError."""
    if network is not None:
        return parse_spec(network)
    if arch not in presets.PRESETS:
        raise ValueError(f"unknown architecture {arch!r}; choose from {', '.join(MODELS)} "
                         "or give a network spec (.json)")
    return parse_spec(presets.PRESETS[arch])


def build_model(name: str, in_channels: int = 1, num_classes: int = 10, input_size: int = 28,
                *, network: Mapping[str, Any] | None = None, **kwargs: object) -> StudioModel:
    """Instantiate a registered architecture, or the custom ``network`` spec, for the given
    input shape."""
    if network is not None:
        return CustomNetwork(parse_spec(network), num_classes, in_channels, input_size)
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
                            int(meta["num_classes"]), int(meta["input_size"]),
                            network=meta.get("network"))
    return model.to_empty(device="cpu")


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (what the article's counts refer to)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
