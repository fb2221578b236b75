"""Loss and accuracy curves, live, with other runs drawn over them."""

from .curve_data import Overlay
from .curves import CurvesWidget

__all__ = ["CurvesWidget", "Overlay"]
