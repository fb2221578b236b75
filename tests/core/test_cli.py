"""The headless command line, end to end, as a person runs it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from cnn_core.runs.checkpoint import load_checkpoint


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnn_core", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_train_on_the_bundled_sample_writes_a_complete_run(tmp_path) -> None:
    out = tmp_path / "run"
    proc = run_cli("train", "--arch", "lenet5", "--dataset", "mnist-sample", "--epochs", "2",
                   "--batch-size", "128", "--device", "cpu", "--seed", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = [l for l in proc.stdout.splitlines() if l.startswith("epoch ")]
    assert len(lines) == 2 and "test_acc" in lines[0]
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert {"epoch", "train_loss", "train_acc", "test_loss", "test_acc"} <= set(rows[0])
    assert float(rows[1]["test_acc"]) > 0.6
    config = json.loads((out / "config.json").read_text())
    assert config["arch"] == "lenet5" and config["batch_size"] == 128
    assert load_checkpoint(out / "checkpoints" / "last.pt")["epoch"] == 2
    assert (out / "checkpoints" / "best.pt").is_file()

    # resume to 3 epochs in total, in the same folder
    proc = run_cli("train", "--resume", str(out / "checkpoints" / "last.pt"), "--epochs", "3")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]


def test_resume_equals_an_unbroken_run(tmp_path) -> None:
    common = ("--arch", "lenet5", "--device", "cpu", "--seed", "3", "--step-size", "1")
    assert run_cli("train", *common, "--epochs", "2", "--out", str(tmp_path / "a")).returncode == 0
    assert run_cli("train", "--resume", str(tmp_path / "a/checkpoints/last.pt"),
                   "--epochs", "3").returncode == 0
    assert run_cli("train", *common, "--epochs", "3", "--out", str(tmp_path / "b")).returncode == 0
    keys = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr")
    read = lambda p: [tuple(r[k] for k in keys) for r in csv.DictReader(p.open())]  # noqa: E731
    assert read(tmp_path / "a/metrics.csv") == read(tmp_path / "b/metrics.csv")


def test_resuming_from_an_older_checkpoint_branches_instead_of_overwriting(
        tmp_path, monkeypatch) -> None:
    from cnn_core.runs.store import list_runs, read_metrics, read_summary

    monkeypatch.setenv("CNN_STUDIO_RUNS", str(tmp_path / "runs"))
    run, short = tmp_path / "runs" / "a", tmp_path / "runs" / "short"
    for out, epochs in ((run, "2"), (short, "1")):
        assert run_cli("train", "--arch", "lenet5", "--device", "cpu", "--epochs", epochs,
                       "--out", str(out)).returncode == 0
    # an epoch-1 checkpoint inside run a, which has gone on to epoch 2
    older = run / "checkpoints" / "epoch1.pt"
    older.write_bytes((short / "checkpoints" / "last.pt").read_bytes())
    before = (run / "metrics.csv").read_bytes()
    proc = run_cli("train", "--resume", str(older), "--epochs", "3")
    assert proc.returncode == 0 and "branching into" in proc.stdout, proc.stderr
    assert (run / "metrics.csv").read_bytes() == before  # the run is untouched
    [branch] = [r for r in list_runs(tmp_path / "runs") if r.path not in (run, short)]
    assert branch.parent["run"] == "a" and branch.parent["epoch"] == 1
    assert [m.epoch for m in read_metrics(branch.path)] == [1, 2, 3]
    assert read_summary(run).epochs_done == 2


def test_list_shows_architectures_and_datasets_with_shapes() -> None:
    proc = run_cli("list")
    assert proc.returncode == 0
    for word in ("lenet5", "simplecnn", "deepcnn", "61,706", "mnist-sample", "cifar10",
                 "3x32x32", "1x28x28"):
        assert word in proc.stdout


@pytest.mark.parametrize("args,needle", [
    (("train", "--lr", "-1"), "lr:"),
    (("train", "--epochs", "ten"), "--epochs"),
    (("train", "--arch", "resnet"), "--arch"),
    (("train", "--device", "tpu"), "device:"),
    (("train", "--resume", "/no/such/file.pt"), "no such checkpoint"),
    (("train", "--dataset", "mnist", "--data-dir", "/no/such/folder"), "/no/such/folder"),
    (("frobnicate",), "invalid choice"),
    ((), "required"),
])
def test_bad_arguments_give_one_line_and_no_traceback(args, needle: str) -> None:
    proc = run_cli(*args, timeout=60)
    assert proc.returncode != 0
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert needle in err[0] and "Traceback" not in proc.stderr


def test_resume_refuses_a_malicious_file(tmp_path) -> None:
    import torch

    from tests.exploit import Exploit

    torch.save({"x": Exploit(tmp_path / "pwned")}, tmp_path / "evil.pt")
    proc = run_cli("train", "--resume", str(tmp_path / "evil.pt"), "--epochs", "2", timeout=60)
    assert proc.returncode == 1 and "refused" in proc.stderr
    assert not (tmp_path / "pwned").exists()


def test_simplecnn_reaches_93_percent_on_the_sample_in_3_epochs(tmp_path) -> None:
    proc = run_cli("train", "--arch", "simplecnn", "--dataset", "mnist-sample", "--epochs", "3",
                   "--device", "cpu", "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    best = json.loads((tmp_path / "run" / "summary.json").read_text())["best_test_acc"]
    assert best >= 0.93, proc.stdout
