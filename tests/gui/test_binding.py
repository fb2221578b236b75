"""Guards against a broken Qt binding rather than our code.

PySide6 6.12.0 drops one reference to ``None`` on every call of a method that returns
nothing. On Python 3.11, where ``None`` is an ordinary object, a long session then dies
with "Fatal Python error: none_dealloc". pyproject.toml excludes that release; this test
fails if a future release brings the bug back.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel


def test_void_qt_calls_keep_the_refcount_of_none(qapp: QApplication) -> None:
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.setVisible(False)
    assert sys.getrefcount(None) - before > -1000
