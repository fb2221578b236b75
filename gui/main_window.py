"""Public name kept where DESIGN.md lists it; the window lives in :mod:`gui.window`."""

from .window.main_window import MainWindow

__all__ = ["MainWindow"]
