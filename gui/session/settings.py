"""What the window remembers between launches: the last configuration, one's own networks
and picture folders, the window layout and the runs folder (QSettings; ``$CNN_STUDIO_SETTINGS`` names an INI file instead, which
the tests use to keep each test's settings apart)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from cnn_core.nn.spec import SpecError, parse_spec
from cnn_core.runs.errors import first_line
from cnn_core.train.config import TrainConfig
from cnn_core.paths import default_runs_dir


class Settings:
    def __init__(self, path: str | Path | None = None) -> None:
        path = path or os.environ.get("CNN_STUDIO_SETTINGS")
        self._store = (QSettings(str(path), QSettings.Format.IniFormat) if path
                       else QSettings("CNN Studio", "CNN Studio"))

    def last_config(self) -> TrainConfig | None:
        """The configuration of the last session, or None if there is none or it is unusable
        (another version's fields, a GPU that is gone): the defaults are better than an error."""
        return self._last_config()[0]

    def _last_config(self) -> tuple[TrainConfig | None, str]:
        text = self._store.value("config")
        if not isinstance(text, str):
            return None, ""
        try:
            config = TrainConfig.from_dict(json.loads(text))
            config.validate()
        except (TypeError, ValueError, RecursionError) as exc:
            return None, first_line(exc)
        return config, ""

    def problems(self) -> list[str]:
        """What was remembered and no longer passes the checks, one line each: the last
        settings (then not restored), and one's own networks (kept, to be mended)."""
        failing = {}
        for spec in self.networks():
            try:
                parse_spec(spec)
            except SpecError as exc:
                failing[spec["name"]] = str(exc)
        reason = self._last_config()[1]
        said = []
        if reason and reason not in {f"network: {why}" for why in failing.values()}:
            said.append(f"the last session's settings were not restored ({reason})")
        for name, why in failing.items():
            then = (", so the last session's settings were not restored"
                    if reason == f"network: {why}" else "")
            said.append(f"your network {name!r} does not pass the checks ({why}){then}; mend "
                        "it in the editor (Edit…)")
        return said

    def set_last_config(self, config: TrainConfig) -> None:
        self._store.setValue("config", json.dumps(config.to_dict()))

    def networks(self) -> list[dict[str, Any]]:
        """The person's own networks (spec JSON, as typed), without what is not a spec at
        all: a hand-edited entry is dropped, not an error."""
        text = self._store.value("networks")
        try:
            saved = json.loads(text) if isinstance(text, str) else []
        except (ValueError, RecursionError):
            return []
        return [spec for spec in saved if isinstance(spec, dict)
                and isinstance(spec.get("name"), str) and isinstance(spec.get("layers"), list)
                ] if isinstance(saved, list) else []

    def set_networks(self, specs: list[dict[str, Any]]) -> None:
        self._store.setValue("networks", json.dumps(specs))

    def image_folders(self) -> list[str]:
        """The folders of pictures added as datasets, the most recent first."""
        text = self._store.value("image_folders")
        try:
            saved = json.loads(text) if isinstance(text, str) else []
        except ValueError:
            return []
        return [f for f in saved if isinstance(f, str) and os.path.isabs(f)] \
            if isinstance(saved, list) else []

    def set_image_folders(self, folders: list[str]) -> None:
        self._store.setValue("image_folders", json.dumps(folders))

    def runs_dir(self) -> Path:
        """The runs folder last used, else the default (also for a value no folder can
        have, such as a hand-edited one with a NUL character)."""
        value = self._store.value("runs_dir")
        usable = isinstance(value, str) and value and "\0" not in value
        return Path(value) if usable else default_runs_dir()

    def set_runs_dir(self, path: Path) -> None:
        self._store.setValue("runs_dir", str(path))

    def window_layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self._store.value("window/geometry"), self._store.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def set_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)

    def sync(self) -> None:
        self._store.sync()
