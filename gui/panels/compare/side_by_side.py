"""One view of run A and the same view of run B beside it, each under its run's name. Where
the two do not fit side by side (a laptop's screen, with the docks open), B goes below A
and the views scroll, rather than widen the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QComboBox, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

RUN_COLOURS = ("#1e88e5", "#e65100")  # A, B: as the compare bar names them
ROW_HEIGHT = 320  # px: each run's view, when B is below A


def run_heading(which: str, name: str, colour: str) -> QLabel:
    label = QLabel(f"<b style='color:{colour}'>{which}</b> · {name}")
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setToolTip(name)
    return label


class SideBySide(QScrollArea):
    def __init__(self, a: QWidget, b: QWidget, object_name: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if object_name:
            self.setObjectName(object_name)
        self.a, self.b = a, b
        self.headings: list[QLabel] = []
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        for which, panel, colour in (("A", a, RUN_COLOURS[0]), ("B", b, RUN_COLOURS[1])):
            column = QWidget()
            layout = QVBoxLayout(column)
            layout.setContentsMargins(0, 0, 0, 0)
            heading = run_heading(which, "", colour)
            self.headings.append(heading)
            layout.addWidget(heading)
            layout.addWidget(panel, 1)
            splitter.addWidget(column)
        self.setWidget(splitter)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        columns = [self.splitter.widget(i) for i in range(2)]
        wanted = sum(c.minimumSizeHint().width() for c in columns) + self.splitter.handleWidth()
        side_by_side = self.viewport().width() >= wanted
        self.splitter.setOrientation(Qt.Orientation.Horizontal if side_by_side
                                     else Qt.Orientation.Vertical)
        for column in columns:  # one above the other: each as tall as the view, or readable
            fits = min(column.sizeHint().height(), self.viewport().height())
            column.setMinimumHeight(0 if side_by_side else max(fits, ROW_HEIGHT))

    def set_names(self, name_a: str, name_b: str) -> None:
        for label, which, name, colour in zip(self.headings, "AB", (name_a, name_b),
                                              RUN_COLOURS):
            label.setText(f"<b style='color:{colour}'>{which}</b> · {name}")
            label.setToolTip(name)

    def mirror_choices(self, *names: str) -> None:
        """A choice made in A's view (the combo boxes named) is made in B's too, where B
        offers it: the same layer, class or metric on both sides."""
        for name in names:
            mine, theirs = (view.findChild(QComboBox, name) for view in (self.a, self.b))
            mine.currentTextChanged.connect(
                lambda text, theirs=theirs: theirs.setCurrentIndex(theirs.findText(text))
                if theirs.findText(text) >= 0 else None)
