"""A folder of pictures as a dataset, laid out like ``torchvision.datasets.ImageFolder``.

``ROOT/<class>/<image>`` (a seeded, stratified split holds out a test fraction), or
``ROOT/train/<class>/...`` with ``ROOT/test/<class>/...`` (or ``val/``). Pillow decodes
and resizes every picture once, on a few threads; the uint8 result is cached under the
data folder, keyed by the files' paths, sizes and times, so an unchanged folder loads
again in a fraction of a second. Nothing is ever written into the person's folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .bundle import DataBundle, DatasetError, DatasetInfo, ProgressFn, Split, normalize
from ..runs.atomic import atomic_write, make_folder
from .pillow_notes import TOO_LARGE, PillowNotes, too_large_reason

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
CACHE_VERSION = 3
_COLOUR_SPREAD = 8  # a picture whose channels differ by more than this anywhere has colour
_NAMED_SKIPS = 5  # how many skipped files a warning names


class DecodeCancelled(DatasetError):
    """The person cancelled reading a folder."""


@dataclass(frozen=True)
class FolderScan:
    """What a folder holds, found without decoding anything."""

    root: Path
    class_names: tuple[str, ...]
    files: tuple[tuple[str, int, bool], ...]  # (path relative to root, class, is a test file)
    stats: tuple[tuple[int, int], ...]  # (size, mtime in ns) of every file
    presplit: bool  # the folder has train/ and test/ (or val/)

    def fingerprint(self) -> str:
        """Changes when any file is added, removed, resized or touched."""
        digest = hashlib.sha256()
        for (rel, label, test), (size, mtime) in zip(self.files, self.stats):
            digest.update(os.fsencode(f"{rel}\0{label}\0{test}\0{size}\0{mtime}\n"))
        return digest.hexdigest()


def shown_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by ``os.fsdecode`` as
    surrogates, so the file can still be opened) become replacement characters."""
    return os.fsencode(name).decode("utf-8", "replace")


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def _files_under(folder: str, prefix: int) -> Iterator[tuple[str, int, int]]:
    """(path relative to the root, size, mtime) of every visible file, in name order;
    ``prefix`` is the length of the root's path and its separator."""
    entries = sorted((e for e in os.scandir(folder) if not e.name.startswith(".")),
                     key=lambda e: e.name)
    for entry in entries:
        if entry.is_dir():
            yield from _files_under(entry.path, prefix)
        elif entry.is_file():
            st = entry.stat()
            yield entry.path[prefix:], st.st_size, st.st_mtime_ns


def scan_folder(root: str | Path) -> FolderScan:
    """List a folder's classes and files; refuse (:class:`DatasetError`) a path that is
    not a folder or a folder with fewer than two classes."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetError(f"{root} does not exist")
    if not root.is_dir():
        raise DatasetError(f"{root} is a file, not a folder of class folders")
    try:
        top = {p.name.lower(): p for p in _visible_dirs(root)}
        test_dir = top.get("test") or top.get("val")
        presplit = "train" in top and test_dir is not None
        parts = [(top["train"], False), (test_dir, True)] if presplit else [(root, False)]
        class_dirs = {d.name for d in _visible_dirs(parts[0][0])}
        names = tuple(sorted(class_dirs))
        if len(names) < 2:
            where = parts[0][0]
            raise DatasetError(
                f"{where} has {len(names) or 'no'} class folder{'s' if len(names) != 1 else ''}; "
                "a dataset needs at least two (ROOT/<class>/<image>)")
        if presplit:
            unknown = sorted(d.name for d in _visible_dirs(test_dir) if d.name not in class_dirs)
            if unknown:
                raise DatasetError(f"{test_dir} has classes that {parts[0][0]} lacks: "
                                   f"{', '.join(unknown[:5])}")
        files, stats = [], []
        prefix = len(os.path.join(str(root), ""))
        for folder, is_test in parts:
            for label, name in enumerate(names):
                class_dir = folder / name
                if class_dir.is_dir():
                    for rel, size, mtime in _files_under(str(class_dir), prefix):
                        files.append((rel, label, is_test))
                        stats.append((size, mtime))
    except PermissionError as exc:
        raise DatasetError(f"cannot read {exc.filename}: permission denied") from None
    return FolderScan(root.resolve(), names, tuple(files), tuple(stats), presplit)


def read_image(path: str | Path, size: int) -> np.ndarray:
    """One picture as (size, size, 3) uint8 RGB: any format and size Pillow reads, turned
    upright by its EXIF tag, transparency on white, resized whole (not cropped).

    Raises OSError (or ValueError) for a file that is not a readable image.
    """
    with Image.open(path) as image:
        image.draft("RGB", (size, size))  # JPEG: decode straight at a smaller scale
        image = _eight_bit(ImageOps.exif_transpose(image))
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.new("RGBA", rgba.size, "white")
            image.alpha_composite(rgba)
        image = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
        return np.array(image, dtype=np.uint8)


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and floating-point greyscale as 8-bit by their real range
    (Pillow's own conversion clips them: a 16-bit picture turns white). Raises ValueError
    for values outside that range."""
    if image.mode.startswith("I;16"):
        scaled = np.asarray(image, dtype=np.float32) * (255 / 65535)
    elif image.mode == "I":
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ValueError("a 32-bit integer picture with values outside 0-65535")
        scaled = values.astype(np.float32) * (255 / 65535)
    elif image.mode == "F":
        values = np.asarray(image)
        if values.size and not (np.isfinite(values).all() and 0 <= values.min()
                                and values.max() <= 1):
            raise ValueError("a floating-point picture with values outside 0-1")
        scaled = values * 255
    else:
        return image
    return Image.fromarray(np.round(scaled).astype(np.uint8))


def has_colour(pictures: np.ndarray) -> bool:
    """Whether any of the (N, H, W, 3) pictures is more than grey."""
    spread = pictures.max(axis=3).astype(np.int16) - pictures.min(axis=3)
    return bool((spread > _COLOUR_SPREAD).any())


def to_channels(pictures: np.ndarray, channels: int) -> torch.Tensor:
    """(N, H, W, 3) uint8 RGB -> (N, channels, H, W) uint8, greyscale by torchvision's
    luminance weights when ``channels`` is 1 (its rgb_to_grayscale, op for op, without
    importing torchvision)."""
    tensor = torch.from_numpy(np.ascontiguousarray(pictures)).permute(0, 3, 1, 2)
    if channels == 1:
        r, g, b = tensor.unbind(dim=1)
        grey = r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114)
        tensor = grey.to(tensor.dtype).unsqueeze(1)
    return tensor.contiguous()


@dataclass
class _Decoded:
    """The cached result of decoding a scan: pictures of the files that could be read."""

    images: np.ndarray  # (N, C, S, S) uint8
    files: np.ndarray  # (N,) int64: which of the scan's files each picture is
    labels: np.ndarray  # (N,) int64
    is_test: np.ndarray  # (N,) bool
    skipped: list[str]  # "relative/path (reason)" of every file that could not be read
    noted: list[str]  # "relative/path (what Pillow warned)" of pictures read all the same


def _decode(scan: FolderScan, size: int, channels: int, progress: ProgressFn | None,
            cancel: threading.Event | None) -> _Decoded:
    total = len(scan.files)
    pictures = np.empty((total, size, size, 3), np.uint8)
    readable = np.zeros(total, bool)
    skipped: list[str] = []

    def one(i: int) -> tuple[int, str | None]:
        if cancel is not None and cancel.is_set():
            return i, None
        rel = scan.files[i][0]
        try:
            with notes.reading(shown_name(rel)):
                pictures[i] = read_image(scan.root / rel, size)
            readable[i] = True
            return i, None
        except UnidentifiedImageError:
            kind = "damaged" if rel.lower().endswith(IMAGE_SUFFIXES) else "not a picture"
            return i, f"{shown_name(rel)} ({kind})"
        except TOO_LARGE:
            return i, f"{shown_name(rel)} ({too_large_reason()})"
        except Exception as exc:  # Pillow raises many kinds for files it cannot read
            reason = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
            return i, f"{shown_name(rel)} ({reason})"

    workers = max(1, min(8, os.cpu_count() or 1))
    with PillowNotes() as notes, ThreadPoolExecutor(workers, thread_name_prefix="decode") as pool:
        for done, (_i, problem) in enumerate(pool.map(one, range(total)), 1):
            if problem is not None:
                skipped.append(problem)
            if progress is not None and (done % 64 == 0 or done == total):
                progress(done, total, f"reading {scan.root.name}")
            if cancel is not None and cancel.is_set():
                pool.shutdown(wait=True, cancel_futures=True)
                raise DecodeCancelled(f"reading {scan.root} was cancelled")
    keep = np.flatnonzero(readable)
    labels = np.array([scan.files[i][1] for i in keep], np.int64)
    is_test = np.array([scan.files[i][2] for i in keep], bool)
    if channels == 0:
        channels = 3 if has_colour(pictures[keep]) else 1
    images = to_channels(pictures[keep], channels).numpy()
    return _Decoded(images, keep.astype(np.int64), labels, is_test, skipped, sorted(notes.notes))


def _cache_path(cache_dir: Path, scan: FolderScan, size: int, channels: int) -> Path:
    key = hashlib.sha256(f"{scan.root}\0{size}\0{channels}".encode()).hexdigest()[:24]
    return cache_dir / "image-folders" / f"{key}.npz"


def _read_cache(path: Path, fingerprint: str, scan: FolderScan, size: int,
                channels: int) -> _Decoded | None:
    """The cached pictures, if the file is there, whole, made from these files, and
    shaped as they must be (anything else is decoded again)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            if meta.get("version") != CACHE_VERSION or meta.get("fingerprint") != fingerprint:
                return None
            decoded = _Decoded(npz["images"], npz["files"], npz["labels"], npz["is_test"],
                               list(meta["skipped"]), list(meta["noted"]))
    except Exception:  # missing, stale or damaged: decode again
        return None
    return decoded if _fits(decoded, scan, size, channels) else None


def _fits(decoded: _Decoded, scan: FolderScan, size: int, channels: int) -> bool:
    """Whether ``decoded`` can be ``scan``'s pictures: one file (in order), one label in
    range and one split flag per picture, a picture per file not skipped, each
    (channels, size, size) uint8."""
    images, labels, is_test, files = decoded.images, decoded.labels, decoded.is_test, decoded.files
    n = len(labels)
    return (images.dtype == np.uint8 and images.ndim == 4 and images.shape[0] == n
            and files.dtype == np.int64 and files.shape == (n,)
            and (n == 0 or (files[0] >= 0 and files[-1] < len(scan.files)
                            and bool((np.diff(files) > 0).all())))
            and images.shape[1] in ((1, 3) if channels == 0 else (channels,))
            and images.shape[2:] == (size, size)
            and labels.dtype == np.int64 and labels.shape == (n,)
            and is_test.dtype == bool and is_test.shape == (n,)
            and n + len(decoded.skipped) == len(scan.files)
            and (n == 0 or (labels.min() >= 0 and labels.max() < len(scan.class_names))))


def _write_cache(path: Path, fingerprint: str, decoded: _Decoded) -> None:
    meta = json.dumps({"version": CACHE_VERSION, "fingerprint": fingerprint,
                       "skipped": decoded.skipped, "noted": decoded.noted})
    buffer = io.BytesIO()
    np.savez(buffer, images=decoded.images, files=decoded.files, labels=decoded.labels,
             is_test=decoded.is_test, meta=np.array(meta))
    try:
        make_folder(path.parent)
        atomic_write(path, lambda f: f.write(buffer.getbuffer()))
    except OSError:
        pass  # a cache that cannot be written only costs the next load its speed


def split_by_path(paths: list[str], labels: np.ndarray, fraction: float, seed: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/test split where a picture is held out when a seeded hash of its
    path (relative to the folder) falls below ``fraction``: adding or removing pictures
    moves no other. A class of two or more keeps one picture on each side at least (its
    lowest hash held out, its highest trained on)."""
    key = seed.to_bytes(8, "little")
    hashes = np.array([int.from_bytes(hashlib.blake2b(os.fsencode(p), digest_size=8,
                                                      key=key).digest(), "little")
                       for p in paths], np.uint64)
    test = hashes / 2.0**64 < fraction
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        if len(idx) < 2:
            test[idx] = False
            continue
        if not test[idx].any():
            test[idx[np.argmin(hashes[idx])]] = True
        if test[idx].all():
            test[idx[np.argmax(hashes[idx])]] = False
    return np.flatnonzero(~test), np.flatnonzero(test)


def split_by_fraction(labels: np.ndarray, fraction: float, seed: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded train/test split holding out ``fraction`` of every class (at
    least one picture of a class that has two or more): the rule of runs recorded before
    :func:`split_by_path`, kept so that they go on with the split they began with."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_test = min(max(1, round(fraction * len(idx))), len(idx) - 1) if len(idx) > 1 else 0
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_image_folder(root: str | Path, *, image_size: int = 32, channels: int = 0,
                      test_fraction: float = 0.2, split_seed: int = 0, split: str = "path",
                      cache_dir: str | Path | None = None, progress: ProgressFn | None = None,
                      cancel: threading.Event | None = None) -> DataBundle:
    """Load a folder of pictures, normalised with its own training pictures' mean and
    standard deviation. Files that are not readable pictures are skipped and named in
    ``bundle.warnings``; a class left with none is refused (:class:`DatasetError`)."""
    from ..paths import default_data_dir

    scan = scan_folder(root)
    cache = _cache_path(Path(cache_dir) if cache_dir else default_data_dir(), scan,
                        image_size, channels)
    fingerprint = scan.fingerprint()
    decoded = _read_cache(cache, fingerprint, scan, image_size, channels)
    if decoded is None:
        decoded = _decode(scan, image_size, channels, progress, cancel)
        _write_cache(cache, fingerprint, decoded)
    counts = np.bincount(decoded.labels, minlength=len(scan.class_names))
    empty = [name for name, n in zip(scan.class_names, counts) if n == 0]
    if empty:
        raise DatasetError(f"the class {empty[0]!r} in {scan.root} has no readable image"
                           + (f" (nor do {', '.join(empty[1:4])})" if len(empty) > 1 else ""))
    if scan.presplit:
        train_idx, test_idx = np.flatnonzero(~decoded.is_test), np.flatnonzero(decoded.is_test)
    elif split == "path":
        train_idx, test_idx = split_by_path([scan.files[i][0] for i in decoded.files],
                                            decoded.labels, test_fraction, split_seed)
    elif split == "shuffle":
        train_idx, test_idx = split_by_fraction(decoded.labels, test_fraction, split_seed)
    else:
        raise DatasetError(f"unknown split rule {split!r} (this version knows path and shuffle)")
    if len(test_idx) == 0 or len(train_idx) == 0:
        raise DatasetError(f"{scan.root} has too few pictures to hold some out for testing")
    images, labels = torch.from_numpy(decoded.images), torch.from_numpy(decoded.labels)
    train, test = images[train_idx], images[test_idx]
    info = folder_info(scan, train, counts)
    return DataBundle(info, Split(normalize(train, info), labels[train_idx]),
                      Split(normalize(test, info), labels[test_idx]),
                      warnings=picture_warnings(decoded.skipped, decoded.noted))


def folder_info(scan: FolderScan, train_images: torch.Tensor, counts: np.ndarray) -> DatasetInfo:
    """A folder's description, with the mean and spread of its training pictures."""
    channels, size = int(train_images.shape[1]), int(train_images.shape[2])
    levels = np.arange(256) / 255.0
    mean, std = [], []
    for c in range(channels):  # exact, from each channel's histogram of its 256 levels
        counts_c = np.bincount(train_images[:, c].numpy().ravel(), minlength=256)
        m = float(counts_c @ levels / counts_c.sum())
        mean.append(round(m, 4))
        std.append(round(max(float(np.sqrt(counts_c @ (levels - m) ** 2 / counts_c.sum())),
                             1e-3), 4))
    kind = "colour" if channels == 3 else "greyscale"
    return DatasetInfo(str(scan.root), shown_name(scan.root.name),
                       f"{int(counts.sum()):,} {kind} pictures in {len(scan.class_names)} classes "
                       f"from {shown_name(str(scan.root))}, resized to {size}x{size}.",
                       channels, size, tuple(map(shown_name, scan.class_names)), tuple(mean),
                       tuple(std), class_counts=tuple(int(n) for n in counts))


def picture_warnings(skipped: list[str], noted: list[str]) -> tuple[str, ...]:
    """What a person should know of the pictures: those skipped, and those read although
    Pillow warned about them, each naming its first few files."""
    said = []
    for files, one, many in ((skipped, "skipped 1 file that is not a readable picture",
                              "skipped {} files that are not readable pictures"),
                             (noted, "read 1 picture that Pillow warned about",
                              "read {} pictures that Pillow warned about")):
        if files:
            named = "; ".join(files[:_NAMED_SKIPS])
            more = f"; and {len(files) - _NAMED_SKIPS} more" if len(files) > _NAMED_SKIPS else ""
            said.append(f"{one if len(files) == 1 else many.format(len(files))}: {named}{more}")
    return tuple(said)
