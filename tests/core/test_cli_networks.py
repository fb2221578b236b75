"""Your own network on the command line: train, resume, export and show a spec file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.store import read_metrics, read_summary
from tests.core.test_spec import EXAMPLE


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnn_core", *args], capture_output=True,
                          text=True, timeout=300)


def test_a_spec_file_trains_resumes_exports_and_shows(tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    spec, run = tmp_path / "tiny.json", tmp_path / "run"
    spec.write_text(json.dumps(EXAMPLE))
    proc = cli("train", "--arch", str(spec), "--epochs", "2", "--device", "cpu", "--quiet",
               "--out", str(run))
    assert proc.returncode == 0, proc.stderr
    assert "tiny (38,986 parameters)" in proc.stdout
    spec.unlink()  # the run carries its network: the file is no longer needed
    proc = cli("train", "--resume", str(run), "--epochs", "3", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert [m.epoch for m in read_metrics(run)] == [1, 2, 3]
    assert read_summary(run).arch == "tiny"
    assert load_checkpoint(run / "checkpoints" / "last.pt")["model_meta"]["network"]["name"] == "tiny"
    proc = cli("export", str(run), "--onnx", str(tmp_path / "tiny.onnx"))
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split("within ")[1].split(")")[0]) <= 1e-4
    spec.write_text(json.dumps(EXAMPLE))
    proc = cli("arch", "show", str(spec))
    assert proc.returncode == 0, proc.stderr
    assert "16x12x12" in proc.stdout and "total 38,986 parameters" in proc.stdout


def test_a_builtin_round_trips_through_arch_export(tmp_path) -> None:
    proc = cli("arch", "export", "simplecnn")
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "simple.json").write_text(proc.stdout)
    proc = cli("arch", "show", str(tmp_path / "simple.json"))
    assert proc.stdout.strip().endswith("total 421,642 parameters")


@pytest.mark.parametrize("content,message", [
    ('{"name": "x", "layers": [', "not valid JSON (line 1"),
    ('{"name": "x", "layers": [{"type": "conv2d", "out_channels": 3, "kernel_size": 40},'
     ' {"type": "flatten"}, {"type": "linear"}]}', "layer 1 (conv2d): a 40x40 kernel"),
    ('{"name": "x", "layers": [{"type": "relu"}]}', "layer 1: a network must end in a linear"),
])
def test_a_bad_spec_is_one_line_and_status_2(tmp_path, content: str, message: str) -> None:
    (tmp_path / "bad.json").write_text(content)
    for args in (("arch", "show"), ("train", "--device", "cpu", "--arch")):
        proc = cli(*args, str(tmp_path / "bad.json"))
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr
