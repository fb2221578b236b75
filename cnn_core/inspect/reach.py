"""Finding a conv layer (and the map people see of it) by name, and running a model only as
far as one of its modules, so what follows is never computed."""

from __future__ import annotations

from torch import Tensor, nn

from ..nn.layers import Conv2D
from ..nn.models import StudioModel


def conv_layer(model: StudioModel, layer_name: str) -> Conv2D:
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
