"""Where CNN Studio keeps things on disk, each overridable by an environment variable."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


def default_data_dir() -> Path:
    """Downloaded datasets: $CNN_STUDIO_DATA, else the user's cache folder."""
    env = os.environ.get("CNN_STUDIO_DATA")
    return Path(env) if env else _xdg("XDG_CACHE_HOME", ".cache") / "cnn-studio" / "datasets"


def default_runs_dir() -> Path:
    """Run history: $CNN_STUDIO_RUNS, else the user's data folder."""
    env = os.environ.get("CNN_STUDIO_RUNS")
    return Path(env) if env else _xdg("XDG_DATA_HOME", ".local/share") / "cnn-studio" / "runs"


def bundled_sample_path() -> Path:
    """The 5,000 bundled MNIST digits (see cnn_core/data/bundled/README.md).

    They ship inside the package as package data, so a checkout and an installed wheel
    find them the same way, whatever the current folder.
    """
    return Path(str(files("cnn_core") / "data" / "bundled" / "mnist_sample.npz"))
