"""The window's Filters panel and the exported pictures draw the same pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox

from cnn_core.export import plots, render
from gui.panels.inside import FiltersPanel

SCALE = 8  # the export's enlargement in this test


def test_the_window_and_an_export_draw_the_same_pixels_for_the_same_filters(qtbot) -> None:
    rng = np.random.default_rng(1)
    filters = {"conv1": rng.normal(size=(16, 1, 5, 5)).astype(np.float32),
               "conv2": rng.normal(size=(32, 16, 3, 3)).astype(np.float32)}
    panel = FiltersPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_filters(filters)
    layers = panel.findChild(QComboBox, "filterLayerCombo")
    for index, (name, weights) in enumerate(filters.items()):
        layers.setCurrentIndex(index)
        shown = panel.grid
        kh, kw = weights.shape[2:]
        picture = plots.filter_grid(weights, tile=SCALE * kw)  # what TensorBoard gets
        # the picture is laid out for a page, the window for its view: compare kernel by kernel
        page = render.filter_grid(weights, cols=render.grid_columns(len(weights),
                                                                    plots.PICTURE_ASPECT))
        for i in range(len(weights)):
            x, y = shown.tile_origin(i)
            px, py = (SCALE * v for v in page.tile_origin(i))
            in_window = shown.rgba[y:y + kh, x:x + kw, :3]
            in_picture = picture[py:py + SCALE * kh:SCALE, px:px + SCALE * kw:SCALE]
            assert np.array_equal(in_window, in_picture), (name, i)
