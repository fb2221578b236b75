"""The Augmentation group: its controls make the settings text, and its preview shows
what they do to a few training images."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QDoubleSpinBox, QPushButton, QSpinBox

from cnn_core.data.datasets import DataBundle
from gui.panels.config import AugmentationGroup
from gui.widgets.grid_view import GridView


@pytest.fixture
def group(qtbot) -> AugmentationGroup:
    widget = AugmentationGroup()
    qtbot.addWidget(widget)
    return widget


def preview(group: AugmentationGroup) -> GridView:
    return group.findChild(GridView, "augmentationPreview")


def pixels(group: AugmentationGroup) -> np.ndarray:
    grid = preview(group).grid
    assert grid is not None
    return grid.rgba.copy()


def spin(group: AugmentationGroup, name: str) -> QSpinBox | QDoubleSpinBox:
    return group.findChild(QAbstractSpinBox, name)


def test_it_is_found_by_its_name_with_every_control(group: AugmentationGroup) -> None:
    assert group.objectName() == "augmentationGroup" and group.title() == "Augmentation"
    for name in ("augmentShiftSpin", "augmentRotateSpin", "augmentScaleSpin",
                 "augmentBrightnessSpin", "augmentContrastSpin"):
        assert spin(group, name).toolTip(), name
    assert group.findChild(QCheckBox, "augmentFlipCheck").toolTip()
    assert group.text() == ""


@pytest.mark.parametrize("name, value, text", [
    ("augmentShiftSpin", 3, "shift=3"), ("augmentRotateSpin", 12, "rotate=12"),
    ("augmentScaleSpin", 10, "scale=10"), ("augmentBrightnessSpin", 25, "brightness=25"),
    ("augmentContrastSpin", 30, "contrast=30")])
def test_each_control_changes_the_text_and_the_preview(qtbot, group: AugmentationGroup,
                                                       small: DataBundle, name: str,
                                                       value: float, text: str) -> None:
    group.set_source(small.train.images[:4], small.info)
    before = pixels(group)
    with qtbot.waitSignal(group.changed) as signal:
        spin(group, name).setValue(value)
    assert group.text() == text and signal.args == [text]
    after = pixels(group)
    assert after.shape == before.shape and not np.array_equal(after, before)


def test_flip_and_several_settings_make_canonical_text(qtbot, group: AugmentationGroup) -> None:
    group.findChild(QCheckBox, "augmentFlipCheck").setChecked(True)
    spin(group, "augmentRotateSpin").setValue(7.5)
    spin(group, "augmentShiftSpin").setValue(2)
    assert group.text() == "shift=2,flip,rotate=7.5"


def test_set_text_round_trips_and_signals_once(qtbot, group: AugmentationGroup) -> None:
    text = "shift=1,flip,rotate=7.25,scale=5,brightness=20,contrast=35"
    heard: list[str] = []
    group.changed.connect(heard.append)
    group.set_text(text)
    assert group.text() == text and heard == [text]
    assert group.findChild(QCheckBox, "augmentFlipCheck").isChecked()
    assert spin(group, "augmentRotateSpin").value() == 7.25
    group.set_text(text)  # nothing new: nothing said
    group.set_text("")
    assert group.text() == "" and heard == [text, ""]


def test_bad_text_is_refused_and_changes_nothing(group: AugmentationGroup) -> None:
    group.set_text("shift=2")
    with pytest.raises(ValueError, match="unknown augmentation"):
        group.set_text("shift=4,zoom=3")
    assert group.text() == "shift=2" and spin(group, "augmentShiftSpin").value() == 2


def test_the_preview_explains_itself_until_there_are_images(group: AugmentationGroup,
                                                            small: DataBundle) -> None:
    view = preview(group)
    assert view.grid is None and "dataset" in view.title.text
    group.set_source(small.train.images[:5], small.info)
    grid = view.grid
    assert grid is not None and grid.count == 12 and grid.rows == 2  # 2 images, 6 times
    assert "No augmentation" in view.title.text
    group.set_source(None)
    assert view.grid is None and "dataset" in view.title.text


def test_without_augmentation_every_tile_of_a_row_is_the_original(
        group: AugmentationGroup, small: DataBundle) -> None:
    group.set_source(small.train.images[:2], small.info)
    grid = preview(group).grid
    tiles = [grid.rgba[y:y + grid.tile_h, x:x + grid.tile_w]
             for x, y in map(grid.tile_origin, range(grid.count))]
    assert all(np.array_equal(t, tiles[0]) for t in tiles[:6])
    assert not np.array_equal(tiles[0], tiles[6])
    group.set_text("shift=3")
    grid = preview(group).grid
    shifted = [grid.rgba[y:y + grid.tile_h, x:x + grid.tile_w]
               for x, y in map(grid.tile_origin, range(6))]
    assert np.array_equal(shifted[0], tiles[0])  # the original stays first
    assert sum(not np.array_equal(t, tiles[0]) for t in shifted[1:]) >= 4


def test_new_examples_draws_again(qtbot, group: AugmentationGroup, small: DataBundle) -> None:
    button = group.findChild(QPushButton, "augmentRedrawButton")
    assert not button.isEnabled()  # nothing to draw yet
    group.set_source(small.train.images[:2], small.info)
    group.set_text("rotate=30")
    before = pixels(group)
    button.click()
    assert not np.array_equal(pixels(group), before)


def test_colour_images_are_previewed_in_colour(group: AugmentationGroup, tmp_path) -> None:
    from cnn_core.data.datasets import load_dataset
    from tests.pictures import make_folder

    bundle = load_dataset(str(make_folder(tmp_path / "shapes", per_class=4)))
    group.set_source(bundle.train.images[:2], bundle.info)
    group.set_text("flip,brightness=30")
    rgb = pixels(group)[..., :3].astype(int)
    assert (np.abs(rgb[..., 0] - rgb[..., 1]) > 40).any()
