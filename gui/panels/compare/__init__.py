"""Compare mode's views: two runs side by side inside the network."""

from .compare_views import CompareViews

__all__ = ["CompareViews"]
