from __future__ import annotations

import pytest

from cnn_core.data.datasets import DataBundle, Split, load_dataset


@pytest.fixture(scope="session")
def sample() -> DataBundle:
    return load_dataset("mnist-sample")


@pytest.fixture
def small(sample: DataBundle) -> DataBundle:
    """A few hundred real digits: enough to train a little, quick enough for every test."""
    return DataBundle(sample.info,
                      Split(sample.train.images[:640], sample.train.labels[:640]),
                      Split(sample.test.images[:200], sample.test.labels[:200]))
