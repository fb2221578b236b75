"""File > Predict image… and picture files dropped on the views: what the current model
makes of a person's own pictures, driven through the real window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QListWidget, QWidget

from cnn_core.train.config import TrainConfig
from gui.widgets.probability_bars import ProbabilityBars
from tests.gui.conftest import find, train
from tests.pictures import draw_shape

NO_MODEL = "Train a model or open a checkpoint first"


@pytest.fixture
def trained(qtbot, window):
    """The window after a 1-epoch LeNet-5 run on the bundled digits."""
    return train(qtbot, window, "lenet5", epochs=1)


@pytest.fixture
def pictures(tmp_path) -> list[Path]:
    """A big colour PNG, a small grey JPEG and a file that is no picture at all."""
    rng = np.random.default_rng(0)
    big, small = tmp_path / "big circle.png", tmp_path / "small.jpg"
    corrupt = tmp_path / "corrupt.png"
    draw_shape("circle", 97, rng).save(big)
    draw_shape("square", 19, rng, colour=False).save(small)
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing a decoder could use")
    return [big, corrupt, small]


def pick_files(monkeypatch, paths: list[Path]) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *a, **k: ([str(p) for p in paths], "Pictures"))


def drag_and_drop(widget: QWidget, paths: list[Path]) -> bool:
    """Drag ``paths`` onto ``widget`` and drop them if it (or a parent) takes the drag;
    whether the drop was taken."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(widget.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(widget.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def shown_names(files: QListWidget) -> list[str]:
    return [files.item(i).text().splitlines()[0] for i in range(files.count())]


def test_predict_image_action_shows_every_readable_picture(qtbot, trained, pictures,
                                                           monkeypatch) -> None:
    pick_files(monkeypatch, pictures)
    find(trained, QAction, "predictImageAction").trigger()
    panel = find(trained, QWidget, "predictionsPanel")
    files = find(trained, QListWidget, "predictionsList")
    message = find(trained, QLabel, "predictionsMessage")
    qtbot.waitUntil(lambda: files.count() == 2, timeout=20_000)
    assert trained.tabs.currentWidget() is panel
    assert shown_names(files) == ["big circle.png", "small.jpg"]
    # the damaged file is named, the others are shown all the same
    assert "corrupt.png" in message.text() and "Could not read 1 file" in message.text()

    bars = find(trained, ProbabilityBars, "predictionProbabilities")
    names = trained.session.run_info.dataset.class_names
    # the newest readable picture is shown: a probability per class, summing to 1
    assert files.currentItem().text().startswith("small.jpg")
    probabilities = bars.probabilities
    assert probabilities is not None and len(probabilities) == len(names) == 10
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)
    best = names[int(np.argmax(probabilities))]
    assert f"→ {best} " in files.currentItem().text()
    # as the network sees it: 28x28 greyscale, whatever the file was
    assert panel.input_image.image.shape == (28, 28)
    assert panel.cam_image.image.shape == (28, 28, 3)  # Grad-CAM over the picture
    assert {k: g.count for k, g in panel.maps.grids.items()} == {"conv1": 6, "conv2": 16}

    # picking the other file shows its own answer
    small_answer = probabilities.copy()
    files.setCurrentRow(0)
    assert "big circle.png" in find(trained, QLabel, "predictionCaption").text()
    assert not np.array_equal(bars.probabilities, small_answer)
    np.testing.assert_allclose(bars.probabilities.sum(), 1.0, rtol=1e-5)


def test_pictures_dropped_on_the_views_are_predicted(qtbot, trained, pictures) -> None:
    files = find(trained, QListWidget, "predictionsList")
    trained.tabs.setCurrentWidget(trained.inside.drawing_panel)
    assert drag_and_drop(trained.inside, [pictures[0]])
    qtbot.waitUntil(lambda: files.count() == 1, timeout=20_000)
    assert trained.tabs.currentWidget() is find(trained, QWidget, "predictionsPanel")
    bars = find(trained, ProbabilityBars, "predictionProbabilities")
    np.testing.assert_allclose(bars.probabilities.sum(), 1.0, rtol=1e-5)
    # a checkpoint dropped on the views is still the window's to open (Qt hands the drop
    # to the window, which took the drag)
    checkpoint = Path(trained.session.last_run) / "checkpoints" / "last.pt"
    with qtbot.waitSignal(trained.session.runStarted, timeout=30_000):
        assert drag_and_drop(trained.inside, [checkpoint])
    assert trained.session.opened == checkpoint and files.count() == 1


def test_new_weights_ask_the_shown_picture_again(qtbot, trained, pictures,
                                                 monkeypatch) -> None:
    pick_files(monkeypatch, pictures[:1])
    find(trained, QAction, "predictImageAction").trigger()
    panel = find(trained, QWidget, "predictionsPanel")
    caption = find(trained, QLabel, "predictionCaption")
    qtbot.waitUntil(lambda: "latest weights" in caption.text(), timeout=20_000)
    first = panel.answers[pictures[0]]
    trained.config_panel.set_config(TrainConfig(arch="simplecnn", epochs=1, batch_size=64,
                                                device="cpu"))
    with qtbot.waitSignal(trained.session.runFinished, timeout=120_000):
        trained.start_training()
    # the new run's model answered (the tab was visible): SimpleCNN's 32 and 64 maps
    qtbot.waitUntil(lambda: panel.answers[pictures[0]].version == panel.predictor.version,
                    timeout=20_000)
    assert panel.answers[pictures[0]].version > first.version
    assert "latest weights" in caption.text()
    assert {k: g.count for k, g in panel.maps.grids.items()} == {"conv1": 32, "conv2": 64}


def test_without_a_model_it_says_what_to_do_first(qtbot, window, pictures,
                                                  monkeypatch) -> None:
    pick_files(monkeypatch, pictures)
    find(window, QAction, "predictImageAction").trigger()
    message = find(window, QLabel, "predictionsMessage")
    assert NO_MODEL in message.text()
    assert window.tabs.currentWidget() is find(window, QWidget, "predictionsPanel")
    assert find(window, QListWidget, "predictionsList").count() == 0
    message.setText("")
    assert drag_and_drop(window.inside, pictures[:1])
    assert NO_MODEL in message.text()
    assert find(window, ProbabilityBars, "predictionProbabilities").probabilities is None
