"""Tiny datasets in torchvision's on-disk formats, made by the tests (never downloaded)."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import urllib.error
from pathlib import Path

import numpy as np


def idx_images(images: np.ndarray) -> bytes:
    n, h, w = images.shape
    return struct.pack(">HBBIII", 0, 0x08, 3, n, h, w) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">HBBI", 0, 0x08, 1, len(labels)) + labels.astype(np.uint8).tobytes()


def idx_files(n_train: int = 30, n_test: int = 10) -> dict[str, bytes]:
    """The four MNIST-layout IDX files, with random pixels and cycling labels."""
    rng = np.random.default_rng(0)
    return {
        "train-images-idx3-ubyte": idx_images(rng.integers(0, 256, (n_train, 28, 28))),
        "train-labels-idx1-ubyte": idx_labels(np.arange(n_train) % 10),
        "t10k-images-idx3-ubyte": idx_images(rng.integers(0, 256, (n_test, 28, 28))),
        "t10k-labels-idx1-ubyte": idx_labels(np.arange(n_test) % 10),
    }


def write_mnist_folder(root: Path, folder: str = "MNIST", **sizes: int) -> Path:
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, content in idx_files(**sizes).items():
        (raw / name).write_bytes(content)
    return raw


class FakeResponse(io.BytesIO):
    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.headers = {"Content-Length": str(len(content))}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def install_fake_mirror(monkeypatch) -> list[str]:
    """Serve gzipped IDX files from memory instead of the MNIST mirrors; the first mirror
    is down. Returns the list of requested URLs."""
    import torchvision.datasets as tvd

    from cnn_core.data import builtin as data_mod

    files = {f + ".gz": gzip.compress(c) for f, c in idx_files().items()}
    monkeypatch.setattr(tvd.MNIST, "mirrors", ["https://mirror.invalid/a/", "https://b.invalid/"])
    monkeypatch.setattr(tvd.MNIST, "resources",
                        [(f, hashlib.md5(c).hexdigest()) for f, c in files.items()])
    requests: list[str] = []

    def urlopen(request, timeout=None):
        url = request.full_url
        requests.append(url)
        if url.startswith("https://mirror.invalid/"):
            raise urllib.error.URLError("mirror down")
        return FakeResponse(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(data_mod.urllib.request, "urlopen", urlopen)
    return requests
