"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.nn.layers`."""

from .nn.layers import AveragePool2D, Conv2D, Flatten, MaxPool2D

__all__ = ["AveragePool2D", "Conv2D", "Flatten", "MaxPool2D"]
