"""One training run through the real window (offscreen); prints its epoch times as JSON.

Run as a subprocess by ``benchmarks.gui_overhead`` so that the window and the headless
CLI each get a fresh process, as they would in real use.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.stall_probe import StallProbe
    from cnn_core.train.config import TrainConfig
    from gui.window.main_window import MainWindow

    arch, epochs = sys.argv[1], int(sys.argv[2])
    measure_stalls = "--stalls" in sys.argv
    tab = int(sys.argv[sys.argv.index("--tab") + 1]) if "--tab" in sys.argv else 0
    app = QApplication([])
    window = MainWindow(TrainConfig(arch=arch, epochs=epochs, device="cpu"))
    window.show()
    # Show one panel, doing the work it does for a person: a test image other than the
    # probe (inference at every snapshot) or a drawing being read.
    window.tabs.setCurrentIndex(tab)
    inside = window.inside
    if window.tabs.currentWidget() is inside.drawing_panel:
        from PySide6.QtCore import QPointF

        inside.drawing_panel.canvas.strokes.append([QPointF(140, 40 + 10 * i) for i in range(20)])
        inside.drawing_panel.canvas._render()
        inside.drawing_panel._timer.start()
    elif window.tabs.currentWidget() is inside.feature_maps_panel:
        window.controller.workerCreated.connect(
            lambda w: w.runStarted.connect(lambda _i: inside.feature_maps_panel.step(1)))
    # A person reads the window before pressing Start; give the start-up warm-up
    # (gui/warmup.py) the same moment, so the measurement is of training alone.
    ready = QEventLoop()
    QTimer.singleShot(2500, ready.quit)
    ready.exec()
    loop = QEventLoop()
    window.controller.runFinished.connect(loop.quit)
    probe = StallProbe()
    if measure_stalls:
        probe.start()
    window.start_training()
    loop.exec()
    probe.stop()
    print(json.dumps({"tab": window.tabs.tabText(tab), "seconds": [m.seconds for m in window.history],
                      "worst_stall_ms": 1000 * probe.worst}))
    app.quit()


if __name__ == "__main__":
    main()
