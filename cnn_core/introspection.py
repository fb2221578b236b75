"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.inspect`."""

from .inspect.ablation import Ablation, ablate, filter_importance
from .inspect.activation_max import maximize_activation
from .inspect.analysis import (confusion_from_predictions, confusion_matrix, conv_filters,
                               feature_maps, layer_health, layer_summary, predict_proba, saliency)
from .inspect.cancel import Cancelled
from .inspect.embedding import align_signs, embed, embedding_layers, hidden_activations, project
from .inspect.explain import ConvExplanation, MapPixel, explain_conv, explain_map_pixel

__all__ = ["Ablation", "Cancelled", "ConvExplanation", "MapPixel", "ablate", "align_signs",
           "confusion_from_predictions", "confusion_matrix", "conv_filters", "embed",
           "embedding_layers", "explain_conv", "explain_map_pixel", "feature_maps",
           "filter_importance", "hidden_activations", "layer_health", "layer_summary",
           "maximize_activation", "predict_proba", "project", "saliency"]
