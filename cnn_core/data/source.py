"""Where a dataset comes from: a built-in (bundled, or a torchvision set in the data
folder) or a folder of one's own pictures.

Every question whose answer depends on that -- its name for people, whether it can be
read now and why not, how to read it, which settings apply, what a run records to find it
again -- is asked of a :class:`DatasetSource` made by :func:`resolve`. Nothing else tells
the kinds apart, so a kind added later is one more class here.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from .builtin import (DATASETS, dataset_folder, download_dataset, get_info, is_downloaded,
                      load_builtin)
from .bundle import DataBundle, DatasetError, DatasetInfo, ProgressFn



class TrainConfig(Protocol):
    """The fields of a run's settings (``cnn_core.train.config.TrainConfig``) that say
    which data it reads and how."""

    dataset: str
    data_dir: str | None
    image_size: int
    channels: int
    test_fraction: float
    split: str
    class_names: list[str] | None


Settings = TypeVar("Settings", bound=TrainConfig)


@dataclass(frozen=True)
class PictureSettings:
    """How a folder's pictures become tensors (a built-in ignores them)."""

    image_size: int = 32
    channels: int = 0  # 0: colour if any picture has colour, else greyscale
    test_fraction: float = 0.2
    split: str = "path"  # see TrainConfig.split

    @classmethod
    def of(cls, config: TrainConfig) -> PictureSettings:
        return cls(config.image_size, config.channels, config.test_fraction, config.split)


class DatasetSource(ABC):
    """One dataset, whatever it is read from."""

    name: str  # what a run's config records: a built-in's name or a folder's full path
    display_name: str
    downloadable: bool = False
    has_picture_settings: bool = False  # image size, channels and test fraction apply

    @abstractmethod
    def location(self, data_dir: str | Path | None = None) -> Path:
        """The folder the data is read from (what a person can look at or fill)."""

    @abstractmethod
    def problem(self, data_dir: str | Path | None = None) -> str | None:
        """Why it cannot be read now (a sentence without a capital or a full stop), or
        None when it can."""

    def is_available(self, data_dir: str | Path | None = None) -> bool:
        return self.problem(data_dir) is None

    @abstractmethod
    def describe(self, data_dir: str | Path | None = None) -> str:
        """A sentence or two for the configuration panel."""

    @abstractmethod
    def info(self, config: TrainConfig | None = None) -> DatasetInfo | None:
        """What a model needs to know before loading, if it is known without reading the
        pictures (a folder's: from the classes a run recorded)."""

    @abstractmethod
    def load(self, data_dir: str | Path | None = None, *, settings: PictureSettings = PictureSettings(),
             split_seed: int = 0, download: bool = False, progress: ProgressFn | None = None,
             cancel: threading.Event | None = None) -> DataBundle:
        """Read it whole into CPU memory, normalised; DatasetError says why not."""

    def load_for(self, config: TrainConfig, *, download: bool = False,
                 progress: ProgressFn | None = None,
                 cancel: threading.Event | None = None) -> DataBundle:
        """Read it as ``config`` asks (its data folder and picture settings)."""
        return self.load(config.data_dir, settings=PictureSettings.of(config),
                         download=download, progress=progress, cancel=cancel)

    def download(self, data_dir: str | Path | None = None, *, progress: ProgressFn | None = None,
                 cancel: threading.Event | None = None) -> Path:
        raise DatasetError(f"{self.display_name} is not downloaded: it is read where it is")

    def recorded(self, config: Settings, bundle: DataBundle) -> Settings:
        """``config`` with what a run must record to find this data again as it was."""
        return config

    def input_shape(self, config: TrainConfig) -> tuple[int, int, int] | None:
        info = self.info(config)
        return info.input_shape if info is not None else None

    def num_classes(self, config: TrainConfig) -> int | None:
        info = self.info(config)
        return info.num_classes if info is not None else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class BuiltinSource(DatasetSource):
    """The bundled MNIST sample or a torchvision set."""

    def __init__(self, info: DatasetInfo) -> None:
        self._info = info
        self.name, self.display_name = info.name, info.display_name
        self.downloadable = info.downloadable

    def location(self, data_dir: str | Path | None = None) -> Path:
        return dataset_folder(self.name, data_dir)

    def problem(self, data_dir: str | Path | None = None) -> str | None:
        if is_downloaded(self.name, data_dir):
            return None
        if not self.downloadable:
            return f"the bundled {self.display_name} is missing from {self.location()}"
        return f"{self.display_name} is not in {self.location(data_dir)}: download it first"

    def describe(self, data_dir: str | Path | None = None) -> str:
        if not self.downloadable:
            return f"{self._info.description} Works offline."
        if self.is_available(data_dir):
            return f"{self._info.description} Present in {self.location(data_dir)}."
        return (f"{self._info.description} Not downloaded: press Download, or put the files "
                f"in {self.location(data_dir)}.")

    def info(self, config: TrainConfig | None = None) -> DatasetInfo:
        return self._info

    def load(self, data_dir: str | Path | None = None, *, settings: PictureSettings = PictureSettings(),
             split_seed: int = 0, download: bool = False, progress: ProgressFn | None = None,
             cancel: threading.Event | None = None) -> DataBundle:
        return load_builtin(self.name, data_dir, download=download, progress=progress,
                            cancel=cancel, split_seed=split_seed)

    def download(self, data_dir: str | Path | None = None, *, progress: ProgressFn | None = None,
                 cancel: threading.Event | None = None) -> Path:
        return download_dataset(self.name, data_dir, progress=progress, cancel=cancel)


class FolderSource(DatasetSource):
    """A folder of one's own pictures, one subfolder per class (or train/ and test/ with
    class folders inside). Read-only to us; its decoded pictures are cached in the data
    folder."""

    downloadable = False
    has_picture_settings = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name, self.display_name = str(self.path), self.path.name

    def location(self, data_dir: str | Path | None = None) -> Path:
        return self.path

    def problem(self, data_dir: str | Path | None = None) -> str | None:
        if self.path.is_dir():
            return None
        if self.path.exists():
            return f"{self.path} is a file, not a folder of class folders"
        return f"the folder {self.path} is not there any more"

    def describe(self, data_dir: str | Path | None = None) -> str:
        return f"Pictures in {self.path}."

    def class_names(self) -> tuple[str, ...]:
        """The classes found in the folder now, without decoding anything."""
        from .folders import scan_folder, shown_name

        return tuple(map(shown_name, scan_folder(self.path).class_names))

    def info(self, config: TrainConfig | None = None) -> DatasetInfo | None:
        """Known from a run's record: the classes and channels it was read with (the
        mean and spread come with its checkpoint)."""
        if config is None or not config.channels:
            return None
        channels = config.channels
        return DatasetInfo(self.name, self.display_name, "", channels, config.image_size,
                           tuple(config.class_names or ()), (0.5,) * channels,
                           (0.5,) * channels)

    def load(self, data_dir: str | Path | None = None, *, settings: PictureSettings = PictureSettings(),
             split_seed: int = 0, download: bool = False, progress: ProgressFn | None = None,
             cancel: threading.Event | None = None) -> DataBundle:
        from .folders import load_image_folder

        return load_image_folder(self.path, image_size=settings.image_size,
                                 channels=settings.channels,
                                 test_fraction=settings.test_fraction, split_seed=split_seed,
                                 split=settings.split,
                                 cache_dir=data_dir, progress=progress, cancel=cancel)

    def recorded(self, config: Settings, bundle: DataBundle) -> Settings:
        return dataclasses.replace(config, class_names=list(bundle.info.class_names),
                                   channels=bundle.info.in_channels)

    def input_shape(self, config: TrainConfig) -> tuple[int, int, int] | None:
        if not config.channels:
            return None  # decided when the pictures are read
        return (config.channels, config.image_size, config.image_size)

    def num_classes(self, config: TrainConfig) -> int | None:
        return len(config.class_names) if config.class_names else None


def builtins() -> list[BuiltinSource]:
    """The built-in datasets, in the order people see them."""
    return [BuiltinSource(info) for info in DATASETS.values()]


def resolve(what: TrainConfig | DatasetInfo | str) -> DatasetSource:
    """The source of a dataset named by a config, a dataset's description or its recorded
    name (a built-in's name or a folder's full path); ValueError says why it is neither."""
    name = what if isinstance(what, str) else (
        what.name if isinstance(what, DatasetInfo) else what.dataset)
    if not isinstance(name, str):
        raise ValueError(f"unknown dataset {name!r}")
    try:
        return BuiltinSource(get_info(name))
    except ValueError:
        pass
    if os.path.isabs(name):
        return FolderSource(name)
    raise ValueError(f"unknown dataset {name!r} (choose {', '.join(DATASETS)} or an image "
                     "folder's full path)")


def from_text(text: str) -> DatasetSource:
    """What a person typed (a built-in's name, or a folder, relative or with ``~``) as a
    source; ValueError says why it is neither."""
    if text in DATASETS:
        return resolve(text)
    path = Path(text).expanduser()
    if path.is_dir():
        return FolderSource(path.resolve())
    if path.exists():
        raise ValueError(f"{text} is a file, not a folder of class folders")
    raise ValueError(f"{text} is neither a dataset ({', '.join(DATASETS)}) "
                     "nor an existing folder")


def dataset_name(text: str) -> str:
    """What a person typed as a dataset -> the name a config records."""
    return from_text(text).name


def is_available(name: str, root: str | Path | None = None) -> bool:
    """True when the dataset can be loaded without the network."""
    return resolve(name).is_available(root)


def load_dataset(name: str, root: str | Path | None = None, *, download: bool = False,
                 progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                 split_seed: int = 0, image_size: int = 32, channels: int = 0,
                 test_fraction: float = 0.2) -> DataBundle:
    """Load a whole dataset (a built-in's name or a folder's full path) into CPU memory,
    normalised; see :meth:`DatasetSource.load`."""
    return resolve(name).load(root, settings=PictureSettings(image_size, channels, test_fraction),
                              split_seed=split_seed, download=download, progress=progress,
                              cancel=cancel)
