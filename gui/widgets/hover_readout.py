"""The exact value of the data point nearest the mouse, shown on a plot."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

Series = list[tuple[str, pg.PlotDataItem, str]]  # (name, curve, value format) for a readout
REACH = 30  # pixels: farther from every point, nothing is shown


class HoverReadout:
    """Shows the exact value of the data point nearest the mouse on a plot."""

    def __init__(self, plot: pg.PlotWidget, series: Series) -> None:
        self.plot, self.series = plot, series
        self.extra: Series = []  # the overlaid runs' curves
        self.text = pg.TextItem(anchor=(0, 1), color="#222", fill=pg.mkBrush(255, 255, 255, 220),
                                border=pg.mkPen("#999"))
        self.text.setZValue(100)
        self.text.hide()
        plot.addItem(self.text, ignoreBounds=True)
        self.marker = pg.ScatterPlotItem(size=9, pen=pg.mkPen("#222"), brush=None)
        plot.addItem(self.marker, ignoreBounds=True)
        plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def _on_mouse_moved(self, pos) -> None:
        vb = self.plot.getPlotItem().vb
        if not (self.plot.sceneBoundingRect().contains(pos)
                and vb.sceneBoundingRect().contains(pos)):
            self.text.hide()
            self.marker.setData([])
            return
        mouse = vb.mapSceneToView(pos)
        (x_px, y_px) = vb.viewPixelSize()
        best = None
        for name, item, fmt in self.series + self.extra:
            xs, ys = item.getData()
            if xs is None or len(xs) == 0 or not item.isVisible():
                continue
            d = ((xs - mouse.x()) / x_px) ** 2 + ((ys - mouse.y()) / y_px) ** 2
            i = int(np.nanargmin(d))
            if best is None or d[i] < best[0]:
                best = (d[i], name, xs[i], ys[i], fmt)
        if best is None or best[0] > REACH**2:
            self.text.hide()
            self.marker.setData([])
            return
        _, name, x, y, fmt = best
        self.text.setText(f"{name}\nepoch {x:.2f}: {fmt.format(y)}")
        # towards the middle of the plot from the point, so the text is never cut off
        (x0, x1), (y0, y1) = vb.viewRange()
        self.text.setAnchor((1 if x > (x0 + x1) / 2 else 0, 0 if y > (y0 + y1) / 2 else 1))
        self.text.setPos(x, y)
        self.text.show()
        self.marker.setData([x], [y])
