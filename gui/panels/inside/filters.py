"""The learned kernels of any conv layer, as a grid that updates while training, or what
each of its filters wants to see (its preferred input)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout,
                               QWidget)

from cnn_core.export.render import MEAN, Grid, filter_grid, first_reads_colour, grid_columns

from ...session.compare_mode import CompareMode
from ...session.inside_state import InsideState, moment_caption
from ...widgets.grid_view import GridView
from ...widgets.layer_combo import LayerCombo
from ...widgets.panel_parts import empty_note
from ...widgets.when_shown import WhenShown
from .filter_pairs import FilterPairs, pair_filters
from .preferred_inputs import PreferredInputsView

NO_CONV = ("This network has no conv layer, so it has no filters to show: its linear "
           "layers read the pixels directly. Add a conv2d layer to watch filters learn.")


class FiltersPanel(QWidget):
    """``filterLayerCombo`` picks the layer; ``filtersView`` draws one tile per kernel, or
    ``activationMaxView`` one preferred input per filter: ``preferredWanted`` asks for
    them (the layer or the choice changed)."""

    preferredWanted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_combo = QComboBox(objectName="filterShowCombo")
        self.show_combo.addItem("weights", False)
        self.show_combo.addItem("preferred inputs", True)
        self.show_combo.setToolTip("Weights: the kernels themselves. Preferred inputs: for each "
                                   "filter, the input that excites it most.")
        self.layer_combo = LayerCombo(objectName="filterLayerCombo", characters=16)
        self.channel_combo = QComboBox(objectName="filterChannelCombo")
        # as wide from the start as its entries ("RGB colour", "mean of 512"), so the
        # window's minimum width does not move when a network is chosen
        self.channel_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.channel_combo.setMinimumContentsLength(len("RGB colour"))
        self.scale_combo = QComboBox(objectName="filterScaleCombo")
        self.scale_combo.addItem("shared scale", False)
        self.scale_combo.addItem("per-filter scale", True)
        self.scale_combo.setToolTip("Shared: compare filters' strengths. Per filter: see each "
                                    "filter's pattern, however weak.")
        self.view = GridView(object_name="filtersView")
        self.compare_view = GridView(object_name="filtersCompareView")
        self.compare_view.hide()
        self.compare_filters: dict[str, np.ndarray] | None = None
        self.compare_caption = ""
        self._state: InsideState | None = None  # followed, once given
        self._partner: CompareMode | None = None  # run B's filters beside, matched to A's
        self._pairs: tuple[np.ndarray, np.ndarray, FilterPairs] | None = None  # the last match
        self.match_label = QLabel(objectName="filtersMatchHeadline", wordWrap=True)
        self.match_label.setStyleSheet("font-weight: bold;")
        self.match_label.hide()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Layer"))
        bar.addWidget(self.layer_combo)
        self.show_label = QLabel("Show")
        bar.addWidget(self.show_label)
        bar.addWidget(self.show_combo)
        bar.addWidget(QLabel("Channel"))
        bar.addWidget(self.channel_combo)
        bar.addWidget(self.scale_combo)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.match_label)
        self.views = QWidget()
        views = QHBoxLayout(self.views)
        views.setContentsMargins(0, 0, 0, 0)
        views.addWidget(self.view, 1)
        views.addWidget(self.compare_view, 1)
        self.preferred = PreferredInputsView()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.views)
        self.pages.addWidget(self.preferred)
        layout.addWidget(self.pages, 1)
        self.note = empty_note("filtersEmpty")
        self.note.setText(NO_CONV)
        self.note.hide()
        layout.addWidget(self.note, 1)
        self.filters: dict[str, np.ndarray] = {}
        self.rgb_input = False
        self.caption = ""
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.channel_combo.currentIndexChanged.connect(self.redraw)
        self.scale_combo.currentIndexChanged.connect(self.redraw)
        self.show_combo.currentIndexChanged.connect(self._on_show_changed)

    def follow(self, state: InsideState, partner: CompareMode | None = None) -> None:
        """Show the time-lapse moment ``state`` chooses (and the one compared with it,
        or with ``partner``: run B's at that moment, matched filter by filter), drawn when
        shown."""
        self._state, self._partner = state, partner
        moment = WhenShown(self, self._show_moment)
        state.momentChosen.connect(lambda _choice: moment.due())
        if partner is not None:  # weights only: preferred inputs are the single run's
            partner.partnerChanged.connect(moment.due)
            self.show_label.hide()
            self.show_combo.hide()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        if self.showing_preferred:
            self.preferredWanted.emit()

    def _show_moment(self) -> None:
        state = self._state
        moment = state.moment
        if moment is None or state.info is None:
            return
        compared, caption, compare_caption = state.compared, moment_caption(moment), ""
        if self._partner is not None:
            compared, caption = self._partner.b.moment, f"A, {caption}"
            compare_caption = "" if compared is None else f"B, {moment_caption(compared)}"
        elif compared is not None:
            compare_caption = moment_caption(compared)
        self.set_filters(moment.filters, rgb_input=first_reads_colour(moment.filters),
                         caption=caption,
                         compare=None if compared is None else compared.filters,
                         compare_caption=compare_caption)

    @property
    def showing_preferred(self) -> bool:
        return bool(self.show_combo.currentData())

    def _enable_weight_choices(self) -> None:
        weights = bool(self.filters) and not self.showing_preferred
        self.channel_combo.setEnabled(weights)
        self.scale_combo.setEnabled(weights)

    def _on_show_changed(self) -> None:
        self.pages.setCurrentWidget(self.preferred if self.showing_preferred else self.views)
        self._enable_weight_choices()
        if self.showing_preferred:
            self.preferredWanted.emit()

    @property
    def grid(self) -> Grid | None:
        return self.view.grid

    def set_filters(self, filters: dict[str, np.ndarray], rgb_input: bool = False,
                    caption: str = "", compare: dict[str, np.ndarray] | None = None,
                    compare_caption: str = "") -> None:
        """Show new weights, and ``compare`` (another moment's) beside them or none; keeps
        the chosen layer when the layers are unchanged. Draws once."""
        self.compare_filters, self.compare_caption = compare, compare_caption
        self.compare_view.setVisible(compare is not None)
        layout_changed = (rgb_input != self.rgb_input or
                          [(n, w.shape) for n, w in filters.items()] !=
                          [(n, w.shape) for n, w in self.filters.items()])
        self.rgb_input, self.caption = rgb_input, caption
        self.pages.setVisible(bool(filters))
        self.note.setVisible(not filters)
        self.layer_combo.setEnabled(bool(filters))
        self.show_combo.setEnabled(bool(filters))
        names = list(filters)
        if layout_changed:
            current = self.layer_combo.currentText()
            self.filters = filters
            self.layer_combo.blockSignals(True)
            self.layer_combo.clear()
            for name in names:
                w = filters[name]
                self.layer_combo.addItem(
                    f"{name}  ({w.shape[0]} filters {w.shape[2]}x{w.shape[3]})", name)
            index = self.layer_combo.findText(current)
            self.layer_combo.setCurrentIndex(max(index, 0))
            self.layer_combo.blockSignals(False)
            self._on_layer_changed()
        else:
            self.filters = filters
            self.redraw()
        self._enable_weight_choices()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self.redraw()  # the grid's columns follow the view's shape

    def current_layer(self) -> str | None:
        return self.layer_combo.currentData()

    def _on_layer_changed(self) -> None:
        name = self.current_layer()
        if name is None:
            return
        inputs = self.filters[name].shape[1]
        self.channel_combo.blockSignals(True)
        self.channel_combo.clear()
        rgb = self.rgb_input and inputs == 3 and name == next(iter(self.filters))
        self.channel_combo.addItem("RGB colour" if rgb else f"mean of {inputs}" if inputs > 1
                                   else "only one", MEAN)
        for c in range(inputs if inputs > 1 else 0):
            self.channel_combo.addItem(str(c), c)
        self.channel_combo.blockSignals(False)
        self.redraw()
        if self.showing_preferred:
            self.preferredWanted.emit()

    def redraw(self) -> None:
        name = self.current_layer()
        if name is None or name not in self.filters:
            return
        self._draw(self.view, self.filters, name, self.caption)
        if self._partner is not None:
            self._draw_partner(name)
        elif self.compare_filters is not None and name in self.compare_filters:
            self._draw(self.compare_view, self.compare_filters, name, self.compare_caption)

    def _draw_partner(self, name: str) -> None:
        """Run B's filters of layer ``name`` in the order of A's they match, each labelled
        with its similarity, and the headline."""
        theirs = self.compare_filters
        if theirs is None:
            self.match_label.hide()
            return
        self.match_label.show()
        if name not in theirs:
            self.match_label.setText(f"{name}: only in A — run B has no layer of that name")
            self.compare_view.clear_grid(f"B has no {name}")
            return
        pairs = self._paired(name, self.filters[name], theirs[name])
        self.match_label.setText(pairs.headline)
        self._draw(self.compare_view, {**theirs, name: pairs.weights_b}, name,
                   self.compare_caption, texts=pairs.tile_texts(), pairing=pairs.describe)

    def _paired(self, name: str, mine: np.ndarray, theirs: np.ndarray) -> FilterPairs:
        """The layer's pairs, matched again only when either side's kernels are new arrays
        (not at each resize: a backbone's 512 filters take ~0.1 s to match)."""
        last = self._pairs
        if last is None or last[0] is not mine or last[1] is not theirs:
            self._pairs = last = (mine, theirs, pair_filters(name, mine, theirs))
        return last[2]

    def layer_grid(self, filters: dict[str, np.ndarray], name: str, aspect: float) -> Grid:
        """Layer ``name`` of ``filters`` drawn with the panel's current channel and scale
        choices (also what the time-lapse export draws, frame by frame)."""
        channel = self.channel_combo.currentData()
        channel = MEAN if channel is None else channel
        first = name == next(iter(filters))
        weights = filters[name]
        return filter_grid(weights, cols=grid_columns(len(weights), aspect), channel=channel,
                           per_tile=bool(self.scale_combo.currentData()),
                           rgb_input=self.rgb_input and first)

    def _draw(self, view: GridView, filters: dict[str, np.ndarray], name: str,
              caption: str, texts: list[str] | None = None,
              pairing: Callable[[int], str] | None = None) -> None:
        """``texts``: the tiles' labels; ``pairing(i)``: what tile ``i`` is paired with."""
        weights = filters[name].astype(np.float32)
        grid = self.layer_grid(filters, name, view.aspect())

        def describe(i: int) -> str:
            k = weights[i]
            return (f"{name}, filter {i}\nshape {k.shape[0]}x{k.shape[1]}x{k.shape[2]}\n"
                    f"mean {k.mean():+.4f}  std {k.std():.4f}\n"
                    f"min {k.min():+.4f}  max {k.max():+.4f}  L2 {np.linalg.norm(k):.4f}"
                    + (f"\n{pairing(i)}" if pairing is not None else ""))

        title = f"{name}: {weights.shape[0]} filters" + (f" — {caption}" if caption else "")
        view.set_grid(grid, title, describe=describe, texts=texts)
