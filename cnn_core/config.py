"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.train.config`."""

from .train.config import TrainConfig

__all__ = ["TrainConfig"]
