"""A spin box for quantities that span decades (learning rate, weight decay)."""

from __future__ import annotations

import math

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

_MANTISSAS = (1.0, 2.0, 5.0)


class ScientificSpinBox(QDoubleSpinBox):
    """Accepts ``1e-3`` as well as ``0.001``; arrows step 1-2-5 per decade.

    Any text that parses as a number is accepted as typed (no silent clamping), so the
    panel can say *why* a value is wrong instead of changing it behind the user's back.
    """

    def __init__(self, parent: QWidget | None = None, objectName: str = "") -> None:  # noqa: N803
        super().__init__(parent)
        self.setObjectName(objectName)
        self.setDecimals(15)
        self.setRange(-1e9, 1e9)
        self.setKeyboardTracking(True)

    def validate(self, text: str, pos: int) -> object:
        try:
            float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"

    def text_value(self) -> float | None:
        """What the person typed, or None when it is not a number."""
        try:
            return float(self.lineEdit().text())
        except ValueError:
            return None

    def stepBy(self, steps: int) -> None:
        value = self.value()
        if value <= 0:
            self.setValue(1e-4 if steps > 0 else 0.0)
            return
        decade = math.floor(math.log10(value) + 1e-9)
        mantissa = value / 10**decade
        index = min(range(3), key=lambda i: abs(_MANTISSAS[i] - mantissa)) + 3 * decade + steps
        self.setValue(float(f"{_MANTISSAS[index % 3] * 10 ** (index // 3):.3g}"))

    def stepEnabled(self) -> QDoubleSpinBox.StepEnabledFlag:
        return (QDoubleSpinBox.StepEnabledFlag.StepUpEnabled
                | QDoubleSpinBox.StepEnabledFlag.StepDownEnabled)
