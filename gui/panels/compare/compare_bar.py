"""The line above the views in compare mode: which two runs, at which moments, which layers
have no counterpart, which views show run A alone, and the way out."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from .side_by_side import RUN_COLOURS

ALONE = "Draw, Predictions, Ablation and Convolution show run A alone."


class CompareBar(QWidget):
    """``leaveRequested`` when Leave compare is pressed."""

    leaveRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareBar")
        self.text = QLabel(objectName="compareBarText", wordWrap=True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.leave_button = QPushButton("Leave compare", objectName="compareLeaveButton")
        self.leave_button.setToolTip("Back to the views of one run")
        self.leave_button.clicked.connect(self.leaveRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.leave_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setStyleSheet("#compareBar { background: #fff8e1; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.hide()

    def say(self, names: tuple[str, str], moments: tuple[str, str], structure: str,
            loading: bool) -> None:
        a, b = (f"<b style='color:{c}'>{w}</b> {n}" + (f" ({m})" if m else "")
                for w, n, m, c in zip("AB", names, moments, RUN_COLOURS))
        line = f"Comparing {a} with {b}."
        if loading:
            line += " Opening B…"
        if structure:
            line += f" Layers without a counterpart: {structure}."
        self.text.setText(f"{line} {ALONE}")
