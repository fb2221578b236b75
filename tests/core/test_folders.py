"""Folders of one's own pictures as datasets: what is read, what is skipped and why, the
split, the cache, and what is refused."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from cnn_core.data import DataBundle, DatasetError, load_dataset
from cnn_core.data.folders import load_image_folder, scan_folder
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from tests.pictures import SHAPES, make_folder


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    """30 pictures of each shape, PNG and JPEG, 24 to 64 pixels, plus a damaged picture and
    a text file."""
    root = make_folder(tmp_path_factory.mktemp("pictures") / "shapes", per_class=30)
    (root / "circle" / "notes.txt").write_text("not a picture")
    (root / "square" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this JPEG stops here")
    return root


def load(root: Path, cache: Path, **options) -> DataBundle:
    return load_image_folder(root, cache_dir=cache, **options)


def test_class_names_and_counts_come_from_the_folders(shapes, tmp_path) -> None:
    bundle = load(shapes, tmp_path)
    assert bundle.info.class_names == SHAPES
    assert bundle.class_counts() == [30, 30, 30]
    assert bundle.info.input_shape == (3, 32, 32)  # the shapes have colour
    assert bundle.train.images.dtype == torch.float32
    # normalised with the folder's own training statistics
    per_channel = bundle.train.images.transpose(0, 1).reshape(3, -1)
    assert per_channel.mean(dim=1).abs().max() < 0.01
    assert (per_channel.std(dim=1) - 1).abs().max() < 0.01


def test_unreadable_files_are_skipped_and_named(shapes, tmp_path) -> None:
    (warning,) = load(shapes, tmp_path).warnings
    assert warning.startswith("skipped 2 files that are not readable pictures")
    assert "circle/notes.txt (not a picture)" in warning
    assert "square/broken.jpg" in warning


def test_size_and_channels_are_as_asked(shapes, tmp_path) -> None:
    bundle = load(shapes, tmp_path, image_size=20, channels=1)
    assert bundle.info.input_shape == (1, 20, 20)
    grey = make_folder(tmp_path / "grey", per_class=4, colour=False)
    assert load(grey, tmp_path).info.in_channels == 1  # no colour anywhere: one channel


@pytest.mark.parametrize("split", ["path", "shuffle"])
def test_the_split_holds_out_a_fraction_of_every_class_and_is_seeded(
        shapes, tmp_path, split: str) -> None:
    a = load(shapes, tmp_path, test_fraction=0.2, split_seed=0, split=split)
    held_out = torch.bincount(a.test.labels).tolist()
    if split == "shuffle":  # exactly a fifth of each class of 30
        assert held_out == [6, 6, 6]
    else:  # each picture by its own hash: about a fifth, at least one of each class
        assert min(held_out) >= 1 and 9 <= sum(held_out) <= 27
    assert len(a.train) + len(a.test) == 90
    again = load(shapes, tmp_path, test_fraction=0.2, split_seed=0, split=split)
    assert torch.equal(a.test.images, again.test.images)
    other = load(shapes, tmp_path, test_fraction=0.2, split_seed=1, split=split)
    assert not torch.equal(a.test.images, other.test.images)


def test_a_train_and_test_layout_keeps_its_split(tmp_path) -> None:
    root = tmp_path / "split"
    make_folder(root / "train", per_class=8)
    make_folder(root / "val", per_class=3, seed=1)  # val/ stands for test/
    bundle = load(root, tmp_path / "cache")
    assert bundle.info.class_names == SHAPES
    assert (len(bundle.train), len(bundle.test)) == (24, 9)
    assert torch.bincount(bundle.test.labels).tolist() == [3, 3, 3]


def test_the_second_load_comes_from_the_cache_until_a_file_changes(tmp_path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=10)
    cache = tmp_path / "cache"
    reads: list[int] = []
    first = load(root, cache, progress=lambda done, total, _: reads.append(done))
    assert reads and reads[-1] == 30
    reads.clear()
    second = load(root, cache, progress=lambda done, total, _: reads.append(done))
    assert reads == []  # nothing decoded
    assert torch.equal(first.train.images, second.train.images)

    changed = root / "circle" / "circle00000.png"
    (root / "square" / "square00000.png").replace(changed)  # a square where a circle was
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
    third = load(root, cache, progress=lambda done, total, _: reads.append(done))
    assert reads and reads[-1] == 29
    assert third.class_counts() == [10, 9, 10]


def test_nothing_is_written_into_the_folder(shapes, tmp_path) -> None:
    before = sorted(p.relative_to(shapes) for p in shapes.rglob("*"))
    load(shapes, tmp_path / "cache")
    assert sorted(p.relative_to(shapes) for p in shapes.rglob("*")) == before
    assert list((tmp_path / "cache").rglob("*.npz"))


@pytest.mark.parametrize("layout,message", [
    ({"circle": 3}, "has 1 class folder; a dataset needs at least two"),
    ({}, "has no class folders"),
])
def test_fewer_than_two_classes_are_refused(tmp_path, layout, message) -> None:
    root = tmp_path / "few"
    root.mkdir()
    for shape, n in layout.items():
        make_folder(root, per_class=n, classes=(shape,))
    with pytest.raises(DatasetError, match=f"^{root} {message}"):
        load(root, tmp_path)


def test_a_class_without_a_readable_picture_is_refused_by_name(tmp_path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=3)
    empty = root / "hexagon"
    empty.mkdir()
    (empty / "readme.txt").write_text("to do")
    with pytest.raises(DatasetError, match="the class 'hexagon' in .* has no readable image"):
        load(root, tmp_path)


def test_a_missing_path_or_a_file_is_refused(tmp_path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load(tmp_path / "nowhere", tmp_path)
    picture = tmp_path / "one.png"
    picture.write_bytes(b"")
    with pytest.raises(DatasetError, match="is a file, not a folder of class folders"):
        load(picture, tmp_path)


def test_a_folder_is_named_by_its_full_path(shapes, tmp_path) -> None:
    bundle = load_dataset(str(shapes), tmp_path)
    assert bundle.info.name == str(shapes) and bundle.info.display_name == "shapes"
    with pytest.raises(ValueError, match="^dataset: unknown dataset 'shapes'"):
        TrainConfig(dataset="shapes").validate()
    assert scan_folder(shapes).class_names == SHAPES


@pytest.mark.parametrize("arch", ["simplecnn", "lenet5"])
def test_networks_learn_the_shapes(tmp_path, arch) -> None:
    root = make_folder(tmp_path / "shapes", per_class=60, sizes=(32, 48))
    config = TrainConfig(arch=arch, dataset=str(root), epochs=15, device="cpu",
                         data_dir=str(tmp_path / "cache"))
    run = launch(config, runs_dir=tmp_path / "runs")
    result = run.trainer.fit()
    assert max(m.test_acc for m in result.history) > 0.7  # chance is 1/3
    assert run.trainer.config.class_names == list(SHAPES)
    recorded = (run.run_dir / "config.json").read_text()
    assert '"class_names": [' in recorded and '"channels": 3' in recorded


def test_resuming_refuses_a_folder_whose_classes_changed(tmp_path) -> None:
    from cnn_core.train.launch import LaunchError, RunKind, open_continuation

    root = make_folder(tmp_path / "shapes", per_class=6)
    config = TrainConfig(arch="lenet5", dataset=str(root), epochs=1, device="cpu",
                         data_dir=str(tmp_path / "cache"))
    run = launch(config, runs_dir=tmp_path / "runs")
    run.trainer.fit()
    make_folder(root, per_class=6, classes=("star",))
    continuation = open_continuation(run.run_dir, RunKind.RESUME)
    saved = continuation.config()
    assert saved.class_names == list(SHAPES)
    with pytest.raises(LaunchError, match="the folder's classes changed since the checkpoint"):
        launch(saved, continuation=continuation)
