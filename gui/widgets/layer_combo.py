"""A combo box of layer names that stays narrow in its toolbar, however long the names
(``backbone.layer4.0.downsample.0``): the closed box shows the choice elided in the
middle and whole in its tooltip, and the list opens as wide as its longest entry."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (QComboBox, QSizePolicy, QStyle, QStyleOptionComboBox,
                               QStylePainter, QWidget)

SHOWN_CHARACTERS = 20  # the closed box's width, in characters
MAX_VISIBLE = 24  # rows before the list scrolls: a backbone has 20 to 50 conv layers


class LayerCombo(QComboBox):
    def __init__(self, parent: QWidget | None = None, *, objectName: str = "",  # noqa: N803
                 characters: int = SHOWN_CHARACTERS) -> None:
        super().__init__(parent, objectName=objectName)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(characters)
        self.setMaxVisibleItems(MAX_VISIBLE)
        # the toolbar's spare width goes to the names first
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._about = ""
        self.currentTextChanged.connect(self._show_whole)

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt naming
        """What the box is for; the tooltip adds the current choice, whole."""
        self._about = text
        self._show_whole(self.currentText())

    def _show_whole(self, text: str) -> None:
        super().setToolTip("\n\n".join(filter(None, (text, self._about))))

    def showPopup(self) -> None:  # noqa: N802 - Qt naming
        view = self.view()
        view.setMinimumWidth(view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width()
                             + 2 * view.frameWidth())
        super().showPopup()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideMiddle, field.width())
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
