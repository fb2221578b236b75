"""Running a model only as far as one of its modules, so what follows is never computed."""

from __future__ import annotations

from torch import Tensor, nn


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
