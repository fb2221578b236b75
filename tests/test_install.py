"""The package as a person installs it: a wheel built from this checkout, installed without
its dependencies into a fresh virtual environment, runs from a folder outside the checkout.

The new environment reuses the running environment's dependencies (torch, PySide6, ...)
through a ``.pth`` line naming its site-packages. A path added that way is not scanned for
``.pth`` files, so the project's own editable install there (its ``__editable__`` finder)
is never installed, and the code that runs is the wheel's, as the last check confirms.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the wheel is built from, copied out of the checkout first: an in-place build would
# write build/ and *.egg-info into it, and a stale build/lib would ship deleted files.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "cnn_core", "gui")

pytestmark = pytest.mark.slow  # builds a wheel and trains an epoch in another process


def run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


def build_wheel(tmp: Path) -> Path:
    source = tmp / "source"
    for name in WHEEL_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", tmp / "wheels", source], cwd=tmp)
    (wheel,) = (tmp / "wheels").glob("cnn_studio-*.whl")
    return wheel


def fresh_venv(tmp: Path, wheel: Path) -> tuple[Path, Path]:
    """A new environment holding only the wheel, then the running one's dependencies."""
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         wheel], cwd=tmp)
    # Added only now, so that pip never saw the running environment's cnn-studio install.
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  cwd=tmp).stdout.strip()
    (Path(purelib) / "reuse-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv, scripts


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}
    env.update(CNN_STUDIO_RUNS=str(home / "runs"), CNN_STUDIO_DATA=str(home / "data"),
               CNN_STUDIO_SETTINGS=str(home / "settings.ini"), HOME=str(home))
    return env


def test_the_wheel_installs_and_runs_from_any_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    venv, scripts = fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(elsewhere)

    train = run([scripts / "cnn-core", "train", "--epochs", "1", "--arch", "lenet5",
                 "--batch-size", "128", "--device", "cpu", "--quiet"], cwd=elsewhere, env=env)
    assert "MNIST sample (bundled)" in train.stdout
    assert any(line.startswith("epoch 1/1") for line in train.stdout.splitlines())
    (run_dir,) = (elsewhere / "runs").iterdir()
    assert (run_dir / "checkpoints" / "best.pt").is_file()

    assert "usage: cnn-studio" in run([scripts / "cnn-studio", "--help"], cwd=elsewhere,
                                      env=env).stdout

    where = run([scripts / "python", "-c",
                 "import cnn_core, gui; from cnn_core.paths import bundled_sample_path as p; "
                 "print(cnn_core.__file__); print(gui.__file__); print(p())"],
                cwd=elsewhere, env=env).stdout.splitlines()
    venv = venv.resolve()
    for path in map(Path, where):
        assert path.resolve().is_relative_to(venv), where
    assert Path(where[2]).is_file()
