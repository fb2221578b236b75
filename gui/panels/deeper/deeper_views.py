"""The views that look deeper than one image: where the test images land, and what the
network loses when filters are switched off.

They follow the run from the snapshots, on the analysis lanes (never the training thread),
each on a CPU copy of the weights:
- the embedding is computed at the start and at every epoch's end, so that the time-lapse
  can animate it: of the last hidden layer, from the activations the epoch's evaluation
  kept (no forward pass of its own); of another layer, by a forward pass; t-SNE on request;
- the filters switched off are tried again with a newer epoch while their tab is shown.
Following the run, the latter takes at most ``LIVE_SHARE`` of the time (each costs a
second or so of a core training would otherwise use); a person's own choices never wait.
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from cnn_core.data.bundle import normalize
from cnn_core.export.render import first_reads_colour
from cnn_core.inspect.ablation import ablate, filter_importance
from cnn_core.inspect.embedding import (align_signs, embedding_layers, embedding_sample,
                                        hidden_activations, project)
from cnn_core.nn.models import model_for_weights

from ...session.analysis_jobs import AnalysisClient, Job, Pace, Weights
from ...session.inside_state import InsideState
from ...threads.tasks import TaskState
from ...training.messages import EpochDetails, RunInfo, Snapshot
from ...widgets.when_shown import WhenShown
from .ablation import AblationPanel
from .embedding import EmbeddingPanel

LIVE_SHARE = 0.03  # of the time, at most, that following the run takes each view


def _layer_title(layer: str | None) -> str:
    return "the last hidden layer" if layer is None else layer


class DeeperViews(QObject):
    """Follows the run's :class:`InsideState` for the embedding and ablation panels, which
    draw when shown; ``imageChosen(index)``: a test image picked in a view, to inspect."""

    imageChosen = Signal(int)

    def __init__(self, client: AnalysisClient, state: InsideState,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._embedding: EmbeddingPanel | None = None  # built when first asked for
        self._ablation: AblationPanel | None = None
        self._shown: list[WhenShown] = []  # each built panel's, to draw when shown
        self.client = client
        self.state = state
        self.info: RunInfo | None = None
        self.images = torch.zeros(0)  # the test set, normalised (N, C, H, W)
        self.labels = torch.zeros(0, dtype=torch.int64)
        self.embedded = np.zeros(0, np.int64)  # the test images the embedding shows
        self.epoch_end: Snapshot | None = None  # the latest snapshot at an epoch's end
        # per layer: (epochs, 2-D coordinates), oldest first
        self.history: dict[str | None, list[tuple[float, np.ndarray]]] = {}
        self.tsne: tuple[float, str | None, np.ndarray] | None = None
        # the evaluation's predictions of the embedded images, by epoch: mistakes are marked
        self.predictions: dict[float, np.ndarray] = {}
        self.hidden: tuple[float, np.ndarray] | None = None  # the latest evaluation's
        self._drawn: tuple | None = None  # what the embedding panel shows
        self._ablated_at = -1.0  # the epochs of the weights the ablation result is for
        self.evaluated: tuple[float, np.ndarray] | None = None  # the latest predictions
        self._paces = {"ablate": Pace(LIVE_SHARE, self)}
        for pace in self._paces.values():
            pace.due.connect(self._due)

        self.client.finished.connect(self._on_finished)
        self.client.failed.connect(self._on_failed)
        self.client.progressed.connect(self._on_progress)
        state.runStarted.connect(self.start)
        state.momentAdded.connect(self.add_snapshot)
        state.detailsChanged.connect(self.add_details)
        state.momentChosen.connect(lambda _choice: self._due())

    # -- the panels, built the first time they are asked for (their tab first shown) ----

    @property
    def embedding(self) -> EmbeddingPanel:
        if self._embedding is None:
            panel = self._embedding = EmbeddingPanel()
            panel.imageChosen.connect(self.imageChosen)
            panel.layerChanged.connect(lambda _layer: self._on_layer_changed())
            panel.methodChanged.connect(lambda _method: self.show_embedding())
            panel.tsneRequested.connect(self._request_tsne)
            panel.cancelRequested.connect(self._cancel_tsne)
            if self.info is not None:
                self._start_embedding(self.info)
            self._shown.append(WhenShown(panel, self._follow_embedding))
            self._shown[-1].due()  # what the run has made so far, once shown
        return self._embedding

    @property
    def ablation(self) -> AblationPanel:
        if self._ablation is None:
            panel = self._ablation = AblationPanel()
            panel.selectionChanged.connect(lambda _layer, _channels: self._request_ablation())
            panel.importanceRequested.connect(self._request_importance)
            panel.cancelRequested.connect(lambda: self._cancel("importance"))
            self._shown.append(WhenShown(panel, self.show_ablation))
            self._shown[-1].due()
            if self.epoch_end is not None:
                panel.set_filters(self.epoch_end.filters,
                                  first_reads_colour(self.epoch_end.filters))
            elif self.info is not None:
                panel.clear("Switch filters off once the model is ready.")
        return self._ablation

    @property
    def _layer(self) -> str | None:
        """The layer embedded: the panel's choice, the last hidden layer until it is built."""
        return None if self._embedding is None else self._embedding.layer

    def _start_embedding(self, info: RunInfo) -> None:
        self.embedding.set_test_set(info.test_images, info.test_labels, info.dataset.class_names)
        self.embedding.set_layers(embedding_layers(model_for_weights(info.model_meta)))
        self._clear_embedding("The embedding appears once the model is ready.")

    # -- the run -------------------------------------------------------------------------

    def start(self, info: RunInfo) -> None:
        self.client.cancel_all()
        self.info, self.epoch_end, self.tsne = info, None, None
        self.history.clear()
        self.predictions.clear()
        self.hidden = self._drawn = self.evaluated = None
        self._ablated_at = -1.0
        self.images = normalize(torch.from_numpy(info.test_images).permute(0, 3, 1, 2),
                                info.dataset)
        self.labels = torch.from_numpy(info.test_labels).long()
        self.embedded = embedding_sample(len(info.test_labels))
        if self._embedding is not None:
            self._start_embedding(info)
        if self._ablation is not None:
            self._ablation.clear("Switch filters off once the model is ready.")

    def add_snapshot(self, snap: Snapshot) -> None:
        """At an epoch's end (or the run's start), keep the weights and embed the test set
        (when the run has its pictures: else there is nothing to embed or switch off)."""
        if (not float(snap.progress).is_integer() or self.info is None
                or not self.info.has_pictures):
            return
        if self.epoch_end is None and self._ablation is not None:
            self._ablation.set_filters(snap.filters, first_reads_colour(snap.filters))
        self.epoch_end = snap
        self._embed(snap, self._layer)

    def add_details(self, details: EpochDetails) -> None:
        """The epoch's predictions, to mark the embedding's mistakes, and its last hidden
        layer, to embed when the epoch's snapshot comes."""
        self.evaluated = (float(details.epoch), details.predictions)
        self.predictions[float(details.epoch)] = details.predictions[self.embedded]
        if details.hidden is not None:
            self.hidden = (float(details.epoch), details.hidden)
        self._due()

    def _due(self) -> None:
        """The views may have something new to show: now if shown, else when they are."""
        for shown in self._shown:
            shown.due()

    def _follow_embedding(self) -> None:
        """The embedding at the time-lapse moment chosen (the latest while it is live)."""
        moment = self.state.moment
        self.show_embedding(None if self.state.choice.live or moment is None
                            else moment.progress)

    def _weights(self, snap: Snapshot, overlay: dict[str, np.ndarray] | None = None) -> Weights:
        return Weights(self.info.model_meta, snap.state, overlay)

    def _on_finished(self, key: str, result: object) -> None:
        if result is None:  # cancelled
            return
        kind, _, at = key.partition("@")
        if kind in self._paces:
            self._paces[kind].end()
        if kind == "embed":
            self._add_embedding(float(at), result)
        elif kind == "tsne":
            self.tsne = result
            self.embedding.set_busy(False)
            self.show_embedding()
        elif kind == "ablate":
            self.ablation.show_result(result, self.info.dataset.class_names)
        elif kind == "importance":
            self.ablation.show_importance(*result)

    def _on_failed(self, key: str, message: str) -> None:
        kind = key.partition("@")[0]
        if kind == "tsne":
            self.embedding.set_busy(False)
        elif kind == "importance":
            self.ablation.set_busy(False)
        elif kind == "ablate":
            self.ablation.clear(f"Could not switch the filters off: {message}")
        if kind in ("embed", "tsne"):
            self._clear_embedding(f"Could not compute the embedding: {message}")

    def _on_progress(self, key: str, done: float, total: float) -> None:
        if key == "importance":
            self.ablation.set_progress(int(done), int(total))

    def _cancel(self, key: str) -> None:
        self.client.cancel(key)
        if key == "importance":
            self.ablation.set_busy(False)

    # -- where the images land -----------------------------------------------------------

    def _projection(self, snap: Snapshot, layer: str | None,
                    method: str) -> tuple[Weights | None, Job]:
        """The work of embedding ``layer`` at ``snap``: the last hidden layer from the
        epoch's evaluation when it kept it, else from a forward pass of its own."""
        if layer is None and self.hidden is not None and self.hidden[0] == snap.progress:
            hidden = self.hidden[1]
            return None, lambda _model, _state: project(hidden, method)
        images = self.images[torch.from_numpy(self.embedded)]
        return self._weights(snap), lambda model, state: project(
            hidden_activations(model, images, layer, cancel=lambda: state.cancelled), method)

    def _embed(self, snap: Snapshot, layer: str | None) -> None:
        self.client.submit(f"embed@{snap.progress}", *self._projection(snap, layer, "pca"))

    def _add_embedding(self, progress: float, coords: np.ndarray) -> None:
        series = self.history.setdefault(self._layer, [])
        if series:
            coords = align_signs(coords, series[-1][1])  # no flip from one epoch to the next
        series.append((progress, coords))
        self.show_embedding()

    def _on_layer_changed(self) -> None:
        self.client.cancel_all("embed@")
        if self.epoch_end is not None:
            self.history.pop(self._layer, None)
            self._embed(self.epoch_end, self._layer)

    def show_embedding(self, moment: float | None = None) -> None:
        """The embedding at ``moment`` (epochs; None: the latest) or, for t-SNE, the one
        computed last. Not built yet: drawn when it is."""
        if self._embedding is None:
            return
        layer = self._embedding.layer
        if self.embedding.method == "tsne":
            if self.tsne is None or self.tsne[1] != layer:
                self._clear_embedding("Press Compute t-SNE: it takes a few seconds, and shows "
                                     "the latest epoch's weights.")
                return
            progress, _, coords = self.tsne
            self._draw_embedding(progress, coords, f"t-SNE of {_layer_title(layer)}")
            return
        series = self.history.get(layer, [])
        shown = [entry for entry in series if moment is None or entry[0] <= moment + 1e-9]
        if not shown:
            self._clear_embedding("The embedding appears after the model is ready.")
            return
        progress, coords = shown[-1]
        self._draw_embedding(progress, coords, f"PCA of {_layer_title(layer)}")

    def _clear_embedding(self, text: str) -> None:
        self._drawn = None
        if self._embedding is not None:
            self._embedding.clear(text)

    def _draw_embedding(self, progress: float, coords: np.ndarray, what: str) -> None:
        predictions = self.predictions.get(progress)
        drawn = (what, progress, id(coords), predictions is not None)
        if drawn == self._drawn:
            return  # every snapshot re-renders the tab; thousands of points are not free
        self._drawn = drawn
        count = len(self.embedded)
        sample = "" if count == len(self.labels) else f" (a fixed sample of {len(self.labels):,})"
        marks = "" if predictions is not None else " Mistakes are marked from the first epoch."
        self.embedding.show_embedding(coords, self.embedded, predictions,
                                      f"{what}, epoch {progress:g}: {count:,} test images"
                                      f"{sample}.{marks}")

    def _request_tsne(self) -> None:
        snap = self.epoch_end
        if snap is None:
            return
        layer = self.embedding.layer
        weights, job = self._projection(snap, layer, "tsne")
        self.embedding.set_busy(True, f"t-SNE of {len(self.embedded):,} images…")
        self.client.submit("tsne", weights,
                           lambda model, state: (snap.progress, layer, job(model, state)),
                           slow=True)

    def _cancel_tsne(self) -> None:
        self.client.cancel("tsne")
        self.embedding.set_busy(False)

    # -- filters switched off ------------------------------------------------------------

    def show_ablation(self) -> None:
        """Catch the ablation up with the latest epoch (when its tab is shown)."""
        snap = self.epoch_end
        if snap is None or snap.progress == self._ablated_at or (
                self._ablated_at >= 0 and self._paces["ablate"].hold()):
            return
        self.ablation.set_filters(snap.filters, first_reads_colour(snap.filters))
        self._request_ablation()

    def _request_ablation(self) -> None:
        snap = self.epoch_end
        layer, channels = self.ablation.selection
        if snap is None or layer is None:
            return
        self._ablated_at = snap.progress
        images, labels = self.images, self.labels
        classes = len(self.info.dataset.class_names)
        known = self.evaluated  # the epoch's own predictions spare the intact forward pass
        before = known[1] if known is not None and known[0] == snap.progress else None
        self._paces["ablate"].begin()
        self.client.submit("ablate", self._weights(snap), lambda model, state: ablate(
            model, images, labels, layer, channels, num_classes=classes, before=before,
            cancel=lambda: state.cancelled))

    def _request_importance(self, layer: str) -> None:
        snap = self.epoch_end
        if snap is None:
            return
        images, labels = self.images, self.labels

        def job(model, state: TaskState) -> tuple[str, np.ndarray]:
            return layer, filter_importance(
                model, images, labels, layer,
                progress=lambda done, total: state.progress(done, total),
                cancel=lambda: state.cancelled)

        self.ablation.set_progress(0, len(snap.filters[layer]))
        self.client.submit("importance", self._weights(snap), job)

    def shutdown(self) -> None:
        for pace in self._paces.values():
            pace.stop()
