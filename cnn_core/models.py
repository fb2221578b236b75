"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.nn.models`."""

from .nn.models import MODELS, CNNBlock, DeepCNN, LeNet5, SimpleCNN, build_model

__all__ = ["MODELS", "CNNBlock", "DeepCNN", "LeNet5", "SimpleCNN", "build_model"]
