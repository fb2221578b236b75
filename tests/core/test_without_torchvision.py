"""What the engine knows without importing torchvision (whose import costs the window's start
about two seconds), checked against torchvision itself as the oracle."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torchvision import datasets as tvd
from torchvision.transforms.functional import gaussian_blur
from torchvision.transforms.v2.functional import rgb_to_grayscale

from cnn_core.data.datasets import DATASETS, dataset_folder, is_available
from cnn_core.data.folders import to_channels
from cnn_core.inspect.activation_max import BLUR_SIGMA, _blur

TORCHVISION_SETS = [name for name, info in DATASETS.items() if info.downloadable]


def torchvision_files(name: str) -> list[str]:
    cls = getattr(tvd, DATASETS[name].torchvision_class)
    if hasattr(cls, "train_list"):
        return [file for file, _ in cls.train_list + cls.test_list]
    return [os.path.splitext(file)[0] for file, _ in cls.resources]


@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (2, 3, 32, 32), (1, 1, 3, 3)])
def test_the_blur_is_torchvisions_gaussian_blur(shape: tuple[int, ...]) -> None:
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    expected = gaussian_blur(x, [3, 3], [BLUR_SIGMA, BLUR_SIGMA])
    torch.testing.assert_close(_blur(x, BLUR_SIGMA), expected, rtol=0, atol=1e-6)


def test_grey_pictures_are_torchvisions_rgb_to_grayscale() -> None:
    pictures = np.random.default_rng(0).integers(0, 256, (5, 9, 7, 3), dtype=np.uint8)
    expected = rgb_to_grayscale(torch.from_numpy(pictures).permute(0, 3, 1, 2))
    assert torch.equal(to_channels(pictures, 1), expected)
    assert torch.equal(to_channels(pictures, 3), torch.from_numpy(pictures).permute(0, 3, 1, 2))


@pytest.mark.parametrize("name", TORCHVISION_SETS)
def test_a_set_is_available_when_every_file_torchvision_reads_is_there(tmp_path,
                                                                       name: str) -> None:
    assert TORCHVISION_SETS  # the registry still has sets to download
    folder = dataset_folder(name, tmp_path)
    folder.mkdir(parents=True)
    files = torchvision_files(name)
    for file in files:
        (folder / file).write_bytes(b"")
    assert is_available(name, tmp_path)
    (folder / files[-1]).unlink()
    assert not is_available(name, tmp_path)
