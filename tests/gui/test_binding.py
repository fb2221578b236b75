"""Guards against a broken Qt binding rather than our code.

PySide6 6.12.0 drops one reference to ``None`` on every call of a method that returns
nothing; where ``None`` is an ordinary object (Python 3.11 and older) a long session then
dies with "Fatal Python error: none_dealloc". pyproject.toml excludes that release; this
test fails if a future release brings the bug back.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QApplication, QLabel


def _none_is_immortal() -> bool:
    """From Python 3.12 (PEP 683) None's count never changes, and the bug is harmless."""
    before = sys.getrefcount(None)
    held = [None] * 100
    return sys.getrefcount(None) - before < len(held)


@pytest.mark.skipif(_none_is_immortal(), reason="None is immortal: its count cannot drop")
def test_void_qt_calls_keep_the_refcount_of_none(qapp: QApplication) -> None:
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.setVisible(False)
    lost = before - sys.getrefcount(None)
    assert lost < 100, f"{lost} references to None lost over 4000 void calls"
