"""The architecture editor: a network as a table of layers, checked as it is typed."""

from .architecture_editor import SPEC_FILES, ArchitectureEditor
from .layer_table import LayerTable

__all__ = ["SPEC_FILES", "ArchitectureEditor", "LayerTable"]
