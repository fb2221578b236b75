"""The views that look at the whole test set: errors (with the class report and the
hardest images), where the images land, and filters switched off."""

from .ablation import AblationPanel
from .class_report import ClassReportTable
from .deeper_views import DeeperViews
from .embedding import EmbeddingPanel
from .error_detail import ErrorDetail
from .errors import ErrorsPanel
from .top_losses import TopLossesList

__all__ = ["AblationPanel", "ClassReportTable", "DeeperViews", "EmbeddingPanel",
           "ErrorDetail", "ErrorsPanel", "TopLossesList"]
