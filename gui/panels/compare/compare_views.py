"""Compare mode's views: while it lasts, the Filters, Feature maps, Errors, Embedding,
Saliency and Layer health tabs show run A and run B side by side in place of the single
run's panels, which come back untouched when it ends.

The views of both runs are built the first time compare mode starts and follow the two
:class:`InsideState` objects from then on (drawing only while shown), so a second compare
costs nothing to set up."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from ...session.analysis import AnalysisService
from ...session.compare_mode import CompareMode, Projected
from ...session.inside_state import Inspected, InsideState, moment_caption
from ...session.run_session import RunSession
from ...widgets.when_shown import WhenShown
from ..deeper import EmbeddingCompareView, ErrorsCompareView
from ..inside import FeatureMapsPanel, FiltersPanel, LayerHealthPanel, SaliencyPanel, TabPages
from .compare_bar import CompareBar
from .side_by_side import SideBySide

DIFFERENT_IMAGES = ("The two runs were tested on different images, so they cannot be "
                    "compared image by image.")


class CompareViews(QObject):
    def __init__(self, pages: TabPages, state: InsideState, session: RunSession,
                 analysis: AnalysisService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mode = CompareMode(state, self)
        self.pages, self._session, self._analysis = pages, session, analysis
        self.bar = CompareBar()
        self.bar.leaveRequested.connect(self.mode.leave)
        self.views: dict[str, QWidget] = {}
        self.mode.changed.connect(self._on_changed)
        self.mode.partnerChanged.connect(self._update_bar)
        state.momentChosen.connect(lambda _choice: self._update_bar())

    @property
    def active(self) -> bool:
        return self.mode.active

    def enter(self, run_a: Path, run_b: Path, data_dir: Path, runs_dir: Path) -> None:
        self.mode.enter(run_a, run_b, data_dir, runs_dir)

    def leave(self) -> None:
        self.mode.leave()

    # -- building, once ------------------------------------------------------------------

    def _build(self) -> None:
        a, b, partner = self.mode.a, self.mode.b, self.mode.partner
        inference = self._analysis.inference
        filters = FiltersPanel()
        filters.follow(a, partner=self.mode)
        maps_a, maps_b = FeatureMapsPanel(), FeatureMapsPanel()
        maps_a.follow(a, inference.channel(maps_a))
        maps_b.follow(b, partner.inference.channel(maps_b))
        saliency_a, saliency_b = SaliencyPanel(), SaliencyPanel()
        saliency_a.follow(a, inference.channel(saliency_a))
        saliency_b.follow(b, partner.inference.channel(saliency_b))
        health_a, health_b = LayerHealthPanel(), LayerHealthPanel()
        health_a.follow(self._session, self._analysis.jobs(health_a))
        health_b.follow(partner, self._analysis.jobs(health_b))
        self.errors, self.embedding = ErrorsCompareView(), EmbeddingCompareView()
        self.maps, self.saliency = (SideBySide(maps_a, maps_b, "compareFeatureMaps"),
                                    SideBySide(saliency_a, saliency_b, "compareSaliency"))
        health = SideBySide(health_a, health_b, "compareLayerHealth")
        self.maps.mirror_choices("featureMapsViewLayerCombo")
        self.saliency.mirror_choices("saliencyViewTarget", "saliencyViewCamLayer")
        health.mirror_choices("layerHealthMetric", "layerHealthLayers")
        self.views = {"Filters": filters, "Feature maps": self.maps, "Errors": self.errors,
                      "Embedding": self.embedding, "Saliency": self.saliency,
                      "Layer health": health}
        errors_due = WhenShown(self.errors, self._show_errors)
        embedding_due = WhenShown(self.embedding, self._show_embedding)
        for signal in (a.detailsChanged, b.detailsChanged, a.runStarted, b.runStarted):
            signal.connect(lambda *_: (errors_due.due(), embedding_due.due()))
        a.inspectedChanged.connect(lambda _inspected: self._browse_b())
        b.runStarted.connect(lambda _info: self._browse_b())
        self.errors.imageSelected.connect(self.inspect)
        self.embedding.imageChosen.connect(self.inspect)

    # -- entering and leaving ------------------------------------------------------------

    def _on_changed(self, active: bool) -> None:
        if active and not self.views:
            self._build()
        for title, view in self.views.items():
            self.pages.set_alternate(title, view if active else None)
        self.bar.setVisible(active)
        self._update_bar()

    def _update_bar(self) -> None:
        mode = self.mode
        if not mode.active:
            return
        names = mode.names
        for view in (self.maps, self.saliency, self.views["Layer health"]):
            view.set_names(*names)
        moments = tuple("" if s.moment is None else moment_caption(s.moment)
                        for s in (mode.a, mode.b))
        self.bar.say(names, moments, mode.structure_note(), mode.partner.loading)

    def _browse_b(self) -> None:
        """B's feature maps browse to the image A's show."""
        inspected = self.mode.a.inspected
        if self.mode.same_images and inspected is not None and not inspected.is_drawing:
            self.maps.b.show_index(inspected.index)

    # -- the views fed from both runs' details -------------------------------------------

    def _show_errors(self) -> None:
        a, b = self.mode.a, self.mode.b
        if a.details is None or b.details is None:
            self.errors.clear("The errors appear once both runs have been evaluated…")
        elif not self.mode.same_images:
            self.errors.clear(DIFFERENT_IMAGES)
        else:
            self.errors.show_runs(*self.mode.names, a.info.dataset.class_names,
                                  a.info.test_labels, a.details.predictions,
                                  b.details.predictions, a.info.test_images)

    def _show_embedding(self) -> None:
        a, b = self.mode.a, self.mode.b
        if a.details is None or b.details is None:
            self.embedding.clear("The embedding appears once both runs have been evaluated…")
            return
        if not self.mode.same_images:
            self.embedding.clear(DIFFERENT_IMAGES)
            return
        if a.details.hidden is None or b.details.hidden is None:
            self.embedding.clear("One of the runs has no hidden layer to embed.")
            return
        self.embedding.set_busy("Projecting both runs' test images (PCA)…")
        self.mode.project(self._on_projected,
                          lambda reason: self.embedding.clear(f"Could not project: {reason}"))

    def _on_projected(self, projected: Projected) -> None:
        info = self.mode.a.info
        self.embedding.show_projections(
            *self.mode.names, projected.xy_a, projected.xy_b, projected.indices,
            info.test_labels[projected.indices], info.dataset.class_names,
            images=info.test_images)

    def inspect(self, index: int) -> None:
        """Look at test image ``index`` in both runs' saliency."""
        self.mode.a.inspect(Inspected(index))
        if self.mode.active:
            self.pages.tabs.setCurrentWidget(self.saliency)

    def shutdown(self) -> None:
        self.mode.shutdown()
