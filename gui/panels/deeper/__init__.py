"""The views that look at the whole test set: errors (with the class report and the
hardest images), where the images land, and filters switched off; errors and embeddings
of two runs side by side."""

from .ablation import AblationPanel
from .class_report import ClassReportTable
from .deeper_views import DeeperViews
from .embedding import EmbeddingPanel
from .embedding_compare import EmbeddingCompareView
from .error_detail import ErrorDetail
from .errors import ErrorsPanel
from .errors_compare import ErrorsCompareView
from .top_losses import TopLossesList

__all__ = ["AblationPanel", "ClassReportTable", "DeeperViews", "EmbeddingCompareView",
           "EmbeddingPanel", "ErrorDetail", "ErrorsCompareView", "ErrorsPanel", "TopLossesList"]
