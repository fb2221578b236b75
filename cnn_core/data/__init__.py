"""Datasets: what every dataset becomes, the built-ins, folders of pictures, and the one
source that tells them apart."""

from .builtin import DATASETS, DownloadCancelled, dataset_folder, download_dataset, get_info, info_from_dict
from .bundle import (DataBundle, DatasetError, DatasetInfo, Split, denormalize, display_pixels,
                     normalize)
from .source import (BuiltinSource, DatasetSource, FolderSource, PictureSettings, builtins,
                     dataset_name, from_text, is_available, load_dataset, resolve)

__all__ = ["DATASETS", "BuiltinSource", "DataBundle", "DatasetError", "DatasetInfo",
           "DatasetSource", "DownloadCancelled", "FolderSource", "PictureSettings", "Split",
           "builtins", "dataset_folder", "dataset_name", "denormalize", "display_pixels",
           "download_dataset",
           "from_text", "get_info", "info_from_dict", "is_available", "load_dataset",
           "normalize", "resolve"]
