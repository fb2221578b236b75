"""Whether a picture is trained on or held out for testing depends on that picture only:
pictures added to a folder between a run and its resume move no other, the resume says
what changed, and runs recorded before keep the split they began with."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PIL import Image

from cnn_core.data.folders import load_image_folder
from cnn_core.train.config import TrainConfig
from cnn_core.train.continuation import RunKind, open_continuation
from cnn_core.train.launch import launch

SIZE = 8


def add_pictures(root: Path, name: str, levels: range) -> None:
    """Flat grey pictures, one grey level each: a picture is known by its level."""
    (root / name).mkdir(parents=True, exist_ok=True)
    for level in levels:
        Image.new("L", (SIZE, SIZE), level).save(root / name / f"{level:03d}.png")


def sides(data, known: list[int]) -> tuple[set[int], set[int]]:
    """The grey levels trained on and held out. Normalising keeps the order of the flat
    pictures' values, so the i-th smallest value is the i-th smallest level."""
    train, test = (split.images[:, 0, 0, 0].tolist() for split in (data.train, data.test))
    values = sorted(set(train + test))
    assert len(values) == len(known)
    level = dict(zip(values, sorted(known)))
    return {level[v] for v in train}, {level[v] for v in test}


DARK, LIGHT, MORE = list(range(10, 50)), list(range(150, 190)), list(range(50, 62))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "greys"
    add_pictures(root, "dark", DARK)
    add_pictures(root, "light", LIGHT)
    return root


def test_pictures_added_move_no_other_picture(folder: Path, tmp_path: Path) -> None:
    train, test = sides(load_image_folder(folder, image_size=SIZE,
                                          cache_dir=tmp_path / "cache"), DARK + LIGHT)
    assert 0 < len(test) < len(train)
    add_pictures(folder, "dark", MORE)
    (folder / "light" / "150.png").unlink()
    train_after, test_after = sides(load_image_folder(folder, image_size=SIZE,
                                                      cache_dir=tmp_path / "cache"),
                                    DARK + LIGHT[1:] + MORE)
    assert train - {150} <= train_after and test - {150} <= test_after


def test_the_old_rule_moved_them(folder: Path, tmp_path: Path) -> None:
    """Shuffling, which runs recorded before keep: the reason for the new rule."""
    train, _ = sides(load_image_folder(folder, image_size=SIZE, split="shuffle",
                                       cache_dir=tmp_path / "cache"), DARK + LIGHT)
    add_pictures(folder, "dark", MORE)
    train_after, _ = sides(load_image_folder(folder, image_size=SIZE, split="shuffle",
                                             cache_dir=tmp_path / "cache"), DARK + LIGHT + MORE)
    assert not train <= train_after


def test_a_resume_after_pictures_were_added_keeps_the_split_and_says_what_changed(
        folder: Path, tmp_path: Path) -> None:
    config = TrainConfig(arch="lenet5", dataset=str(folder), epochs=1, device="cpu",
                         image_size=SIZE * 4, data_dir=str(tmp_path / "data"))
    first = launch(config, run_dir=tmp_path / "run")
    first.trainer.fit()
    trained_on, held_out = sides(first.trainer.data, DARK + LIGHT)
    add_pictures(folder, "dark", MORE)

    cont = open_continuation(tmp_path / "run", RunKind.RESUME)
    resumed = launch(dataclasses.replace(cont.config(), epochs=2), continuation=cont)
    try:
        train_after, test_after = sides(resumed.trainer.data, DARK + LIGHT + MORE)
        assert trained_on <= train_after and held_out <= test_after
        assert "the folder changed since the checkpoint (dark: 40 -> 52 pictures, +12)" \
            in resumed.note
    finally:
        resumed.close()


def test_a_run_recorded_before_the_rule_goes_on_with_its_shuffled_split(
        folder: Path, tmp_path: Path) -> None:
    recorded = TrainConfig(dataset=str(folder)).to_dict()
    del recorded["split"]
    assert TrainConfig.from_dict(recorded).split == "shuffle"

    config = TrainConfig(arch="lenet5", dataset=str(folder), epochs=1, device="cpu",
                         image_size=SIZE * 4, data_dir=str(tmp_path / "data"), split="shuffle")
    launch(config, run_dir=tmp_path / "run").trainer.fit()
    cont = open_continuation(tmp_path / "run", RunKind.RESUME)
    asked = dataclasses.replace(cont.config(), epochs=2, split="path")  # as the window asks
    resumed = launch(asked, continuation=cont)
    try:
        assert resumed.trainer.config.split == "shuffle"
    finally:
        resumed.close()


def test_a_rule_this_version_does_not_know_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="split: the rule 'zigzag' is not one this version "
                                         r"knows \(path, shuffle\)"):
        TrainConfig(split="zigzag").validate()
