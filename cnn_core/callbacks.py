"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.train.callbacks`."""

from .train.callbacks import Callback

__all__ = ["Callback"]
