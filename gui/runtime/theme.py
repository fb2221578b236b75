"""One look for every plot: light background, dark ink, row-major images."""

from __future__ import annotations

import pyqtgraph as pg


def apply_plot_theme() -> None:
    """Idempotent; call before creating any pyqtgraph item."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w",
                        foreground="#333")
