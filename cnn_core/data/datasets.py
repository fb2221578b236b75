"""The dataset names as they were always imported: the built-ins' registry and loaders
(:mod:`.builtin`), and the functions that take any dataset (:mod:`.source`)."""

from .builtin import (DATASETS, DIGITS, DownloadCancelled, dataset_folder,  # noqa: F401
                      download_dataset, get_info, info_from_dict)
from .bundle import (DataBundle, DatasetError, DatasetInfo, ProgressFn, Split,  # noqa: F401
                     denormalize, normalize)
from .source import dataset_name, is_available, load_dataset  # noqa: F401
