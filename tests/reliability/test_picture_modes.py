"""Pictures decode to what they show, whatever their mode: every Pillow mode with known
pixel values, read as a folder's picture and as one picture to predict."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import pytest
from PIL import Image

from cnn_core.data.bundle import DatasetInfo
from cnn_core.data.folders import load_image_folder, read_image
from cnn_core.data.source import resolve
from cnn_core.inspect.predict import picture_tensor

SIZE = 8


def picture(mode: str, value: float) -> Image.Image:
    """A flat SIZE x SIZE picture of ``value`` in ``mode``'s own numbers."""
    dtype = {"I;16": "<u2", "I;16B": ">u2", "I": "<i4", "F": "<f4", "L": "u1"}[mode]
    return Image.frombytes(mode, (SIZE, SIZE), np.full((SIZE, SIZE), value, dtype).tobytes())


# mode, value, file format, the 8-bit grey it shows
READABLE = [
    ("I;16", 0, "PNG", 0), ("I;16", 32768, "PNG", 128), ("I;16", 65535, "PNG", 255),
    ("I;16B", 40000, "TIFF", 156),
    ("I", 65535, "TIFF", 255), ("I", 1000, "TIFF", 4),
    ("F", 0.5, "TIFF", 128), ("F", 1.0, "TIFF", 255),
    ("L", 77, "PNG", 77),
]
REFUSED = [("I", 70000, "TIFF", "outside 0-65535"), ("I", -5, "TIFF", "outside 0-65535"),
           ("F", 2.0, "TIFF", "outside 0-1"), ("F", float("nan"), "TIFF", "outside 0-1")]


@pytest.mark.parametrize("mode, value, file_format, grey", READABLE)
def test_each_mode_reads_as_the_grey_it_shows(tmp_path: Path, mode: str, value: float,
                                               file_format: str, grey: int) -> None:
    path = tmp_path / f"picture.{file_format.lower()}"
    picture(mode, value).save(path, file_format)
    assert Image.open(path).mode == mode
    assert np.array_equal(read_image(path, SIZE), np.full((SIZE, SIZE, 3), grey, np.uint8))


@pytest.mark.parametrize("mode, value, file_format, reason", REFUSED)
def test_values_outside_a_modes_range_are_refused_with_the_reason(
        tmp_path: Path, mode: str, value: float, file_format: str, reason: str) -> None:
    path = tmp_path / f"picture.{file_format.lower()}"
    picture(mode, value).save(path, file_format)
    with pytest.raises(ValueError, match=reason):
        read_image(path, SIZE)


def test_a_folder_of_dark_and_bright_16_bit_pictures_keeps_them_apart(tmp_path: Path) -> None:
    """The probe's case: 16-bit dark and bright classes that trained at chance, all white."""
    root = tmp_path / "sixteen"
    for name, value in (("dark", 6000), ("bright", 60000)):
        (root / name).mkdir(parents=True)
        for i in range(6):
            picture("I;16", value + 100 * i).save(root / name / f"{i}.png")
    bundle = load_image_folder(root, image_size=SIZE, cache_dir=tmp_path / "cache")
    raw = bundle.train.images * bundle.info.std[0] + bundle.info.mean[0]  # back to 0-1
    dark = raw[bundle.train.labels == bundle.info.class_names.index("dark")]
    bright = raw[bundle.train.labels == bundle.info.class_names.index("bright")]
    assert float(dark.max()) < 0.1 and float(bright.min()) > 0.9


def test_a_folder_skips_a_picture_out_of_range_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            picture("L", 40 if name == "a" else 200).save(root / name / f"{i}.png")
    picture("F", 7.5).save(root / "a" / "hot.tiff", "TIFF")
    bundle = load_image_folder(root, image_size=SIZE, cache_dir=tmp_path / "cache")
    assert len(bundle.train) + len(bundle.test) == 6
    assert bundle.warnings and "a/hot.tiff (a floating-point picture with values outside 0-1)" \
        in bundle.warnings[0]


def test_names_that_are_not_utf8_are_read_and_shown_with_replacement_characters(
        tmp_path: Path) -> None:
    """One class folder and one file whose names are Latin-1 bytes, as an old archive
    leaves them: the folder loads whole, and the class is named with a replacement
    character instead of making the whole folder unusable."""
    root = tmp_path / "latin"
    for name, value in ((b"caf\xe9", 40), (b"plain", 200)):
        folder = os.fsdecode(os.path.join(os.fsencode(root), name))
        os.makedirs(folder)
        for i in range(3):
            picture("L", value).save(os.path.join(folder, f"{i}.png"))
    odd_file = os.fsdecode(os.path.join(os.fsencode(root), b"plain", b"\xff.png"))
    picture("L", 200).save(odd_file, "PNG")
    bundle = load_image_folder(root, image_size=SIZE, cache_dir=tmp_path / "cache")
    assert bundle.info.class_names == ("caf\ufffd", "plain")
    assert len(bundle.train) + len(bundle.test) == 7 and not bundle.warnings
    assert resolve(str(root)).class_names() == ("caf\ufffd", "plain")


def picture_with_corrupt_exif(path: Path) -> None:
    """A JPEG whose EXIF block claims more than it holds: Pillow warns, then reads it."""
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\x00\x00"
    picture("L", 200).convert("RGB").save(path, "JPEG", exif=exif)


def test_pillows_warnings_become_notes_naming_the_picture(tmp_path: Path, capfd,
                                                          monkeypatch) -> None:
    """Corrupt EXIF data: read, and named in the folder's warnings. More pixels than Pillow
    trusts: skipped, and named. Nothing raw reaches the terminal."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40 * 40)
    root = tmp_path / "noisy"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            picture("L", 40 if name == "a" else 200).save(root / name / f"{i}.png")
    picture_with_corrupt_exif(root / "b" / "exif.jpg")
    Image.new("L", (50, 50)).save(root / "a" / "huge.png")  # over the (lowered) limit
    Image.new("L", (90, 90)).save(root / "a" / "huger.png")  # over twice the limit
    bundle = load_image_folder(root, image_size=SIZE, cache_dir=tmp_path / "cache")
    assert len(bundle.train) + len(bundle.test) == 7
    skipped, noted = bundle.warnings
    assert "a/huge.png (too large to read safely: over 1,600 pixels)" in skipped
    assert "a/huger.png (too large" in skipped
    assert noted.startswith("read 1 picture that Pillow warned about: b/exif.jpg (Corrupt EXIF")
    again = load_image_folder(root, image_size=SIZE, cache_dir=tmp_path / "cache")
    assert again.warnings == bundle.warnings  # from the cache, the same words
    captured = capfd.readouterr()
    assert "Warning" not in captured.err + captured.out


def test_predict_notes_what_pillow_warned_about_one_picture(tmp_path: Path, capfd) -> None:
    path = tmp_path / "exif.jpg"
    picture_with_corrupt_exif(path)
    notes: list[str] = []
    picture_tensor(path, DatasetInfo("x", "x", "", 1, SIZE, ("a", "b"), (0.5,), (0.5,)), notes)
    assert len(notes) == 1 and notes[0].startswith(f"{path} (Corrupt EXIF data")
    assert "Warning" not in capfd.readouterr().err


def spoil_cache(cache_dir: Path, **arrays: np.ndarray) -> None:
    """Rewrite the one cached folder with ``arrays`` in place of its own, keeping its
    fingerprint: a cache that claims to be these files but is not what they hold."""
    (path,) = (cache_dir / "image-folders").glob("*.npz")
    with np.load(path) as npz:
        contents = {key: npz[key] for key in npz.files}
    contents.update(arrays)
    with path.open("wb") as f:
        np.savez(f, **contents)


@pytest.mark.parametrize("spoil", ["labels out of range", "negative labels",
                                   "pictures of another size", "one picture too few"])
def test_a_cache_that_does_not_fit_its_files_is_rebuilt(tmp_path: Path, spoil: str) -> None:
    root = tmp_path / "cached"
    for name, value in (("dark", 30), ("bright", 220)):
        (root / name).mkdir(parents=True)
        for i in range(4):
            picture("L", value).save(root / name / f"{i}.png")
    cache = tmp_path / "cache"
    first = load_image_folder(root, image_size=SIZE, cache_dir=cache)
    with np.load(next((cache / "image-folders").glob("*.npz"))) as npz:
        images, labels = npz["images"], npz["labels"]
    spoil_cache(cache, **{
        "labels out of range": {"labels": labels + 5},
        "negative labels": {"labels": labels - 1},
        "pictures of another size": {"images": np.zeros((8, 1, SIZE + 1, SIZE + 1), np.uint8)},
        "one picture too few": {"images": images[:-1], "labels": labels[:-1]},
    }[spoil])
    again = load_image_folder(root, image_size=SIZE, cache_dir=cache)
    assert torch.equal(again.train.images, first.train.images)
    assert torch.equal(again.train.labels, first.train.labels)
