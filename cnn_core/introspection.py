"""Public names kept where DESIGN.md lists them; the code lives in
:mod:`cnn_core.inspect`."""

from .inspect.ablation import Ablation, ablate, filter_importance
from .inspect.activation_max import maximize_activation
from .inspect.analysis import (confusion_from_predictions, confusion_matrix, conv_filters,
                               feature_maps, layer_health, layer_summary, predict_proba, saliency)
from .inspect.cancel import Cancelled
from .inspect.class_report import (ClassReport, class_report, hardest, per_sample_losses,
                                   report_csv, top_losses)
from .inspect.compare import (PredictionComparison, align_embeddings, compare_predictions,
                              match_filters)
from .inspect.embedding import align_signs, embed, embedding_layers, hidden_activations, project
from .inspect.explain import ConvExplanation, MapPixel, explain_conv, explain_map_pixel

__all__ = ["Ablation", "Cancelled", "ClassReport", "ConvExplanation", "MapPixel",
           "PredictionComparison", "ablate", "align_embeddings", "align_signs",
           "class_report", "compare_predictions", "confusion_from_predictions",
           "confusion_matrix", "conv_filters", "embed", "embedding_layers", "explain_conv",
           "explain_map_pixel", "feature_maps", "filter_importance", "hardest",
           "hidden_activations", "layer_health", "layer_summary", "match_filters",
           "maximize_activation", "per_sample_losses", "predict_proba", "project",
           "report_csv", "saliency", "top_losses"]
