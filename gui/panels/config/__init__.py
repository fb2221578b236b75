"""The Configuration panel: network, data, augmentation and training settings."""

from .augmentation_group import AugmentationGroup
from .config_panel import ConfigPanel
from .data_group import DataGroup
from .model_group import BAD_ROW, ERROR_STYLE, ModelGroup, error_label, shape_text

__all__ = ["BAD_ROW", "ERROR_STYLE", "AugmentationGroup", "ConfigPanel", "DataGroup",
           "ModelGroup", "error_label", "shape_text"]
