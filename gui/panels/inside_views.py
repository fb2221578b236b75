"""The views inside the network (filters, feature maps, drawing, predictions, errors, the
embedding, ablation, saliency, layer health, the convolution explainer) and the time-lapse.

``InsideViews`` holds the tabs (:class:`TabPages`: built when first shown, a note in place
of those that need pictures a run lacks) and the time-lapse bar, and follows the run's
:class:`InsideState`; Predictions, Errors and Layer health follow the session themselves.
Work that needs the network goes to the analysis service: its inference lane, a channel
per view, and its analysis lanes (:class:`PreferredFeed`, :class:`DeeperViews`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from cnn_core.inspect.drawing import fit_field
from cnn_core.data.datasets import DatasetInfo

from ..widgets.png_export import export_frames
from ..session.analysis import AnalysisService
from ..session.inference import ImageAnswer, PixelAnswer
from ..session.inside_state import InsideState
from ..session.run_session import RunSession
from ..session.timelapse import TimeLapse
from ..training.messages import EpochDetails, RunInfo, Snapshot
from .deeper import DeeperViews, ErrorsPanel
from .inside import (ConvExplainerPanel, DrawingPanel, FeatureMapsPanel, FiltersPanel,
                     LayerHealthPanel, PredictionsPanel, PreferredFeed, SaliencyPanel,
                     TabPages, TimeLapseBar, dropped_pictures)

PROBE = 0  # the test image whose feature maps the snapshots carry


class InsideViews(QWidget):
    def __init__(self, session: RunSession, analysis: AnalysisService,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filters_panel = FiltersPanel()
        self.errors_panel = ErrorsPanel()
        self.health_panel = LayerHealthPanel()
        self.predictions_panel = PredictionsPanel(session, analysis.pictures)
        self.state = InsideState(session, self)  # after the analysis service: see its note
        self.preferred = PreferredFeed(self.filters_panel, self.timelapse, analysis.jobs(), self)
        self.deeper = DeeperViews(analysis.jobs(), self)
        # the Errors tab's detail: the clicked image's saliency and feature maps
        self.errors_saliency = SaliencyPanel(view_name="errorsSaliencyView", probabilities=False)
        self.errors_maps = FeatureMapsPanel(view_name="errorsFeatureMaps", browser=False)
        detail = QSplitter()
        detail.setOrientation(detail.orientation().Vertical)
        detail.addWidget(self.errors_saliency)
        detail.addWidget(self.errors_maps)
        QVBoxLayout(self.errors_panel.detail).addWidget(detail)

        self.inference = analysis.inference
        self.tabs = QTabWidget(objectName="panelTabs")
        # the panels that follow the session themselves are built now; the others the first
        # time they are shown, then catch up (_starts, render; the deeper views their own)
        self.pages = pages = TabPages(self.tabs)
        pages.add("Filters", lambda: self.filters_panel, eager=True)
        pages.add("Feature maps", self._build_feature_maps, needs_pictures=True)
        pages.add("Draw", self._build_drawing)
        pages.add("Predictions", lambda: self.predictions_panel, eager=True)
        pages.add("Errors", lambda: self.errors_panel, needs_pictures=True, eager=True)
        pages.add("Embedding", lambda: self.deeper.embedding, needs_pictures=True,
                  tip="Where the test images land: their activations in 2-D")
        pages.add("Ablation", lambda: self.deeper.ablation, needs_pictures=True,
                  tip="Switch filters off and see what the network loses")
        pages.add("Saliency", self._build_saliency, needs_pictures=True)
        pages.add("Layer health", lambda: self.health_panel, needs_pictures=True, eager=True)
        pages.add("Convolution", self._build_explainer)
        self._starts = {  # what a panel built after the run started is told of it
            "Feature maps": lambda panel, info: panel.set_test_set(info.test_labels,
                                                                  info.dataset.class_names),
            "Draw": lambda panel, info: panel.set_dataset(info.dataset),
            "Saliency": lambda panel, info: panel.set_classes(info.dataset.class_names)}
        self._renders = {"Filters": self._render_filters,
                         "Feature maps": self._render_feature_maps,
                         "Draw": lambda: self.drawing_panel.ask_again(),
                         "Embedding": self._render_embedding,
                         "Ablation": self.deeper.show_ablation,
                         "Saliency": self._request_saliency,
                         "Convolution": self._render_explainer}
        self.timelapse_bar = TimeLapseBar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.timelapse_bar)
        self.setAcceptDrops(True)  # picture files; the window takes checkpoints and folders

        # one channel per asker: each answer comes back to the view that asked
        (self._maps_channel, self._draw_channel, self._errors_channel, self._saliency_channel,
         self._explain_channel) = (self.inference.channel(self) for _ in range(5))
        self._inspected: tuple[str, int | np.ndarray] | None = None  # ("test", i) / ("drawing", x)
        self._errors_image: int | None = None  # the image the Errors detail shows

        self.tabs.currentChanged.connect(lambda _i: self.render())
        self.timelapse_bar.momentChanged.connect(lambda _i, _j: self.render())
        self.filters_panel.preferredWanted.connect(self.render)
        self.deeper.imageChosen.connect(self.inspect_test_image)
        self.deeper.refreshDue.connect(self.render)
        self.preferred.refreshDue.connect(self.render)
        self.errors_panel.imageSelected.connect(self._on_error_image)
        self.errors_saliency.targetChanged.connect(lambda _t: self._request_errors_detail())
        self._maps_channel.answered.connect(self._on_maps)
        self._draw_channel.answered.connect(self._on_drawing_answer)
        self._errors_channel.answered.connect(self._on_errors_answer)
        self._saliency_channel.answered.connect(self._on_saliency)
        self._explain_channel.answered.connect(self._show_explanation)
        self.errors_panel.follow(session)  # they draw themselves when shown
        self.health_panel.follow(session)
        self.state.runStarted.connect(self._on_run_started)
        self.state.momentAdded.connect(self._on_snapshot)
        self.state.detailsChanged.connect(self._on_details)

    # -- data in -------------------------------------------------------------------------

    def _on_run_started(self, info: RunInfo) -> None:
        self.timelapse_bar.set_moments([])
        self.errors_saliency.set_classes(info.dataset.class_names)
        self._inspected = ("test", PROBE) if info.has_pictures else None
        self._errors_image = None
        self.pages.set_missing(info.missing_data or
                               ("" if info.has_pictures else "no test images"))
        self.preferred.start(info)
        self.deeper.start(info)
        for title, start in self._starts.items():
            panel = self.pages.built(title)
            if panel is not None:
                start(panel, info)

    def _on_snapshot(self, snap: Snapshot) -> None:
        self.timelapse_bar.set_moments([f"epoch {m.progress:.2f}" for m in self.timelapse])
        self.preferred.add_snapshot(snap)
        self.deeper.add_snapshot(snap)
        self.render()

    def _on_details(self, details: EpochDetails) -> None:
        self.deeper.add_details(details)
        if self.pages.current() == "Embedding":
            self.render()  # the other panels do not show the details

    def preview(self, filters: dict[str, np.ndarray], info: DatasetInfo) -> None:
        """Untrained filters of the chosen architecture, while no run has started."""
        if self.info is None:
            self.filters_panel.set_filters(filters, rgb_input=info.in_channels == 3,
                                           caption="untrained (random) weights: press Start")

    # -- the state, read-only: the InsideState's ------------------------------------------

    @property
    def info(self) -> RunInfo | None:
        return self.state.info

    @property
    def details(self) -> EpochDetails | None:
        return self.state.details

    @property
    def timelapse(self) -> TimeLapse:
        return self.state.timelapse

    # -- the panels built when first shown ------------------------------------------------

    @property
    def feature_maps_panel(self) -> FeatureMapsPanel:
        return self.pages.panel("Feature maps")

    @property
    def drawing_panel(self) -> DrawingPanel:
        return self.pages.panel("Draw")

    @property
    def saliency_panel(self) -> SaliencyPanel:
        return self.pages.panel("Saliency")

    @property
    def explainer_panel(self) -> ConvExplainerPanel:
        return self.pages.panel("Convolution")

    def _build_feature_maps(self) -> FeatureMapsPanel:
        panel = FeatureMapsPanel()
        panel.imageChosen.connect(self._on_image_chosen)
        return self._caught_up("Feature maps", panel)

    def _build_drawing(self) -> DrawingPanel:
        panel = DrawingPanel()
        panel.inputChanged.connect(self._on_drawing)
        return self._caught_up("Draw", panel)

    def _build_saliency(self) -> SaliencyPanel:
        panel = SaliencyPanel()
        panel.targetChanged.connect(lambda _t: self._request_saliency())
        return self._caught_up("Saliency", panel)

    def _build_explainer(self) -> ConvExplainerPanel:
        panel = ConvExplainerPanel()
        panel.requested.connect(self._request_explanation)
        return panel  # render gives it the time-lapse moment's layers

    def _caught_up(self, title: str, panel: QWidget) -> QWidget:
        """A panel built after the run started, given what it missed."""
        if self.info is not None:
            self._starts[title](panel, self.info)
        return panel

    # -- drawing the visible tab ---------------------------------------------------------

    def render(self) -> None:
        """Draw the tab shown (none while it shows a note in place of its panel)."""
        draw = self._renders.get(self.pages.current())
        if self.info is not None and draw is not None:
            draw()

    def _render_embedding(self) -> None:
        bar = self.timelapse_bar
        self.deeper.show_embedding(None if bar.live or not len(self.timelapse)
                                   else self.timelapse[bar.index].progress)

    def _render_explainer(self) -> None:
        if len(self.timelapse):
            moment = self.timelapse[self.timelapse_bar.index]
            self.explainer_panel.set_layers(moment.filters, self.info.dataset.in_channels == 3)
            self._request_explanation()

    def _moment_caption(self, index: int) -> str:
        m = self.timelapse[index]
        return "initial weights" if m.progress == 0 else f"epoch {m.progress:.2f}"

    def _render_filters(self) -> None:
        if not len(self.timelapse):
            return
        bar, rgb = self.timelapse_bar, self.info.dataset.in_channels == 3
        compare = bar.compare_index
        self.filters_panel.set_filters(
            self.timelapse[bar.index].filters, rgb_input=rgb,
            caption=self._moment_caption(bar.index),
            compare=self.timelapse[compare].filters if compare >= 0 else None,
            compare_caption=self._moment_caption(compare) if compare >= 0 else "")
        if self.filters_panel.showing_preferred:
            self.preferred.show(bar.index, bar.live)

    def _render_feature_maps(self) -> None:
        index = self.feature_maps_panel.current_index
        if index == PROBE and len(self.timelapse):
            moment = self.timelapse[self.timelapse_bar.index]
            self.feature_maps_panel.set_maps(
                self._display(PROBE), {k: v.astype(np.float32) for k, v in moment.maps.items()},
                moment.probabilities, self.info.dataset.class_names,
                caption=f"test image #{PROBE}, {self._moment_caption(self.timelapse_bar.index)}")
        else:
            self._maps_channel.ask(self._network_input(index))

    # -- images and requests -------------------------------------------------------------

    def _display(self, index: int) -> np.ndarray:
        """Test image ``index`` as (C, H, W) in 0..1."""
        return self.info.test_images[index].transpose(2, 0, 1).astype(np.float32) / 255.0

    def _normalise(self, image: np.ndarray) -> np.ndarray:
        mean = np.asarray(self.info.dataset.mean, np.float32).reshape(-1, 1, 1)
        std = np.asarray(self.info.dataset.std, np.float32).reshape(-1, 1, 1)
        return (image - mean) / std

    def _network_input(self, index: int) -> np.ndarray:
        return self._normalise(self._display(index))

    def _on_image_chosen(self, index: int) -> None:
        self._inspected = ("test", index)
        if self.pages.current() == "Feature maps":
            self._render_feature_maps()

    def inspect_test_image(self, index: int) -> None:
        """Show test image ``index`` in the feature maps (and the saliency view)."""
        self._inspected = ("test", index)
        self.feature_maps_panel.show_index(index)
        self.tabs.setCurrentWidget(self.feature_maps_panel)

    def _on_error_image(self, index: int) -> None:
        self._inspected = ("test", index)
        self._errors_image = index
        self._request_errors_detail()

    def _request_errors_detail(self) -> None:
        if self._errors_image is not None and self.info is not None:
            self._errors_channel.ask(self._network_input(self._errors_image),
                                     self.errors_saliency.target)

    def _on_drawing(self, field: np.ndarray) -> None:
        if self.info is None or self.info.dataset.in_channels != 1:
            return
        field = fit_field(field, self.info.dataset.input_size)
        self._inspected = ("drawing", field)
        self._draw_channel.ask(self._normalise(field[None]))

    def _inspected_image(self) -> tuple[np.ndarray, str]:
        """The image saliency and the explainer look at, (C, H, W) in 0..1, and its name."""
        kind, what = self._inspected
        if kind == "drawing":
            return what[None], "your drawing"
        names = self.info.dataset.class_names
        return self._display(what), f"test image #{what} (a {names[self.info.test_labels[what]]})"

    def _request_saliency(self) -> None:
        if self._inspected is None or self.info is None:
            return
        image, _ = self._inspected_image()
        self._saliency_channel.ask(self._normalise(image), self.saliency_panel.target)

    def _request_explanation(self) -> None:
        """The explainer's pixel, for the image inspected, with the weights of the moment
        the time-lapse shows (the newest: the latest weights, at full precision)."""
        query = self.explainer_panel.query()
        if query is None or self._inspected is None or self.info is None:
            return
        index = self.timelapse_bar.index
        weights = (None if index >= len(self.timelapse) - 1
                   else self.timelapse[index].features_state())
        image, _ = self._inspected_image()
        self._explain_channel.ask_pixel(self._normalise(image), query, weights)

    def _on_maps(self, answer: ImageAnswer) -> None:
        if self.info is None or answer.error:
            return
        index = self.feature_maps_panel.current_index
        self.feature_maps_panel.set_maps(self._display(index), answer.maps,
                                         answer.saliency.probabilities,
                                         self.info.dataset.class_names,
                                         caption=f"test image #{index}, latest weights")

    def _on_drawing_answer(self, answer: ImageAnswer) -> None:
        if self.info is None or answer.error:
            return
        self.drawing_panel.show_result(answer.maps, answer.saliency.probabilities,
                                       self.info.dataset.class_names)

    def _on_errors_answer(self, answer: ImageAnswer) -> None:
        if self.info is None or answer.error or self._errors_image is None:
            return
        names, index = self.info.dataset.class_names, self._errors_image
        caption = f"test image #{index} (a {names[self.info.test_labels[index]]})"
        self.errors_saliency.set_result(self._display(index), answer.saliency, names, caption)
        self.errors_maps.set_maps(self._display(index), answer.maps,
                                  answer.saliency.probabilities, names, caption)

    def _on_saliency(self, answer: ImageAnswer) -> None:
        if self.info is None or answer.error or self._inspected is None:
            return
        image, caption = self._inspected_image()
        self.saliency_panel.set_result(image, answer.saliency, self.info.dataset.class_names,
                                       caption)

    def _show_explanation(self, answer: PixelAnswer) -> None:
        if self.info is None:
            return
        if answer.error:
            self.explainer_panel.show_error(answer.error)
        elif self._inspected is not None:
            image, caption = self._inspected_image()
            index = self.timelapse_bar.index
            weights = ("latest weights" if index >= len(self.timelapse) - 1 else
                       f"weights at {self._moment_caption(index)} (time-lapse)")
            self.explainer_panel.show_pixel(image, answer.pixel, f"{caption}, {weights}")

    # -- pictures of a person's own ------------------------------------------------------

    def predict_pictures(self, paths: Sequence[str | Path]) -> None:
        """Show what the current model makes of picture files, in the Predictions tab."""
        self.tabs.setCurrentWidget(self.predictions_panel)
        self.predictions_panel.predict(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt naming
        if dropped_pictures(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt naming
        paths = dropped_pictures(event)
        if paths:
            event.acceptProposedAction()
            self.predict_pictures(paths)

    # -- export --------------------------------------------------------------------------

    def export_timelapse(self, path: str | Path) -> list[Path]:
        """The chosen layer's filters at every stored moment, as a GIF or PNG series."""
        if len(self.timelapse) and not self.timelapse[-1].filters:
            raise ValueError("this network has no conv layer, so it has no filters to export")
        layer = self.filters_panel.current_layer()
        if layer is None or not len(self.timelapse):
            raise ValueError("there is no time-lapse yet: train first")
        frames = [self.filters_panel.layer_grid(moment.filters, layer, 1.6).rgba
                  for moment in self.timelapse]
        return export_frames(frames, path)

    def shutdown(self) -> None:
        self.preferred.shutdown()
        self.deeper.shutdown()
