"""A run folder's records with wrong-typed fields: listed as damaged, refused in one line,
never a traceback, and never a harm to the other runs."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from cnn_core.export.exporters import ExportError, export_csv
from cnn_core.export.render import filter_grid
from cnn_core.runs.store import (RunError, list_runs, read_batches, read_config, read_metrics,
                                 read_snapshots, read_summary)
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from tests.reliability.helpers import assert_one_clean_line, cli

WRONG = [7, -3, 2.5, 1e308, "seven", "", None, True, [], {}, [1, "x"], {"run": 5}]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, sample) -> Path:
    run = tmp_path_factory.mktemp("real") / "run"
    launch(TrainConfig(arch="lenet5", epochs=1, device="cpu"), run_dir=run,
           data=sample).trainer.fit()
    return run


def read_everything(run: Path, tmp_path: Path) -> None:
    """What the CLI, export and the window read from a run: each may refuse, and only in
    its own words."""
    for read in (read_summary, read_config, read_metrics, read_batches):
        try:
            read(run)
        except RunError as exc:
            assert str(run) in str(exc) and "\n" not in str(exc)
    try:
        export_csv([run], tmp_path / "metrics.csv")
    except (ExportError, RunError) as exc:
        assert "\n" not in str(exc)


def mutated_json(real_run: Path, tmp_path: Path, file: str) -> list[Path]:
    """One copy of the run for every field of ``file`` and every wrong value."""
    fields = json.loads((real_run / file).read_text())
    runs = []
    for key in fields:
        for n, value in enumerate(WRONG):
            run = tmp_path / "runs" / f"{Path(file).stem}-{key}-{n}"
            shutil.copytree(real_run, run)
            (run / file).write_text(json.dumps({**fields, key: value}))
            runs.append(run)
    return runs


@pytest.mark.parametrize("file", ["summary.json", "config.json"])
def test_every_wrong_typed_field_is_refused_cleanly(tmp_path, real_run, file) -> None:
    runs = mutated_json(real_run, tmp_path, file)
    good = tmp_path / "runs" / "good"
    shutil.copytree(real_run, good)
    for run in runs:
        read_everything(run, tmp_path)
    listed = {r.path.name: r for r in list_runs(tmp_path / "runs")}
    assert set(listed) == {r.name for r in runs} | {"good"}  # none hidden
    assert not listed["good"].damaged and listed["good"].best_test_acc is not None
    if file == "summary.json":
        damaged = [r for r in listed.values() if r.damaged]
        assert len(damaged) > len(runs) // 2
        for run in damaged:
            assert "summary.json" in run.problem and run.name == run.path.name


def test_a_summary_that_is_not_json_is_listed_as_damaged(tmp_path, real_run) -> None:
    run = tmp_path / "runs" / "broken"
    shutil.copytree(real_run, run)
    (run / "summary.json").write_text('{"name": "half a summ')
    (listed,) = list_runs(tmp_path / "runs")
    assert listed.damaged and "summary.json" in listed.problem
    assert listed.best_checkpoint.is_file()  # its checkpoints stay for opening


def test_wrong_typed_metrics_are_refused_cleanly(tmp_path, real_run) -> None:
    rows = list(csv.reader((real_run / "metrics.csv").open()))
    for column in range(len(rows[0])):
        for value in ("abc", "", "1.5.2", "[1]"):
            run = tmp_path / f"metrics-{column}-{value or 'empty'}"
            shutil.copytree(real_run, run)
            bad = [rows[0], [value if i == column else cell for i, cell in enumerate(rows[1])]]
            with (run / "metrics.csv").open("w", newline="") as f:
                csv.writer(f).writerows(bad)
            read_everything(run, tmp_path)
            with pytest.raises(RunError):
                read_metrics(run)


def test_the_cli_refuses_damaged_records_in_one_line(tmp_path, real_run) -> None:
    run = tmp_path / "run"
    shutil.copytree(real_run, run)
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "best_test_acc": "high"}))
    proc = cli("export", str(run), "--csv", str(tmp_path / "m.csv"))
    assert proc.returncode == 1
    assert_one_clean_line(proc.stderr)
    assert "best_test_acc" in proc.stderr
    # the checkpoints are fine: the run still goes on from them
    proc = cli("train", "--resume", str(run), "--epochs", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert read_summary(run).epochs_done == 2


def test_a_batch_log_with_the_wrong_columns_is_refused(tmp_path, real_run) -> None:
    run = tmp_path / "run"
    shutil.copytree(real_run, run)
    (run / "batches.csv").write_text("step,epoch,loss\n1,1,2.3\n")
    with pytest.raises(RunError, match="3 columns"):
        read_batches(run)


def test_damaged_snapshots_are_skipped_and_the_others_replayed(tmp_path, real_run) -> None:
    run = tmp_path / "run"
    shutil.copytree(real_run, run)
    snapshots = sorted((run / "snapshots").glob("*.npz"))
    good = snapshots[-1].read_bytes()
    rng = random.Random(0)
    for seed in range(60):
        data = bytearray(good)
        if seed % 3 == 0:
            data = data[:rng.randrange(len(data))]
        elif seed % 3 == 1:
            for _ in range(4):
                data[rng.randrange(len(data))] ^= 0xFF
        else:
            buffer = io.BytesIO()
            np.savez(buffer, **{"filters/conv1": np.zeros(rng.randint(1, 5)),
                                "state/x": np.array(["text"])})
            data = bytearray(buffer.getvalue())
        snapshots[0].write_bytes(bytes(data))
        replayed = list(read_snapshots(run))
        assert replayed[-1].epoch == 1
        for snap in replayed:
            for weights in snap.filters.values():
                filter_grid(weights)  # what the window and the exports draw
