"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.inspect.analysis`."""

from .inspect.analysis import (confusion_from_predictions, confusion_matrix, conv_filters,
                               feature_maps, layer_health, layer_summary, predict_proba, saliency)

__all__ = ["confusion_from_predictions", "confusion_matrix", "conv_filters", "feature_maps",
           "layer_health", "layer_summary", "predict_proba", "saliency"]
