"""Scrub, play and compare moments of the time-lapse (shared by the filters and the
feature maps of the probe image)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

PLAY_FPS = 6
WIDEST_LABEL = "epoch 10.00  (99/99)"  # wider ones take more room as they come
SLIDER_MIN_WIDTH = 100


class TimeLapseBar(QWidget):
    """``momentChanged(index, compare_index)``: compare_index is -1 when not comparing."""

    momentChanged = Signal(int, int)
    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="snapshotSlider")
        self.slider.setToolTip("Scrub through the run: filters and the probe image's feature "
                               "maps at each moment")
        self.play_button = QPushButton("▶ Play", objectName="timeLapsePlay")
        self.live_button = QPushButton("Live", objectName="timeLapseLive", checkable=True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Follow the newest weights as training goes on")
        self.label = QLabel("no snapshots yet", objectName="timeLapseLabel")
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance(WIDEST_LABEL))
        self.slider.setMinimumWidth(SLIDER_MIN_WIDTH)
        self.compare_box = QCheckBox("Compare with", objectName="timeLapseCompare")
        self.compare_slider = QSlider(Qt.Orientation.Horizontal, objectName="compareSlider")
        self.compare_slider.setEnabled(False)
        self.compare_slider.hide()  # room for the time-lapse's own slider until asked for
        self.export_button = QPushButton("Export GIF…", objectName="timeLapseExport")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Time-lapse"))
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 3)
        layout.addWidget(self.label)
        layout.addWidget(self.live_button)
        layout.addWidget(self.compare_box)
        layout.addWidget(self.compare_slider, 2)
        layout.addWidget(self.export_button)
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / PLAY_FPS))
        self._timer.timeout.connect(self._advance)
        self.slider.valueChanged.connect(self._on_slider)
        self.compare_slider.valueChanged.connect(lambda _v: self._emit())
        self.compare_box.toggled.connect(self._on_compare_toggled)
        self.play_button.clicked.connect(self.toggle_play)
        self.live_button.toggled.connect(self._on_live)
        self.export_button.clicked.connect(self.exportRequested)
        self._labels: list[str] = []
        self._compare_allowed = True
        self.set_moments([])

    @property
    def index(self) -> int:
        return self.slider.value()

    @property
    def compare_index(self) -> int:
        return self.compare_slider.value() if self.compare_box.isChecked() else -1

    @property
    def live(self) -> bool:
        return self.live_button.isChecked()

    def set_moments(self, labels: list[str]) -> None:
        """The moments now stored (oldest first); in live mode the newest is shown."""
        self._labels = labels
        n = len(labels)
        for slider in (self.slider, self.compare_slider):
            slider.blockSignals(True)
            slider.setRange(0, max(n - 1, 0))
            slider.blockSignals(False)
        self.slider.setEnabled(n > 1)
        self.compare_box.setEnabled(n > 1 and self._compare_allowed)
        self.play_button.setEnabled(n > 1)
        self.export_button.setEnabled(n > 1)
        if self.live and n:
            self.slider.blockSignals(True)
            self.slider.setValue(n - 1)
            self.slider.blockSignals(False)
        self._update_label()

    def allow_compare(self, allowed: bool) -> None:
        """Whether two moments may be compared (not while two runs are: the bar then moves
        both of them)."""
        self._compare_allowed = allowed
        if not allowed:
            self.compare_box.setChecked(False)
        self.compare_box.setEnabled(allowed and len(self._labels) > 1)
        self.compare_box.setToolTip("" if allowed else "Two runs are compared: the time-lapse "
                                    "moves both. Leave compare to compare two moments.")

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.play_button.setText("▶ Play")
        elif self.slider.maximum() > 0:
            self.live_button.setChecked(False)
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self._timer.start()
            self.play_button.setText("❚❚ Pause")

    def _advance(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.toggle_play()
        else:
            self.slider.setValue(self.slider.value() + 1)

    def _on_slider(self, value: int) -> None:
        if value < self.slider.maximum() and self.live:
            self.live_button.blockSignals(True)
            self.live_button.setChecked(False)
            self.live_button.blockSignals(False)
        self._update_label()
        self._emit()

    def _on_live(self, live: bool) -> None:
        if live:
            self.slider.setValue(self.slider.maximum())
            self._emit()

    def _on_compare_toggled(self, on: bool) -> None:
        self.compare_slider.setEnabled(on)
        self.compare_slider.setVisible(on)
        self._emit()

    def _update_label(self) -> None:
        if not self._labels:
            self.label.setText("no snapshots yet")
            return
        self.label.setText(f"{self._labels[self.slider.value()]}  "
                           f"({self.slider.value() + 1}/{len(self._labels)})")

    def _emit(self) -> None:
        if self._labels:
            self.momentChanged.emit(self.index, self.compare_index)
