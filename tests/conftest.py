"""Shared fixtures. Every test keeps its files (runs, datasets) in a temp folder."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_folders(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CNN_STUDIO_RUNS", str(base / "runs"))
    monkeypatch.setenv("CNN_STUDIO_DATA", str(base / "data"))
    monkeypatch.setenv("CNN_STUDIO_SETTINGS", str(base / "settings.ini"))
