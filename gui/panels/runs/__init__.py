"""The runs list: every run folder, its status and who is writing it."""

from .runs_panel import RunsPanel

__all__ = ["RunsPanel"]
