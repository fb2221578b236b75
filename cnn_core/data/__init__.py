"""Datasets: the registry, the bundled sample, torchvision sets and their downloads."""

from .datasets import (DATASETS, DataBundle, DatasetError, DatasetInfo, DownloadCancelled, Split,
                       dataset_folder, denormalize, download_dataset, get_info, info_from_dict,
                       is_available, is_folder_name, load_dataset, normalize)

__all__ = ["DATASETS", "DataBundle", "DatasetError", "DatasetInfo", "DownloadCancelled", "Split",
           "dataset_folder", "denormalize", "download_dataset", "get_info", "info_from_dict",
           "is_available", "is_folder_name", "load_dataset", "normalize"]
