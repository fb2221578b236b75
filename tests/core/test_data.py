"""Datasets: the bundled sample, torchvision folders made by the test, downloads faked."""

from __future__ import annotations

import threading
import urllib.error

import numpy as np
import pytest
import torch

from cnn_core.data import builtin as data_mod
from cnn_core.data.builtin import stratified_split
from cnn_core.data.datasets import (DATASETS, DatasetError, DownloadCancelled, dataset_folder,
                                    download_dataset, is_available, load_dataset)
from tests.idx import idx_files, install_fake_mirror, write_mnist_folder


def test_registry_names() -> None:
    assert {"mnist-sample", "mnist", "fashion-mnist", "kmnist", "cifar10"} <= set(DATASETS)
    assert DATASETS["cifar10"].input_shape == (3, 32, 32)
    assert not DATASETS["mnist-sample"].downloadable


def test_bundled_sample_is_real_stratified_and_normalised() -> None:
    b = load_dataset("mnist-sample")
    assert (len(b.train), len(b.test)) == (4000, 1000)
    assert b.train.images.shape == (4000, 1, 28, 28) and b.train.images.dtype == torch.float32
    assert torch.bincount(b.test.labels).tolist() == [100] * 10
    assert torch.bincount(b.train.labels).tolist() == [400] * 10
    assert abs(b.train.images.mean().item()) < 0.05 and abs(b.train.images.std().item() - 1) < 0.05
    again = load_dataset("mnist-sample")
    assert torch.equal(b.test.labels, again.test.labels)  # seeded split
    assert is_available("mnist-sample")


def test_stratified_split_depends_on_seed_only() -> None:
    labels = np.repeat(np.arange(3), 10)
    a = stratified_split(labels, 2, seed=1)
    assert np.array_equal(a[1], stratified_split(labels, 2, seed=1)[1])
    assert not np.array_equal(a[1], stratified_split(labels, 2, seed=2)[1])
    assert np.bincount(labels[a[1]]).tolist() == [2, 2, 2]
    assert set(a[0]).isdisjoint(a[1])


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST"),
                                         ("kmnist", "KMNIST")])
def test_loads_a_torchvision_folder_offline(tmp_path, name: str, folder: str) -> None:
    raw = write_mnist_folder(tmp_path, folder)
    assert dataset_folder(name, tmp_path) == raw
    assert is_available(name, tmp_path)
    b = load_dataset(name, tmp_path)
    assert b.train.images.shape == (30, 1, 28, 28) and len(b.test) == 10
    assert b.train.labels.tolist() == [i % 10 for i in range(30)]
    info = DATASETS[name]
    expected = (torch.from_numpy(np.frombuffer(idx_files()["train-images-idx3-ubyte"][16:],
                                               np.uint8).copy()).float() / 255 - info.mean[0])
    torch.testing.assert_close(b.train.images.flatten(), expected / info.std[0])


def test_missing_dataset_names_the_folder_and_the_files(tmp_path) -> None:
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", tmp_path)
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "train-images-idx3-ubyte" in message


def test_damaged_dataset_is_reported(tmp_path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for fname in idx_files():
        (raw / fname).write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="damaged"):
        load_dataset("mnist", tmp_path)


@pytest.fixture
def fake_mirror(monkeypatch):
    return install_fake_mirror(monkeypatch)


def test_download_falls_back_to_the_next_mirror_reports_progress_and_loads(tmp_path,
                                                                            fake_mirror) -> None:
    events = []
    assert not is_available("mnist", tmp_path)
    b = load_dataset("mnist", tmp_path, download=True,
                     progress=lambda done, total, msg: events.append((done, total, msg)))
    assert len(b.train) == 30
    assert any(msg == "train-images-idx3-ubyte.gz" and done == total for done, total, msg in events)
    assert any(u.startswith("https://b.invalid/") for u in fake_mirror)
    assert not list((tmp_path / "MNIST" / "raw").glob("*.gz"))  # archives unpacked and removed


def test_cancelled_download_leaves_no_partial_files(tmp_path, fake_mirror) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelled):
        download_dataset("mnist", tmp_path, cancel=cancel)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch) -> None:
    def offline(request, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data_mod.urllib.request, "urlopen", offline)
    with pytest.raises(DatasetError) as err:
        download_dataset("fashion-mnist", tmp_path)
    assert "could not download Fashion-MNIST" in str(err.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in str(err.value)
