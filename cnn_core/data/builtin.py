"""The built-in datasets: the registry, the bundled sample and the torchvision sets with
their downloads, as whole in-memory tensors (:mod:`.source` decides built-in or folder).

Every dataset is loaded once, normalised once and moved to the device once; a batch is
an index slice of a seeded permutation. That replaces a ``DataLoader`` with per-sample
transforms, which costs more than the small networks here take to train.

``mnist-sample`` (5,000 real MNIST digits) ships with the project and needs no network.
The torchvision datasets live in a data folder and are fetched only on request, with
progress reported and cancellation honoured.
"""

from __future__ import annotations

import hashlib
import threading
import urllib.error
from pathlib import Path

import numpy as np
import torch

from .bundle import DataBundle, DatasetError, DatasetInfo, ProgressFn, Split, normalize
from .fetch import DownloadCancelled, fetch
from ..paths import bundled_sample_path, default_data_dir
from ..runs.atomic import make_folder

DIGITS = tuple(str(d) for d in range(10))


_MNIST_NORM = ((0.1307,), (0.3081,))

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("mnist-sample", "MNIST sample (bundled)",
                    "5,000 real MNIST digits shipped with CNN Studio; 4,000 train / 1,000 test.",
                    1, 28, DIGITS, *_MNIST_NORM),
        DatasetInfo("mnist", "MNIST", "70,000 handwritten digits (60k train / 10k test).",
                    1, 28, DIGITS, *_MNIST_NORM, torchvision_class="MNIST"),
        DatasetInfo("fashion-mnist", "Fashion-MNIST",
                    "70,000 Zalando clothing images in 10 classes.", 1, 28,
                    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                     "Sneaker", "Bag", "Ankle boot"),
                    (0.2860,), (0.3530,), torchvision_class="FashionMNIST"),
        DatasetInfo("kmnist", "Kuzushiji-MNIST",
                    "70,000 cursive Japanese (hiragana) characters in 10 classes.", 1, 28,
                    ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
                    (0.1918,), (0.3483,), torchvision_class="KMNIST"),
        DatasetInfo("cifar10", "CIFAR-10", "60,000 32x32 colour photos in 10 classes.", 3, 32,
                    ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                     "ship", "truck"),
                    (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
                    torchvision_class="CIFAR10"),
    )
}


def get_info(name: str) -> DatasetInfo:
    """A built-in dataset's description (a folder's is known once it is loaded)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}") from None


def info_from_dict(data: dict) -> DatasetInfo:
    """The inverse of ``dataclasses.asdict`` on a :class:`DatasetInfo` (as checkpoints
    hold it)."""
    return DatasetInfo(**{**data, "class_names": tuple(data["class_names"]),
                          "mean": tuple(data["mean"]), "std": tuple(data["std"]),
                          "class_counts": tuple(data.get("class_counts", ()))})


# --- the bundled sample ---------------------------------------------------------------

def stratified_split(labels: np.ndarray, test_per_class: int, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded train/test split that keeps every class equally represented."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        test.append(idx[:test_per_class])
        train.append(idx[test_per_class:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _load_sample(info: DatasetInfo, split_seed: int) -> DataBundle:
    path = bundled_sample_path()
    if not path.is_file():
        raise DatasetError(f"the bundled MNIST sample is missing: expected {path}")
    with np.load(path, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    train_idx, test_idx = stratified_split(labels, test_per_class=100, seed=split_seed)
    x = normalize(torch.from_numpy(images).unsqueeze(1), info)
    y = torch.from_numpy(labels.astype(np.int64))
    return DataBundle(info, Split(x[train_idx], y[train_idx]), Split(x[test_idx], y[test_idx]))


# --- torchvision datasets -------------------------------------------------------------

def _tv_class(info: DatasetInfo) -> type:
    import torchvision.datasets as tvd

    return getattr(tvd, info.torchvision_class)


def dataset_folder(name: str, root: str | Path | None = None) -> Path:
    """The folder torchvision reads a dataset from (what a person can fill by hand)."""
    info = get_info(name)
    root = Path(root) if root is not None else default_data_dir()
    if not info.downloadable:
        return bundled_sample_path().parent
    if info.torchvision_class == "CIFAR10":
        return root / "cifar-10-batches-py"
    return root / info.torchvision_class / "raw"


# The files torchvision reads (the tests check them against torchvision's own lists): known
# here, because importing torchvision to ask whether a set is downloaded costs 2 s.
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")
_CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def expected_files(info: DatasetInfo) -> list[str]:
    return list(_CIFAR10_FILES if info.torchvision_class == "CIFAR10" else _IDX_FILES)


def is_downloaded(name: str, root: str | Path | None = None) -> bool:
    """True when the built-in dataset can be loaded without the network."""
    info = get_info(name)
    if not info.downloadable:
        return bundled_sample_path().is_file()
    folder = dataset_folder(name, root)
    return all((folder / f).is_file() for f in expected_files(info))


def _load_torchvision(info: DatasetInfo, root: Path) -> DataBundle:
    if not is_downloaded(info.name, root):
        raise DatasetError(
            f"{info.display_name} is not in {dataset_folder(info.name, root)}. Download it "
            "(the Download button in the app, or --download on the command line), "
            f"or put these files there: {', '.join(expected_files(info))}."
        )
    cls = _tv_class(info)
    splits = []
    for train in (True, False):
        try:
            ds = cls(str(root), train=train, download=False)
        except Exception as exc:  # torchvision's readers fail in many ways on damaged files
            reason = str(exc).strip() or ("a file is not in the format it should be"
                                          if isinstance(exc, AssertionError)
                                          else type(exc).__name__)
            raise DatasetError(
                f"{info.display_name} in {dataset_folder(info.name, root)} is damaged "
                f"({reason}); delete the folder and download it again."
            ) from None
        data = torch.as_tensor(np.asarray(ds.data))
        # MNIST-style data is (N, H, W); CIFAR is (N, H, W, C).
        data = data.unsqueeze(1) if data.ndim == 3 else data.permute(0, 3, 1, 2)
        labels = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
        splits.append(Split(normalize(data.contiguous(), info), labels))
    return DataBundle(info, *splits)


def load_builtin(name: str, root: str | Path | None = None, *, download: bool = False,
                 progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                 split_seed: int = 0) -> DataBundle:
    """Load a built-in dataset into CPU memory, normalised.

    A torchvision dataset missing from ``root`` is fetched only if ``download`` is true;
    otherwise a :class:`DatasetError` names the folder and the files to put there.
    """
    info = get_info(name)
    if not info.downloadable:
        return _load_sample(info, split_seed)
    root = Path(root) if root is not None else default_data_dir()
    if download and not is_downloaded(name, root):
        download_dataset(name, root, progress=progress, cancel=cancel)
    return _load_torchvision(info, root)


def download_dataset(name: str, root: str | Path | None = None, *,
                     progress: ProgressFn | None = None,
                     cancel: threading.Event | None = None) -> Path:
    """Fetch a torchvision dataset into ``root`` and unpack it where torchvision looks."""
    from torchvision.datasets.utils import extract_archive

    info = get_info(name)
    if not info.downloadable:
        raise DatasetError(f"{info.display_name} is bundled and needs no download")
    root = Path(root) if root is not None else default_data_dir()
    cls = _tv_class(info)
    # (urls to try in order, file name, md5, folder to unpack into)
    if info.torchvision_class == "CIFAR10":
        files = [([cls.url], cls.filename, cls.tgz_md5, root)]
    else:
        raw = root / info.torchvision_class / "raw"
        files = [([m + fname for m in cls.mirrors], fname, md5, raw) for fname, md5 in cls.resources]
    try:
        for urls, fname, md5, folder in files:
            make_folder(folder)
            archive = folder / fname
            errors = []
            for url in urls:
                try:
                    fetch(url, archive, hashlib.md5, md5, progress, cancel)
                    break
                except DownloadCancelled:
                    raise
                except (urllib.error.URLError, OSError, DatasetError) as exc:
                    errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
            else:
                raise DatasetError(
                    f"could not download {info.display_name} ({fname}): {'; '.join(errors)}. "
                    f"Check the network, or put the files by hand into {dataset_folder(name, root)}."
                )
            if progress is not None:
                progress(0, None, f"unpacking {fname}")
            extract_archive(str(archive), str(folder), remove_finished=True)
    except PermissionError as exc:
        raise DatasetError(f"cannot write to the data folder {root}: {exc}") from None
    return dataset_folder(name, root)
