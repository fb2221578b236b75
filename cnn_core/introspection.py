"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.inspect`."""

from .inspect.analysis import (confusion_from_predictions, confusion_matrix, conv_filters,
                               feature_maps, layer_health, layer_summary, predict_proba, saliency)
from .inspect.explain import ConvExplanation, explain_conv

__all__ = ["ConvExplanation", "confusion_from_predictions", "confusion_matrix", "conv_filters",
           "explain_conv", "feature_maps", "layer_health", "layer_summary", "predict_proba",
           "saliency"]
