"""The banners above the plots: an error until dismissed, what the next Start continues
from (with a way out), and a run shown without its pictures (with a way to find them)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QToolButton,
                               QWidget)

from cnn_core.train.launch import Continuation, RunKind

from ..session.run_session import RunSession
from ..training.messages import RunInfo

ERROR_STYLE = ("background: #ffebee; color: #b71c1c; padding: 8px; border: 1px solid #ef9a9a; "
               "border-radius: 4px;")
INFO_STYLE = ("background: #e3f2fd; color: #0d47a1; padding: 8px; border: 1px solid #90caf9; "
              "border-radius: 4px;")


class ErrorBanner(QWidget):
    """``errorBanner``: shows ``session.error`` until dismissed or a run starts."""

    def __init__(self, session: RunSession) -> None:
        super().__init__()
        self.label = QLabel(objectName="errorBanner", wordWrap=True)
        self.label.setStyleSheet(ERROR_STYLE)
        close = QToolButton(text="✕", toolTip="Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(close)
        self.hide()
        session.error.connect(self.show_message)
        session.continuationChanged.connect(lambda _c: self.hide())
        session.runStarted.connect(lambda _info: self.hide())

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()


class ContinuationBanner(QWidget):
    """``continuationBanner``: the checkpoint the next Start resumes or branches from."""

    def __init__(self, session: RunSession) -> None:
        super().__init__()
        self.label = QLabel(objectName="continuationBanner", wordWrap=True)
        self.label.setStyleSheet(INFO_STYLE)
        cancel = QPushButton("Cancel", objectName="continuationCancel")
        cancel.setToolTip("Start a fresh run instead")
        cancel.clicked.connect(session.cancel_continuation)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(cancel)
        self.hide()
        session.continuationChanged.connect(self._on_continuation_changed)

    def _on_continuation_changed(self, cont: Continuation | None) -> None:
        self.setVisible(cont is not None)
        if cont is None:
            return
        verb = "Resume" if cont.kind == RunKind.RESUME else "Branch from"
        self.label.setText(
            f"{verb} “{cont.name}” at epoch {cont.epoch} (learning rate {cont.config().lr:g} "
            "by then): edit the learning rate, optimizer, batch size, epochs or schedule if "
            "you like, then press Start (Ctrl+Return).")


class PicturesBanner(QWidget):
    """``picturesBanner``: a run opened without the pictures it was trained on says which
    views need them, and offers to read them from where the folder is now."""

    NEEDS_PICTURES = "Feature maps, Errors, Embedding, Ablation, Saliency and Layer health"

    def __init__(self, session: RunSession, locate: Callable[[str], None]) -> None:
        super().__init__()
        self._locate = locate
        self.label = QLabel(objectName="picturesBanner", wordWrap=True)
        self.label.setStyleSheet(INFO_STYLE)
        self.locate_button = QPushButton("Locate the folder…", objectName="locatePicturesButton")
        self.locate_button.setToolTip("Choose the folder the pictures are in now")
        self.locate_button.clicked.connect(self._on_locate)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.locate_button)
        self.hide()
        session.runStarted.connect(self._on_run_started)

    def _on_run_started(self, info: RunInfo) -> None:
        self.setVisible(bool(info.missing_data))
        if info.missing_data:
            self.label.setText(
                f"Shown without its pictures: {info.missing_data}. The curves, Filters, "
                f"Draw and the settings work; {self.NEEDS_PICTURES} need the pictures.")

    def _on_locate(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Where are the pictures now?")
        if folder:
            self._locate(folder)
