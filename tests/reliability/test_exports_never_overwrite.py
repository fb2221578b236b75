"""Exports never write into a run folder, and replace an existing file only when told to:
the run's checkpoints, metrics and config survive every export aimed at them."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from cnn_core import cli
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from tests.reliability.helpers import assert_one_clean_line
from tests.reliability.helpers import cli as cli_process


@pytest.fixture(scope="module")
def runs(tmp_path_factory, sample) -> tuple[Path, Path]:
    """Two real runs side by side, as in a runs folder."""
    folder = tmp_path_factory.mktemp("runs")
    for name in ("this", "other"):
        launch(TrainConfig(arch="lenet5", epochs=1, device="cpu"), run_dir=folder / name,
               data=sample).trainer.fit()
    return folder / "this", folder / "other"


def fingerprints(*folders: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("option, target, force", [
    ("--onnx", "this/checkpoints/best.pt", False),
    ("--bundle", "this/checkpoints/last.pt", False),
    ("--csv", "this/metrics.csv", False),
    ("--csv", "this/config.json", True),
    ("--onnx", "other/checkpoints/best.pt", True),
    ("--bundle", "other/summary.json", True),
    ("--csv", "other/new-metrics.csv", True),  # a new file, but inside a run
    ("--tensorboard", "this", True),  # the logs would go into this/this
])
def test_an_export_into_a_run_folder_is_refused_even_with_force(
        runs, capsys, option: str, target: str, force: bool) -> None:
    this, other = runs
    before = fingerprints(this, other)
    code = cli.main(["export", str(this), option, str(this.parent / target),
                     *(["--force"] if force else [])])
    err = capsys.readouterr().err
    assert code == 1
    assert_one_clean_line(err)
    assert "exports never write into a run" in err and target.split("/")[0] in err
    assert fingerprints(this, other) == before


def test_an_existing_file_is_replaced_only_with_force(runs, tmp_path, capsys) -> None:
    this, _ = runs
    notes = tmp_path / "notes.txt"
    notes.write_text("a person's notes")
    assert cli.main(["export", str(this), "--csv", str(notes)]) == 1
    err = capsys.readouterr().err
    assert_one_clean_line(err)
    assert "exists; give --force to replace it" in err
    assert notes.read_text() == "a person's notes"

    assert cli.main(["export", str(this), "--csv", str(notes), "--force"]) == 0
    assert notes.read_text().startswith("run,run_dir,epoch")


def test_one_refused_target_means_nothing_is_written(runs, tmp_path) -> None:
    """The whole command is refused before its first export: no CSV beside a refused
    bundle."""
    this, _ = runs
    occupied = tmp_path / "bundle.zip"
    occupied.write_bytes(b"someone's zip")
    result = cli_process("export", str(this), "--csv", str(tmp_path / "new.csv"),
                         "--bundle", str(occupied))
    assert result.returncode == 1
    assert_one_clean_line(result.stderr)
    assert not (tmp_path / "new.csv").exists()
    assert occupied.read_bytes() == b"someone's zip"


def test_a_bundle_of_a_run_with_a_damaged_config_is_refused(runs, tmp_path, capsys) -> None:
    this, _ = runs
    damaged = tmp_path / "damaged"
    shutil.copytree(this, damaged)
    (damaged / "config.json").write_text('{"arch": 7}')
    assert cli.main(["export", str(damaged), "--bundle", str(tmp_path / "b.zip")]) == 1
    err = capsys.readouterr().err
    assert_one_clean_line(err)
    assert "config.json" in err and not (tmp_path / "b.zip").exists()



def test_a_folder_with_some_other_tools_config_is_not_a_run(runs, tmp_path, capsys) -> None:
    """A home folder may hold a config.json of its own: exports below it go ahead."""
    this, _ = runs
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text('{"theme": "dark"}')
    assert cli.main(["export", str(this), "--csv", str(home / "metrics.csv")]) == 0
    assert (home / "metrics.csv").read_text().startswith("run,run_dir,epoch")
