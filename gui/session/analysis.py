"""The one service the views ask for work that needs the network, off the GUI thread and
off the training thread: quick inference (feature maps, saliency, a pixel taken apart),
picture files a person asks about, and the slower analyses (preferred inputs, the
embedding, filters switched off).

It owns every lane such work runs on, follows the run (a new run's network, each
snapshot's CPU copy of the weights) and hands each view a client of its own. Views only
ask and react; after :meth:`shutdown` nothing is started and nothing answers.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from ..threads.tasks import Lane
from ..training.messages import RunInfo, Snapshot
from .analysis_jobs import AnalysisClient, JobLane, ModelCache
from .inference import InferenceClient
from .picture_predictor import PicturePredictor
from .run_session import RunSession

SLOW_TIMEOUT_MS = 120_000  # a t-SNE under way cannot stop; a thread must not outlive the window


class AnalysisService(QObject):
    """``inference`` and ``pictures`` are shared; :meth:`jobs` gives a view its own client
    on the analysis lanes."""

    def __init__(self, session: RunSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lanes = {name: Lane(name, self) for name in (
            "InferenceThread", "PicturePredictionThread", "AnalysisThread", "EmbeddingThread")}
        self._job_lanes = {False: JobLane(self._lanes["AnalysisThread"], ModelCache()),
                           True: JobLane(self._lanes["EmbeddingThread"], ModelCache())}
        self.inference = InferenceClient(self._lanes["InferenceThread"], self)
        self.pictures = PicturePredictor(self._lanes["PicturePredictionThread"], self)
        self._clients: list[AnalysisClient] = []
        self._info: RunInfo | None = None
        # connected before any view: the weights are in place when a view asks about them
        session.runStarted.connect(self._on_run_started)
        session.snapshotTaken.connect(self._on_snapshot)

    def jobs(self, parent: QObject | None = None) -> AnalysisClient:
        """A client of the analysis lanes for one view: its keys are its own."""
        client = AnalysisClient(self._job_lanes, parent)
        self._clients.append(client)
        return client

    def _on_run_started(self, info: RunInfo) -> None:
        self._info = info
        self.pictures.set_run(info.model_meta, info.dataset)

    def _on_snapshot(self, snap: Snapshot) -> None:
        if self._info is None:
            return
        self.inference.set_weights(self._info.model_meta, snap.state)
        self.pictures.set_weights(snap.state)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel everything, answer nothing more, and end every lane."""
        for client in self._clients:
            client.close()
        self.inference.close()
        self.pictures.close()
        for name, lane in self._lanes.items():
            lane.shutdown(SLOW_TIMEOUT_MS if name == "EmbeddingThread" else timeout_ms)
