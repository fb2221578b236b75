"""Other runs drawn behind the live one on the loss and accuracy plots, each in its own
colour and named in a legend of runs. Items are made only when the overlaid runs change."""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ...widgets.hover_readout import HoverReadout, Series
from ...widgets.panel_parts import cache_as_pixmap
from .curve_data import Overlay, Smoother, batch_positions

# One colour per overlaid run: a qualitative palette without the live run's blue and red,
# and with the learning rate's purple last.
OVERLAY_COLOURS = ("#ff7f0e", "#2ca02c", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
                   "#7f7f7f", "#9467bd")
DASH = Qt.PenStyle.DashLine


def sample(colour: str, width: float = 2, style: Qt.PenStyle = Qt.PenStyle.SolidLine,
           **symbol) -> pg.PlotDataItem:
    """A curve for a legend to draw its sample from, shown in no plot (one point: a
    PlotDataItem styles its symbols only once it has data)."""
    return pg.PlotDataItem([0], [0], pen=pg.mkPen(colour, width=width, style=style), **symbol)


class RunOverlays:
    """The overlaid runs of a loss plot and an accuracy plot.

    While runs are overlaid, a legend of runs takes the place of each plot's legend of
    series, in the same corner; its last rows say which line style is which series.
    """

    def __init__(self, loss_plot: pg.PlotWidget, acc_plot: pg.PlotWidget,
                 readouts: tuple[HoverReadout, HoverReadout], this_run: pg.PlotDataItem) -> None:
        self.loss_plot, self.acc_plot = loss_plot, acc_plot
        self._readouts = readouts
        self._this_run = this_run
        self.legends = {loss_plot: self._make_legend(loss_plot.getPlotItem()),
                        acc_plot: self._make_legend(acc_plot.getPlotItem())}
        self._style_keys = {
            loss_plot: [(sample("#757575", width=2), "test (solid)"),
                        (sample("#757575", width=1), "batch loss, smoothed (thin)")],
            acc_plot: [(sample("#757575", width=2), "test (solid)"),
                       (sample("#757575", width=1.5, style=DASH), "train (dashed)")],
        }
        self.overlays: list[Overlay] = []
        self._items: dict[str, list[pg.PlotDataItem]] = {}
        self._colours: dict[str, str] = {}  # overlay key -> colour, kept while overlaid
        self.span = 0.0  # epochs covered by the longest overlaid run
        self.loss_max = 0.0
        self.acc_min = 100.0

    @staticmethod
    def _make_legend(plot: pg.PlotItem) -> pg.LegendItem:
        legend = pg.LegendItem(offset=plot.legend.opts["offset"], pen=pg.mkPen("#bdbdbd"),
                               brush=pg.mkBrush(255, 255, 255, 190), labelTextColor="#333",
                               verSpacing=-4)
        legend.setParentItem(plot.vb)
        legend.setVisible(False)
        return legend

    def items(self) -> dict[str, list[pg.PlotDataItem]]:
        """The curves drawn for each overlaid run, by key."""
        return dict(self._items)

    def legend_labels(self) -> list[str]:
        """The runs named in the legend of runs ([] when no run is overlaid)."""
        keys = {id(item) for item, _ in self._style_keys[self.loss_plot]}
        return [label.text for item, label in self.legends[self.loss_plot].items
                if id(item.item) not in keys]

    def set(self, overlays: list[Overlay], live_run_shown: bool) -> None:
        """Draw ``overlays`` instead of the runs drawn before; ``[]`` removes them.
        ``live_run_shown``: the live run has data, so the legend names it first."""
        self._remove_items()
        keys = {o.key for o in overlays}
        self._colours = {k: c for k, c in self._colours.items() if k in keys}
        for o in overlays:
            if o.key not in self._colours:
                free = [c for c in OVERLAY_COLOURS if c not in self._colours.values()]
                self._colours[o.key] = free[0] if free else \
                    OVERLAY_COLOURS[len(self._colours) % len(OVERLAY_COLOURS)]
        self.overlays = list(overlays)
        for plot, legend in self.legends.items():
            legend.clear()
            legend.setVisible(bool(overlays))
            plot.getPlotItem().legend.setVisible(not overlays)
            if overlays and live_run_shown:
                legend.addItem(self._this_run, "this run")
        loss_series: Series = []
        acc_series: Series = []
        self.span, self.loss_max, self.acc_min = 0.0, 0.0, 100.0
        for o in overlays:
            curves = self._draw(o, self._colours[o.key])
            self._items[o.key] = list(curves.values())
            name = html.escape(o.name)
            self.legends[self.loss_plot].addItem(curves["test loss"], name)
            self.legends[self.acc_plot].addItem(curves["test accuracy"], name)
            for series, item in curves.items():
                accuracy = "accuracy" in series
                (acc_series if accuracy else loss_series).append(
                    (f"{o.name}: {series}", item, "{:.2f}%" if accuracy else "{:.4f}"))
        self._readouts[0].extra, self._readouts[1].extra = loss_series, acc_series
        for plot, legend in self.legends.items():
            if overlays:
                for item, label in self._style_keys[plot]:
                    legend.addItem(item, label)
            cache_as_pixmap(legend)

    def _remove_items(self) -> None:
        for items in self._items.values():
            for item in items:
                for plot in (self.loss_plot, self.acc_plot):
                    if item in plot.getPlotItem().items:
                        plot.removeItem(item)
        self._items.clear()

    def _draw(self, o: Overlay, colour: str) -> dict[str, pg.PlotDataItem]:
        """One run's curves by series name; also widens what the axes must show."""
        lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
        ep = np.array([m.epoch for m in o.history], dtype=float)
        dots = {"symbol": "o", "symbolSize": 5, "symbolBrush": colour, "symbolPen": None}
        curves = {}
        if o.batches is not None and len(o.batches):
            x = batch_positions(o.batches.epoch)
            smoothed = Smoother().extend(o.batches.loss.tolist())
            smooth = curves["batch loss (smoothed)"] = lp.plot(x, smoothed,
                                                               pen=pg.mkPen(colour, width=1))
            smooth.setClipToView(True)
            smooth.setDownsampling(auto=True, method="peak")
            self.span = max(self.span, float(x[-1]))
            self.loss_max = max(self.loss_max, max(filter(math.isfinite, smoothed), default=0.0))
        curves["test loss"] = lp.plot(ep, [m.test_loss for m in o.history],
                                      pen=pg.mkPen(colour, width=2), **dots)
        curves["train accuracy"] = ap.plot(ep, [100 * m.train_acc for m in o.history],
                                           pen=pg.mkPen(colour, width=1.5, style=DASH))
        curves["test accuracy"] = ap.plot(ep, [100 * m.test_acc for m in o.history],
                                          pen=pg.mkPen(colour, width=2), **dots)
        for item in curves.values():
            item.setZValue(-1)  # behind the live run
            cache_as_pixmap(item)
        if o.history:
            self.span = max(self.span, float(ep[-1]))
            self.loss_max = max([self.loss_max] + [m.test_loss for m in o.history
                                                   if math.isfinite(m.test_loss)])
            self.acc_min = min([self.acc_min] + [100 * min(m.train_acc, m.test_acc)
                                                 for m in o.history])
        return curves
