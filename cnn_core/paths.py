"""Where CNN Studio keeps things on disk, each overridable by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    """The 5,000 bundled MNIST digits (see resources/data/README.md)."""
    return PROJECT_ROOT / "resources" / "data" / "mnist_sample.npz"
