"""The probability bars every panel uses: a row per class, nothing clipped."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.widgets.probability_bars import ProbabilityBars

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot")


def probabilities(best: int, k: int = 10) -> np.ndarray:
    p = np.full(k, 0.02, np.float32)
    p[best] = 1 - 0.02 * (k - 1)
    return p


@pytest.fixture
def column(qtbot) -> tuple[QWidget, ProbabilityBars]:
    """The bars in a narrow column, as the Feature maps and Draw panels hold them."""
    holder = QWidget()
    bars = ProbabilityBars(object_name="predictionChart", placeholder="draw something")
    layout = QVBoxLayout(holder)
    layout.addWidget(bars)
    layout.addStretch(1)
    bars.setFixedWidth(150)
    qtbot.addWidget(holder)
    holder.resize(150, 400)
    holder.show()
    qtbot.waitExposed(holder)
    return holder, bars


def test_the_headline_names_the_prediction_or_the_placeholder(column) -> None:
    _, bars = column
    assert bars.headline() == "draw something" and bars.probabilities is None
    bars.set_probabilities(probabilities(7), tuple(map(str, range(10))))
    assert bars.headline() == "prediction: 7 (82%)"
    bars.clear()
    assert bars.headline() == "draw something" and bars.shown_classes() == []


def test_every_class_gets_a_row_in_a_narrow_column_even_with_long_names(qtbot, column) -> None:
    _, bars = column
    bars.set_probabilities(probabilities(9), FASHION)
    # the long headline wraps, and the widget asks for the room it then needs
    qtbot.waitUntil(lambda: bars.height() == bars.heightForWidth(150))
    assert bars.heightForWidth(150) > bars.heightForWidth(400)
    assert bars.shown_classes() == list(range(10))


def test_squeezed_it_keeps_the_likeliest_classes(qtbot, column) -> None:
    holder, bars = column
    bars.set_probabilities(probabilities(4), tuple(map(str, range(10))))
    holder.resize(150, bars.minimumSizeHint().height() + 20)
    qtbot.waitUntil(lambda: bars.height() < bars.heightForWidth(150))
    shown = bars.shown_classes()
    assert 4 in shown and 0 < len(shown) < 10


def test_at_its_height_or_taller_no_class_is_left_out(qtbot) -> None:
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    bars.set_probabilities(probabilities(2), tuple(map(str, range(10))))
    for width in (150, 190, 300):
        for extra in range(40):  # rows of fractional heights must still all fit
            bars.resize(width, bars.heightForWidth(width) + extra)
            assert bars.shown_classes() == list(range(10)), (width, extra)
