"""The Sweeps view: a sweep's space, its trials live, parallel coordinates, importances."""

from .sweep_panel import SweepPanel

__all__ = ["SweepPanel"]
