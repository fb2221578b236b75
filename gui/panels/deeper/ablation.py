"""Switch a filter off: a learner clicks a conv layer's filters to silence them and sees
at once what the network loses: its test accuracy, each class's, and where the images
that were right went instead.

The panel only says which filters are off (``selectionChanged``) and shows what comes
back (:meth:`AblationPanel.show_result`); the numbers are computed elsewhere, off the
GUI thread, which also answers ``importanceRequested`` with
:meth:`AblationPanel.show_importance`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget)

from cnn_core.export.render import filter_grid, grid_columns
from cnn_core.inspect.ablation import Ablation

from ...widgets.grid_view import GridView
from ...widgets.matrix_view import MatrixView, colours
from ...widgets.panel_parts import empty_note, set_text

NO_CONV = ("This network has no conv layer, so it has no filters to switch off. Add a "
           "conv2d layer to see what each of its filters is worth.")
DIFF_TITLE = ("Images moved, after − before (rows: true class, columns: predicted). "
              "Red: more images, blue: fewer.")
NO_DIFF = "Switch filters off to see where their images go instead."
ASK_IMPORTANCE = "Which filters matter most? Ask with the button."
BEFORE_COLOUR = "#b0bec5"
AFTER_COLOUR = "#fb8c00"
BAR_WIDTH = 0.4  # of a class's slot, for each of its two bars
HEADROOM = 122  # the y axis's top, in %: room above 100% for the legend, over no bar
MAX_NAMED = 8  # filters the accuracy sentence names; past this, it counts the rest
MINUS = "\u2212"


def points(change: float) -> str:
    """An accuracy change (0..1) in percentage points, signed: "−6.7 points"."""
    value = round(100 * change, 1)
    return "no change" if value == 0 else f"{'+' if value > 0 else MINUS}{abs(value):.1f} points"


def filter_names(channels: Sequence[int]) -> str:
    """The filters by number: "filter 3", "filters 3, 7", or the first few and a count."""
    shown = ", ".join(map(str, channels[:MAX_NAMED]))
    more = f" and {len(channels) - MAX_NAMED} more" if len(channels) > MAX_NAMED else ""
    return f"filter{'s' if len(channels) > 1 else ''} {shown}{more}"


def accuracy_text(result: Ablation) -> str:
    """The headline: the test accuracy before and after, and which filters are off."""
    before, after = result.accuracy_before, result.accuracy_after
    if not result.channels:
        return f"Test accuracy {before:.1%} with every filter on. Click filters to switch them off."
    return (f"Test accuracy {before:.1%} → {after:.1%} ({points(after - before)}) with "
            f"{filter_names(result.channels)} of {result.layer} switched off.")


class AblationPanel(QWidget):
    """``selectionChanged(layer, channels)``: the filters switched off, sorted;
    ``importanceRequested(layer)``: rank the layer's filters; ``cancelRequested``: stop
    ranking them."""

    selectionChanged = Signal(str, object)
    importanceRequested = Signal(str)
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ablationView")
        self.filters: dict[str, np.ndarray] = {}
        self.rgb_input = False
        self._off: tuple[int, ...] = ()
        self._names: list[str] = []
        self._importance_layer: str | None = None

        self.layer_combo = QComboBox(objectName="ablationLayerCombo")
        self.layer_combo.setMaxVisibleItems(24)  # a backbone has 20 to 50 conv layers
        self.view = GridView(object_name="ablationFilters")
        self.view.image.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clear_button = QPushButton("All on", objectName="ablationClear")
        self.clear_button.setToolTip("Switch every filter back on.")
        self.importance_button = QPushButton("Most important filters",
                                             objectName="importanceButton")
        self.importance_button.setToolTip("Switch each filter off alone and rank them by "
                                          "the test accuracy lost.")
        self.progress = QProgressBar(objectName="importanceProgress")
        self.progress.setFormat("%v of %m filters")
        self.cancel_button = QPushButton("Cancel", objectName="importanceCancel")
        self.accuracy = QLabel(objectName="ablationAccuracy", wordWrap=True)
        self.accuracy.setStyleSheet("font-weight: bold;")
        self.bars = pg.PlotWidget()
        self.bars.setObjectName("ablationClassBars")
        self.before_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, pen=None,
                                           brush=BEFORE_COLOUR, name="all on")
        self.after_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, pen=None,
                                          brush=AFTER_COLOUR, name="filters off")
        self.diff_title = QLabel(NO_DIFF, wordWrap=True)
        self.diff = MatrixView("ablationConfusionDiff")
        self.diff.describe = "change in images"
        self.importance_title = QLabel(wordWrap=True)
        self.importance = QListWidget(objectName="filterImportanceList")
        self.note = empty_note("ablationEmpty")
        self.note.setText(NO_CONV)
        self._build_plot()
        self._lay_out()
        self.set_busy(False)
        self.clear("Train a network, then click its filters to switch them off.")

        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.view.tileClicked.connect(self._toggle)
        self.clear_button.clicked.connect(lambda: self.select(()))
        self.importance_button.clicked.connect(self._ask_importance)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.importance.itemClicked.connect(self._pick_important)
        self.bars.getPlotItem().vb.sigResized.connect(self._fit_ticks)

    def _build_plot(self) -> None:
        plot = self.bars.getPlotItem()
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("left", "accuracy", units="%")
        plot.setLabel("bottom", "true class")
        plot.showGrid(y=True, alpha=0.2)
        plot.setYRange(0, HEADROOM, padding=0.02)
        plot.getAxis("left").setTicks([[(y, str(y)) for y in range(0, 101, 20)]])
        plot.addLegend(offset=(-4, 4), colCount=2, brush=(255, 255, 255, 210))
        plot.addItem(self.before_bars)
        plot.addItem(self.after_bars)

    def _lay_out(self) -> None:
        left = QWidget()
        layer_row = QHBoxLayout()
        layer_row.addWidget(QLabel("Layer"))
        layer_row.addWidget(self.layer_combo, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.importance_button, 1)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(layer_row)
        column.addWidget(self.view, 1)
        column.addLayout(buttons)
        column.addLayout(busy)
        middle = QWidget()
        column = QVBoxLayout(middle)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.accuracy)
        column.addWidget(self.bars, 1)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.diff_title)
        column.addWidget(self.diff, 3)
        column.addWidget(self.importance_title)
        column.addWidget(self.importance, 2)
        self.splitter = QSplitter()
        for pane in (left, middle, right):
            self.splitter.addWidget(pane)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([260, 320, 260])
        self.splitter.splitterMoved.connect(self._redraw)  # the grid's columns follow
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.note, 1)
        self.note.hide()

    # -- filters and the selection -------------------------------------------------------

    @property
    def selection(self) -> tuple[str | None, tuple[int, ...]]:
        """The chosen layer and its filters switched off."""
        return self.current_layer(), self._off

    def current_layer(self) -> str | None:
        return self.layer_combo.currentData()

    def set_filters(self, filters: dict[str, np.ndarray], rgb_input: bool = False) -> None:
        """New weights (conv layer -> (out, in, kh, kw)). The same layers and shapes keep
        the chosen layer and its selection, silently; other layers clear the selection."""
        same = ([(n, w.shape) for n, w in filters.items()] ==
                [(n, w.shape) for n, w in self.filters.items()])
        self.filters, self.rgb_input = filters, rgb_input
        self.splitter.setVisible(bool(filters))
        self.note.setVisible(not filters)
        if same:
            self._redraw()
            return
        current = self.current_layer()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for name, w in filters.items():
            self.layer_combo.addItem(f"{name}  ({w.shape[0]} filters {w.shape[2]}x{w.shape[3]})",
                                     name)
        self.layer_combo.setCurrentIndex(max(self.layer_combo.findData(current), 0))
        self.layer_combo.blockSignals(False)
        self._show_importance_list(None, [])
        self._on_layer_changed()

    def select(self, channels: Iterable[int]) -> None:
        """Switch exactly these filters of the chosen layer off (the rest on)."""
        name = self.current_layer()
        if name is None:
            return
        count = len(self.filters[name])
        self._off = tuple(sorted({int(c) for c in channels if 0 <= int(c) < count}))
        self.view.set_marked(self._off)
        set_text(self.view.title, self._grid_title())
        self.selectionChanged.emit(name, self._off)

    def _toggle(self, index: int) -> None:
        self.select(set(self._off) ^ {index})

    def _on_layer_changed(self) -> None:
        self._off = ()
        self._redraw()
        if self.current_layer() is not None:
            self.select(())

    def _grid_title(self) -> str:
        name = self.current_layer()
        count = len(self.filters[name])
        return f"{name}: {count} filters, " + (f"{len(self._off)} off" if self._off else "all on")

    def _redraw(self) -> None:
        name = self.current_layer()
        if name is None or name not in self.filters:
            self.view.clear_grid()
            return
        weights = self.filters[name]
        first = name == next(iter(self.filters))
        grid = filter_grid(weights, cols=grid_columns(len(weights), self.view.aspect()),
                           rgb_input=self.rgb_input and first)

        def describe(i: int) -> str:
            state = "off: click to switch it on" if i in self._off else "on: click to switch it off"
            return f"{name}, filter {i}\n{state}"

        self.view.set_grid(grid, self._grid_title(), describe=describe)
        self.view.set_marked(self._off)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._redraw()  # the grid's columns follow the view's shape

    # -- ranking the filters -------------------------------------------------------------

    def _ask_importance(self) -> None:
        name = self.current_layer()
        if name is not None:
            self.importanceRequested.emit(name)

    def set_progress(self, done: int, total: int) -> None:
        """``done`` of ``total`` filters ranked so far (shows the progress and Cancel)."""
        self.set_busy(True)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def set_busy(self, busy: bool) -> None:
        """Show or hide the progress and Cancel; ranking again waits until it is done."""
        if busy and self.progress.isHidden():
            self.progress.setRange(0, 0)  # moving, until the first count arrives
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.importance_button.setEnabled(not busy)

    def show_importance(self, layer: str, drops: np.ndarray) -> None:
        """``drops[i]``: the test accuracy (0..1) lost with filter ``i`` alone off."""
        self.set_busy(False)
        self._show_importance_list(layer, drops)

    def _show_importance_list(self, layer: str | None, drops: Sequence[float]) -> None:
        self._importance_layer = layer
        self.importance.clear()
        if layer is None:
            self.importance_title.setText(ASK_IMPORTANCE)
            return
        self.importance_title.setText(f"{layer}: accuracy lost with each filter alone off. "
                                      "Click one to try it.")
        drops = np.asarray(drops, np.float64)
        for i in np.argsort(-drops, kind="stable"):
            item = QListWidgetItem(f"filter {int(i)}  {points(-float(drops[i]))}")
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            self.importance.addItem(item)

    def _pick_important(self, item: QListWidgetItem) -> None:
        layer = self._importance_layer
        if layer is not None and layer != self.current_layer():
            self.layer_combo.setCurrentIndex(self.layer_combo.findData(layer))
        self.select([int(item.data(Qt.ItemDataRole.UserRole))])

    # -- what was lost -------------------------------------------------------------------

    def show_result(self, result: Ablation, class_names: Sequence[str]) -> None:
        """The test set with ``result.channels`` of ``result.layer`` switched off."""
        self.accuracy.setText(accuracy_text(result))
        before = np.asarray(result.per_class_before, np.float64) * 100
        after = np.asarray(result.per_class_after, np.float64) * 100
        k = len(before)
        self._names = list(class_names) if len(class_names) == k else list(map(str, range(k)))
        x = np.arange(k, dtype=np.float64)
        self.before_bars.setOpts(x=x - BAR_WIDTH / 2, height=before, width=BAR_WIDTH)
        shown = x if result.channels else x[:0]  # nothing off: no "after" to draw
        self.after_bars.setOpts(x=shown + BAR_WIDTH / 2, height=after[:len(shown)],
                                width=BAR_WIDTH)
        self.bars.getPlotItem().setXRange(-0.5, k - 0.5, padding=0.01)
        self._fit_ticks()
        self.diff_title.setText(DIFF_TITLE if result.channels else NO_DIFF)
        if not result.channels:
            self.diff.clear()
            return
        diff = (np.asarray(result.confusion_after, np.int64)
                - np.asarray(result.confusion_before, np.int64))
        # coloured on the scale of the wrong answers: the diagonal's losses (as many as
        # all the moves of its row) would wash every move out to white
        wrong = np.abs(diff[~np.eye(k, dtype=bool)]).max(initial=0)
        self.diff.set_values(diff, rgb=colours(np.clip(diff, -wrong, wrong) if wrong else diff),
                             numbers=False)

    def _fit_ticks(self) -> None:
        """Class names under the bars where they fit, else their numbers (names in the
        tooltip): pyqtgraph draws every tick's text, even over its neighbour's."""
        k = len(self._names)
        plot = self.bars.getPlotItem()
        slot = plot.vb.width() / max(k, 1)
        metrics = QFontMetrics(plot.getAxis("bottom").font())
        fits = max((metrics.horizontalAdvance(n) for n in self._names), default=0) + 6 <= slot
        labels = self._names if fits else list(map(str, range(k)))
        plot.getAxis("bottom").setTicks([list(enumerate(labels))])
        self.bars.setToolTip("" if fits else "\n".join(f"{i}: {n}"
                                                       for i, n in enumerate(self._names)))

    def clear(self, text: str) -> None:
        """No result to show (no run yet, or a new one): ``text`` says why."""
        self.accuracy.setText(text)
        self._names = []
        self.before_bars.setOpts(x=[], height=[])
        self.after_bars.setOpts(x=[], height=[])
        self.bars.getPlotItem().getAxis("bottom").setTicks([[]])
        self.diff.clear()
        self.diff_title.setText(NO_DIFF)
        self._show_importance_list(None, [])
        self.set_busy(False)
