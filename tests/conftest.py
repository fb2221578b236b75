"""Shared fixtures. Every test keeps its files (runs, datasets) in a temp folder."""

from __future__ import annotations

import os

import pytest

from cnn_core.data.datasets import DataBundle, Split, load_dataset

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_folders(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CNN_STUDIO_RUNS", str(base / "runs"))
    monkeypatch.setenv("CNN_STUDIO_DATA", str(base / "data"))
    monkeypatch.setenv("CNN_STUDIO_SETTINGS", str(base / "settings.ini"))


@pytest.fixture(scope="session")
def sample() -> DataBundle:
    return load_dataset("mnist-sample")


@pytest.fixture
def small(sample: DataBundle) -> DataBundle:
    """A few hundred real digits: enough to train a little, quick enough for every test."""
    return DataBundle(sample.info,
                      Split(sample.train.images[:640], sample.train.labels[:640]),
                      Split(sample.test.images[:200], sample.test.labels[:200]))
