"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.train.trainer`."""

from .train.trainer import Trainer

__all__ = ["Trainer"]
