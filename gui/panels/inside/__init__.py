"""The views inside the network for one image or one layer: filters (and what they want to
see), feature maps, drawing, predictions of picture files, saliency, layer health, the
convolution explainer, and the time-lapse bar."""

from .conv_explainer import ConvExplainerPanel
from .drawing import DrawingPanel
from .feature_maps import FeatureMapsPanel
from .filters import FiltersPanel
from .layer_health import LayerHealthPanel
from .predictions import PredictionsPanel, dropped_pictures
from .preferred_feed import PreferredFeed
from .saliency import SaliencyPanel
from .tab_pages import TabPages
from .timelapse_bar import TimeLapseBar

__all__ = ["ConvExplainerPanel", "DrawingPanel", "FeatureMapsPanel", "FiltersPanel",
           "LayerHealthPanel", "PredictionsPanel", "PreferredFeed", "SaliencyPanel",
           "TabPages", "TimeLapseBar", "dropped_pictures"]
