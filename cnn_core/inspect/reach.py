"""Finding a conv layer (and the map people see of it) by name, and running a model only as
far as one of its modules, so what follows is never computed."""

from __future__ import annotations

from torch import Tensor, nn

from ..nn.backbone_layers import ConvLayer
from ..nn.backbones import Pretrained
from ..nn.models import StudioModel


def conv_layer(model: StudioModel, layer_name: str) -> ConvLayer:
    """The conv layer called ``layer_name`` (as :meth:`StudioModel.conv_layers` names it)."""
    convs = dict(model.conv_layers())
    if layer_name not in convs:
        raise ValueError(f"no conv layer {layer_name!r} (the network has "
                         f"{', '.join(convs) or 'none'})")
    return convs[layer_name]


def last_hidden_layer(model: StudioModel) -> nn.Linear:
    """The classifier's last linear layer: its input is the network's last hidden
    representation of an image, which embeddings show."""
    linears = [m for m in model.classifier.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("the network's classifier has no linear layer")
    return linears[-1]


def seen_module(model: StudioModel, layer_name: str) -> nn.Module:
    """The module whose output people see as conv ``layer_name``'s feature map: the
    nonlinearity after it (see :meth:`StudioModel.activation_layers`)."""
    conv_layer(model, layer_name)
    return dict(model.activation_layers())[layer_name]


def grad_cam_module(model: StudioModel) -> nn.Module | None:
    """The module whose maps Grad-CAM weighs: the last conv layer's map, or for a network
    whose last conv is inside a backbone, the backbone's last block before its global
    pool (ResNet's ``layer4``, MobileNet's ``features``: the maps that pool is taken of,
    as Selvaraju et al. do); None without a conv layer."""
    seen = model.activation_layers()
    if not seen:
        return None
    last = seen[-1][1]
    for _name, backbone in model.named_modules():
        if isinstance(backbone, Pretrained) and any(m is last for m in backbone.modules()):
            blocks = [child for child in backbone.children()
                      if not isinstance(child, nn.AdaptiveAvgPool2d)]
            return blocks[-1]
    return last


class _Reached(Exception):
    """Carries the tensor out of the forward pass that a hook cut short."""

    def __init__(self, value: Tensor) -> None:
        super().__init__()
        self.value = value


def run_until(model: nn.Module, module: nn.Module, x: Tensor, *, inputs: bool = False) -> Tensor:
    """``module``'s output for ``x`` (its first input with ``inputs=True``).

    A hook raises as soon as ``module`` has run, so the rest of the network costs nothing.
    The caller chooses eval mode and whether gradients are tracked.
    """
    def stop(_m: nn.Module, args: tuple[Tensor, ...], output: Tensor | None = None) -> None:
        raise _Reached(args[0] if inputs else output)

    hook = (module.register_forward_pre_hook(stop) if inputs
            else module.register_forward_hook(stop))
    try:
        model(x)
    except _Reached as reached:
        return reached.value
    finally:
        hook.remove()
    raise ValueError(f"the model's forward pass never reaches {type(module).__name__}")
