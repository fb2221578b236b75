"""Messages that name the real problem: what a path is, when it is not what was asked for."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from cnn_core import cli
from cnn_core.runs.follow import FolderKind, folder_kind
from tests.reliability.helpers import assert_one_clean_line


def test_predict_from_a_folder_that_is_not_a_run_says_so(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "holiday"
    folder.mkdir()
    picture = folder / "beach.png"
    Image.new("L", (8, 8)).save(picture)
    assert cli.main(["predict", str(folder), str(picture)]) == 1
    err = capsys.readouterr().err
    assert_one_clean_line(err)
    assert "a folder that is not a run's" in err and "no such checkpoint" not in err


def test_a_file_is_a_file_to_a_watcher(tmp_path: Path) -> None:
    picture = tmp_path / "beach.jpg"
    picture.write_bytes(b"not a run")
    assert folder_kind(picture) == FolderKind.FILE
    assert folder_kind(tmp_path / "later") == FolderKind.EMPTY
