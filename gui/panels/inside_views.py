"""The views inside the network (filters, feature maps, drawing, predictions, errors, the
embedding, ablation, saliency, layer health, the convolution explainer) and the time-lapse.

``InsideViews`` is their container: the tabs (:class:`TabPages`: built when first shown, a
note in place of those that need pictures a run lacks) and the time-lapse bar, whose choice
it hands to the run's :class:`InsideState`. Filters, Feature maps, Draw, Saliency and
Convolution follow that state themselves, each asking the inference lane on a channel of its
own, and so does the Errors tab's detail (:class:`ErrorDetail`); :class:`DeeperViews`
follows it for Embedding and Ablation, on the analysis lanes; Predictions, Errors and Layer
health follow the session. Every one of them draws when shown. In compare mode
(:class:`CompareViews`) six of the tabs show two runs side by side instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from cnn_core.data.datasets import DatasetInfo
from cnn_core.export.render import first_reads_colour

from ..widgets.png_export import export_frames
from ..session.analysis import AnalysisService
from ..session.inside_state import Inspected, InsideState, MomentChoice
from ..session.run_session import RunSession
from ..session.timelapse import TimeLapse
from ..training.messages import EpochDetails, RunInfo, Snapshot
from .compare import CompareViews
from .deeper import DeeperViews, ErrorDetail, ErrorsPanel
from .inside import (ConvExplainerPanel, DrawingPanel, FeatureMapsPanel, FiltersPanel,
                     LayerHealthPanel, PredictionsPanel, PreferredFeed, SaliencyPanel,
                     TabPages, TimeLapseBar, dropped_pictures)


class InsideViews(QWidget):
    def __init__(self, session: RunSession, analysis: AnalysisService,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filters_panel = FiltersPanel()
        self.errors_panel = ErrorsPanel()
        self.health_panel = LayerHealthPanel()
        self.predictions_panel = PredictionsPanel(session, analysis.pictures)
        self.state = InsideState(session, self)  # after the analysis service: see its note
        self.filters_panel.follow(self.state)
        self.preferred = PreferredFeed(self.filters_panel, self.state, analysis.jobs(), self)
        self.deeper = DeeperViews(analysis.jobs(), self.state, self)
        self.inference = analysis.inference
        self.error_detail = ErrorDetail()  # the clicked image's saliency and feature maps
        self.error_detail.follow(self.errors_panel, self.state,
                                 self.inference.channel(self.error_detail))
        QVBoxLayout(self.errors_panel.detail).addWidget(self.error_detail)
        self.errors_saliency, self.errors_maps = self.error_detail.saliency, self.error_detail.maps
        self.tabs = QTabWidget(objectName="panelTabs")
        # the panels that follow the session themselves are built now; the others the first
        # time they are shown, and then follow the InsideState (Embedding and Ablation
        # through DeeperViews)
        self.pages = pages = TabPages(self.tabs)
        pages.add("Filters", lambda: self.filters_panel, eager=True)
        pages.add("Feature maps", lambda: self._following(FeatureMapsPanel()),
                  needs_pictures=True)
        pages.add("Draw", lambda: self._following(DrawingPanel()))
        pages.add("Predictions", lambda: self.predictions_panel, eager=True)
        pages.add("Errors", lambda: self.errors_panel, needs_pictures=True, eager=True)
        pages.add("Embedding", lambda: self.deeper.embedding, needs_pictures=True,
                  tip="Where the test images land: their activations in 2-D")
        pages.add("Ablation", lambda: self.deeper.ablation, needs_pictures=True,
                  tip="Switch filters off and see what the network loses")
        pages.add("Saliency", lambda: self._following(SaliencyPanel()), needs_pictures=True)
        pages.add("Layer health", lambda: self.health_panel, needs_pictures=True, eager=True)
        pages.add("Convolution", lambda: self._following(ConvExplainerPanel()))
        self.timelapse_bar = TimeLapseBar()
        self.compare = CompareViews(pages, self.state, session, analysis, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.compare.bar)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.timelapse_bar)
        self.setAcceptDrops(True)  # picture files; the window takes checkpoints and folders

        self.timelapse_bar.momentChanged.connect(lambda _i, _j: self._choose_moment())
        self.compare.mode.changed.connect(lambda active: self.timelapse_bar.allow_compare(
            not active))
        self.deeper.imageChosen.connect(self.inspect_test_image)
        self.errors_panel.follow(session)  # they draw themselves when shown
        self.health_panel.follow(session, analysis.jobs(self))
        self.state.runStarted.connect(self._on_run_started)
        self.state.momentAdded.connect(self._on_snapshot)

    def _following(self, panel: QWidget) -> QWidget:
        """A panel built when its tab is first shown, following the run from then on."""
        panel.follow(self.state, self.inference.channel(panel))
        return panel

    # -- data in -------------------------------------------------------------------------

    def _on_run_started(self, info: RunInfo) -> None:
        self.timelapse_bar.set_moments([])
        self.pages.set_missing(info.missing_data or
                               ("" if info.has_pictures else "no test images"))

    def _on_snapshot(self, snap: Snapshot) -> None:
        self.timelapse_bar.set_moments([f"epoch {m.progress:.2f}" for m in self.timelapse])
        self._choose_moment()

    def _choose_moment(self) -> None:
        bar = self.timelapse_bar
        self.state.choose_moment(MomentChoice(bar.index, bar.compare_index, bar.live))

    def preview(self, filters: dict[str, np.ndarray], info: DatasetInfo) -> None:
        """Untrained filters of the chosen architecture, while no run has started."""
        if self.info is None:
            self.filters_panel.set_filters(filters, rgb_input=info.in_channels == 3
                                           or first_reads_colour(filters),
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

    # -- an image to inspect, from the embedding ------------------------------------------

    def inspect_test_image(self, index: int) -> None:
        """Show test image ``index`` in the feature maps (and the saliency view)."""
        self.state.inspect(Inspected(index))
        self.feature_maps_panel.show_index(index)
        self.tabs.setCurrentWidget(self.feature_maps_panel)

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
        self.compare.shutdown()
