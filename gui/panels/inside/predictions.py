"""The Predictions tab: what the current model makes of picture files a person picks
(File > Predict image…) or drops on the views -- the picture as the network sees it, the
probabilities, Grad-CAM for the predicted class and the first layers' feature maps.

Answers come from the analysis service's :class:`PicturePredictor`, off the GUI thread. When the weights change
(training goes on, a new run starts, a checkpoint is opened) the picture shown is asked
again while the tab is visible; the others are marked as answers of earlier weights and
asked again when picked, so a long list never costs the training its time.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout,
                               QWidget)

from cnn_core.data.folders import IMAGE_SUFFIXES

from ...session.picture_predictor import Answers, PictureAnswer, PicturePredictor
from ...session.run_session import RunSession
from ...training.messages import RunInfo, Snapshot
from ...widgets.panel_parts import set_text, white_box
from ...widgets.probability_bars import ProbabilityBars
from .feature_maps import FeatureMapsPanel
from .saliency import overlay

HINT = ("Pick pictures with File > Predict image… (Ctrl+I), or drop them here: the model "
        "says what it sees in each.")
NO_MODEL = "Train a model or open a checkpoint first: then it can be asked about pictures."
ERROR_STYLE = "color: #b71c1c;"
LIST_WIDTH = 160
IMAGES_WIDTH = 130  # the picture over its Grad-CAM
MIDDLE_WIDTH = 350
STALE = QColor("#9e9e9e")
PATH = Qt.ItemDataRole.UserRole


def dropped_pictures(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    """The local picture files being dragged (folders and other files are not ours)."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES and not p.is_dir()]


class PredictionsPanel(QWidget):
    """``predictionsPanel``: the predicted files on the left (``predictionsList``), the one
    picked in the middle (``predictionProbabilities``) and its feature maps on the right."""

    def __init__(self, session: RunSession, predictor: PicturePredictor,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictionsPanel")
        self.predictor = predictor
        self.message = QLabel(HINT, objectName="predictionsMessage", wordWrap=True)
        self.files = QListWidget(objectName="predictionsList")
        self.files.setFixedWidth(LIST_WIDTH)
        self.files.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.files.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long names keep their end
        self.caption = QLabel("no picture yet", objectName="predictionCaption", wordWrap=True)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("predictionImages")
        self.view.setBackground("w")
        self.view.setFixedWidth(IMAGES_WIDTH)
        items = []
        for row, title in enumerate(("as it is seen", "Grad-CAM")):  # one over the other
            items.append(self.view.addLabel(title, row=2 * row, col=0, color="#333"))
            box = self.view.addViewBox(row=2 * row + 1, col=0, lockAspect=True, invertY=True)
            image = pg.ImageItem(axisOrder="row-major")
            box.addItem(image)
            items.append(image)
            self.view.ci.layout.setRowStretchFactor(2 * row + 1, 1)  # two images of one size
        _, self.input_image, self.cam_title, self.cam_image = items
        self.bars = ProbabilityBars(object_name="predictionProbabilities",
                                    placeholder="prediction: pick a picture")
        self.maps = FeatureMapsPanel(view_name="predictionFeatureMaps", browser=False,
                                     probabilities=False, show_input=False)
        middle = white_box()
        middle.setFixedWidth(MIDDLE_WIDTH)
        answer = QVBoxLayout()
        answer.addWidget(self.caption)
        answer.addWidget(self.bars, 1)
        row = QHBoxLayout(middle)
        row.setContentsMargins(0, 0, 4, 0)
        row.addWidget(self.view)
        row.addLayout(answer, 1)
        body = QHBoxLayout()
        body.addWidget(self.files)
        body.addWidget(middle)
        body.addWidget(self.maps, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.message)
        layout.addLayout(body, 1)

        self.answers: dict[Path, PictureAnswer] = {}
        self._asked: set[Path] = set()  # picked by a person, not answered yet
        self.files.currentRowChanged.connect(lambda _row: self._on_picked())
        self.predictor.answered.connect(self._on_answered)
        session.runStarted.connect(self._on_run_started)
        session.snapshotTaken.connect(self._on_snapshot)

    # -- asking --------------------------------------------------------------------------

    def predict(self, paths: Sequence[str | Path]) -> bool:
        """Ask the current model about ``paths``; False (and says why) without a model."""
        if not self.predictor.ready:
            self._say(NO_MODEL, error=True)
            return False
        paths = [Path(p) for p in paths]
        self._asked.update(paths)
        self._say(f"Asking the model about {len(paths)} picture(s)…")
        self.predictor.predict(paths)
        return True

    def _ask_again_if_stale(self) -> None:
        path = self._current()
        if path is not None and self.answers[path].version != self.predictor.version:
            self.predictor.predict([path])

    def _on_run_started(self, _info: RunInfo) -> None:
        self._mark_stale()

    def _on_snapshot(self, _snap: Snapshot) -> None:
        self._mark_stale()
        if self.isVisible():
            self._ask_again_if_stale()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        self._ask_again_if_stale()

    # -- answers -------------------------------------------------------------------------

    def _on_answered(self, answers: Answers) -> None:
        fresh = [a for a in answers.pictures if a.path in self._asked]
        self._asked -= {a.path for a in answers.pictures}
        for answer in answers.pictures:
            self.answers[answer.path] = answer
            self._label(self._item(answer.path), answer)
        if answers.errors:
            count = len(answers.errors)
            self._say(f"Could not read {count} file{'s' if count > 1 else ''}"
                      f"{' (the others are shown)' if answers.pictures else ''}: "
                      + "; ".join(answers.errors), error=True)
        elif fresh:
            self._say(HINT)
        newest = self._item(fresh[-1].path) if fresh else None  # that a person asked about
        if newest is not None and newest is not self.files.currentItem():
            self.files.setCurrentItem(newest)  # shown by _on_picked
        elif self._current() in {a.path for a in answers.pictures}:
            self._on_picked()

    def _on_picked(self) -> None:
        path = self._current()
        if path is None:
            return
        self._show(self.answers[path])
        if self.isVisible():
            self._ask_again_if_stale()

    def _show(self, a: PictureAnswer) -> None:
        shown = a.image[0] if a.image.shape[0] == 1 else a.image.transpose(1, 2, 0)
        self.input_image.setImage((shown * 255).astype(np.uint8), autoLevels=False,
                                  levels=(0, 255))
        if a.grad_cam is None:
            self.cam_image.clear()
        else:
            self.cam_image.setImage(overlay(a.image, a.grad_cam), autoLevels=False,
                                    levels=(0, 255))
        set_text(self.cam_title, "Grad-CAM" if a.grad_cam is not None else "no Grad-CAM:<br>"
                 "no conv layer")
        self.bars.set_probabilities(a.probabilities, a.class_names)
        self.maps.set_maps(a.image, a.maps, caption=a.path.name)
        channels, size = a.image.shape[0], a.image.shape[-1]
        weights = ("latest weights" if a.version == self.predictor.version
                   else "earlier weights (asking again…)")
        self.caption.setText(f"<b>{escape(a.path.name)}</b><br>seen as {size}x{size} "
                             f"{'grey' if channels == 1 else 'colour'}, {weights}")

    # -- the list ------------------------------------------------------------------------

    def _current(self) -> Path | None:
        item = self.files.currentItem()
        return None if item is None else item.data(PATH)

    def _item(self, path: Path) -> QListWidgetItem:
        for row in range(self.files.count()):
            if self.files.item(row).data(PATH) == path:
                return self.files.item(row)
        item = QListWidgetItem(path.name)
        item.setData(PATH, path)
        item.setToolTip(str(path))
        self.files.addItem(item)
        return item

    def _label(self, item: QListWidgetItem, a: PictureAnswer) -> None:
        stale = a.version != self.predictor.version
        item.setText(f"{a.path.name}\n→ {a.class_names[a.best]} {a.probabilities[a.best]:.0%}"
                     + (" (earlier)" if stale else ""))
        item.setForeground(STALE if stale else self.files.palette().text().color())

    def _mark_stale(self) -> None:
        for row in range(self.files.count()):
            item = self.files.item(row)
            self._label(item, self.answers[item.data(PATH)])

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
