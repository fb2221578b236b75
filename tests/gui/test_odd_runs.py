"""Runs the window did not write itself: damaged records, runs another process is writing
or was writing when it died. Each is listed for what it is, only read where writing would
lose something, and never breaks the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMessageBox, QTreeWidget

from cnn_core.runs.checkpoint import save_checkpoint
from cnn_core.runs.lock import RunLock
from cnn_core.runs.store import RunError, RunSummary, read_summary, write_summary
from cnn_core.train.callbacks import RunStatus
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import RunKind
from cnn_core.train.trainer import Trainer
from gui.panels.runs import RunsPanel
from gui.panels.runs.runs_rows import DATE, EMPTY_TEXT, NAME, STATUS, STATUS_COLOURS
from gui.session.run_session import RunSession
from gui.session.runs_model import RunsModel
from gui.window.main_window import MainWindow
from tests.gui.conftest import find

ROOT = Path(__file__).resolve().parents[2]
METRICS = "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,images_per_sec\n"
# summary.json fields of the wrong type (each run keeps the rest of a good summary)
BAD_FIELDS = {"created-5": {"created": 5}, "best-high": {"best_test_acc": "high"},
              "parent-x": {"parent": "x"}, "epochs-minus": {"epochs_done": -1},
              "status-odd": {"status": "exploded"}, "changes-dict": {"changes": {"a": 1}}}


def make_run(folder: Path, name: str, created: str, *, status: RunStatus = RunStatus.COMPLETED,
             epochs_done: int = 2, checkpoint: bytes | None = b"weights") -> Path:
    """A run folder as a writer leaves it: summary, one epoch of metrics, checkpoints."""
    run = folder / name
    run.mkdir(parents=True)
    write_summary(RunSummary(path=run, name=name, arch="lenet5", dataset="mnist-sample",
                             created=created, status=status, epochs_done=epochs_done,
                             epochs=2, best_test_acc=0.5, best_epoch=1))
    (run / "metrics.csv").write_text(METRICS + "1,0.9,0.7,0.8,0.5,0.001,1.0,100.0\n")
    if checkpoint is not None:
        (run / "checkpoints").mkdir()
        for name in ("last.pt", "best.pt"):
            (run / "checkpoints" / name).write_bytes(checkpoint)
    return run


def spoil_summary(run: Path, patch: dict | None) -> None:
    """Rewrite ``run``'s summary with ``patch`` over it, or with text that is not JSON."""
    if patch is None:
        (run / "summary.json").write_text("{ not json")
        return
    data = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**data, **patch}))


@pytest.fixture
def checkpoint(tmp_path: Path, small) -> bytes:
    """The bytes of a real (untrained) LeNet-5 checkpoint."""
    path = tmp_path / "real.pt"
    trainer = Trainer(TrainConfig(arch="lenet5", epochs=2, batch_size=64, device="cpu"),
                      data=small)
    save_checkpoint(trainer.state_dict(), path)
    return path.read_bytes()


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """A good run, a damaged one and one that was running when its process died."""
    folder = tmp_path / "runs"
    make_run(folder, "good", "2025-03-01T10:00:00")
    spoil_summary(make_run(folder, "spoilt", "2025-03-02T10:00:00"), {"created": 5})
    make_run(folder, "killed", "2025-03-03T10:00:00", status=RunStatus.RUNNING, epochs_done=1)
    return folder


@pytest.fixture
def panel(qtbot, runs_dir: Path) -> RunsPanel:
    widget = RunsPanel(RunsModel(runs_dir))
    qtbot.addWidget(widget)
    widget.resize(760, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def rows(panel: RunsPanel) -> list:
    tree = panel.findChild(QTreeWidget, "runsList")
    return [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]


def row(panel: RunsPanel, name: str):
    """The row of the run named ``name`` (a damaged run is named after its folder)."""
    return next(item for item in rows(panel) if item.text(NAME) == name)


def select(panel: RunsPanel, name: str) -> None:
    panel.tree.clearSelection()
    row(panel, name).setSelected(True)


def test_a_damaged_run_is_listed_greyed_with_its_problem(panel: RunsPanel) -> None:
    item = row(panel, "spoilt")
    assert item.text(NAME) == "spoilt" and item.text(STATUS) == "damaged"
    assert "created: expected str, got 5" in item.toolTip(STATUS)
    assert "created" in item.toolTip(NAME)
    assert item.font(NAME).italic() and not row(panel, "good").font(NAME).italic()
    assert item.foreground(NAME).color() == QColor("#757575")
    assert item.foreground(STATUS).color() == QColor(STATUS_COLOURS["damaged"])
    assert len({STATUS_COLOURS[s] for s in ("damaged", "failed", "completed")}) == 3
    select(panel, "spoilt")  # its checkpoints are as good as ever
    assert panel.open_action.isEnabled() and panel.branch_best_action.isEnabled()
    assert panel.delete_action.isEnabled()
    assert not panel.rename_action.isEnabled() and not panel.resume_action.isEnabled()


def test_a_run_whose_process_died_reads_interrupted_and_can_be_resumed(
        qtbot, panel: RunsPanel, runs_dir: Path) -> None:
    item = row(panel, "killed")
    assert item.text(STATUS) == "interrupted"
    assert "ended without finishing" in item.toolTip(STATUS)
    select(panel, "killed")
    assert panel.resume_action.isEnabled() and panel.rename_action.isEnabled()
    with qtbot.waitSignal(panel.resumeRequested) as resumed:
        panel.resume_action.trigger()
    assert resumed.args == [runs_dir / "killed" / "checkpoints" / "last.pt"]


def test_a_run_another_process_writes_is_only_read(
        qtbot, panel: RunsPanel, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a: pytest.fail("should not ask"))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: pytest.fail("should not ask"))
    # a lock taken here stands for another process: the panel's model trains nothing
    with RunLock.acquire(runs_dir / "killed"):
        qtbot.waitUntil(lambda: row(panel, "killed").text(STATUS) == "running elsewhere",
                        timeout=5_000)
        assert "python -m cnn_core train" in row(panel, "killed").toolTip(STATUS)
        select(panel, "killed")
        assert not any(a.isEnabled() for a in (panel.resume_action, panel.rename_action,
                                               panel.delete_action))
        assert panel.open_action.isEnabled() and panel.branch_last_action.isEnabled()
        with pytest.raises(RunError, match="another process is writing it"):
            panel.model.rename(runs_dir / "killed", "mine now")
        [failure] = panel.model.delete([runs_dir / "killed"])
        assert "another process is writing it" in failure
        assert read_summary(runs_dir / "killed").name == "killed"
    qtbot.waitUntil(lambda: row(panel, "killed").text(STATUS) == "interrupted", timeout=5_000)
    assert panel.resume_action.isEnabled() and panel.delete_action.isEnabled()


def test_the_list_notices_a_run_started_and_ended_by_another_process(
        qtbot, panel: RunsPanel, runs_dir: Path) -> None:
    """A real second process: it claims a new run folder and records a summary, then
    ends without finishing (as a killed ``python -m cnn_core train`` would)."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from cnn_core.runs.lock import RunLock
        from cnn_core.runs.store import RunSummary, write_summary

        run = Path({str(runs_dir / "cli-run")!r})
        lock = RunLock.acquire(run)
        write_summary(RunSummary(path=run, name="from the command line", arch="lenet5",
                                 dataset="mnist-sample", created="2025-03-04T10:00:00",
                                 epochs=3))
        print("writing", flush=True)
        sys.stdin.readline()
    """)
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        qtbot.waitUntil(lambda: len(rows(panel)) == 4, timeout=5_000)
        assert row(panel, "from the command line").text(STATUS) == "running elsewhere"
    finally:
        child.communicate("\n", timeout=60)
    qtbot.waitUntil(lambda: row(panel, "from the command line").text(STATUS) == "interrupted",
                    timeout=5_000)


def test_resume_is_refused_while_another_process_writes_the_run(
        qtbot, runs_dir: Path, checkpoint: bytes) -> None:
    run = make_run(runs_dir, "shared", "2025-03-05T10:00:00", status=RunStatus.RUNNING,
                   epochs_done=0, checkpoint=checkpoint)
    session = RunSession(RunsModel(runs_dir))
    try:
        with RunLock.acquire(run):
            with qtbot.waitSignal(session.error) as refused:
                session.prepare_continuation(RunKind.RESUME, run / "checkpoints" / "last.pt")
            assert refused.args[0] == ("Cannot resume “shared”: another process is writing "
                                       "it. Wait for it to finish, or branch from it instead.")
            with qtbot.waitSignal(session.error):
                session.prepare_continuation(RunKind.RESUME, run)  # the folder, too
            assert session.continuation is None
            with qtbot.waitSignal(session.continuationChanged, timeout=30_000) as branched:
                session.prepare_continuation(RunKind.BRANCH, run / "checkpoints" / "best.pt")
            assert branched.args[0].kind == RunKind.BRANCH
        session.cancel_continuation()
        with qtbot.waitSignal(session.continuationChanged, timeout=30_000) as resumed:
            session.prepare_continuation(RunKind.RESUME, run / "checkpoints" / "last.pt")
        assert resumed.args[0].kind == RunKind.RESUME
    finally:
        session.shutdown()


@pytest.fixture
def odd_runs(checkpoint: bytes) -> Path:
    """The remembered runs folder, filled with whatever a person or a crash can leave."""
    folder = Path(os.environ["CNN_STUDIO_RUNS"])
    make_run(folder, "good", "2025-03-01T10:00:00", checkpoint=checkpoint)
    make_run(folder, "text-in-metrics", "2025-03-02T10:00:00")
    (folder / "text-in-metrics" / "metrics.csv").write_text(
        METRICS + "1,lots,0.7,0.8,0.5,0.001,1.0,100.0\n")
    for name, patch in {**BAD_FIELDS, "not-json": None}.items():
        spoil_summary(make_run(folder, name, "2025-03-03T10:00:00"), patch)
    config_only = folder / "bad-config"  # a run recorded before summaries existed
    config_only.mkdir()
    (config_only / "config.json").write_text(json.dumps({"arch": 3, "epochs": "many"}))
    (folder / "not-a-run").mkdir()
    (folder / "stray-file.txt").write_text("hello")
    return folder


@pytest.fixture
def odd_window(qtbot, odd_runs: Path) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.runs_dock.raise_()
    yield w
    w.session.shutdown(30_000)


def test_the_window_starts_whatever_the_runs_folder_holds(odd_window: MainWindow) -> None:
    panel = odd_window.runs_panel
    listed = {item.text(NAME): item.text(STATUS) for item in rows(panel)}
    damaged = {*BAD_FIELDS, "not-json", "bad-config"}
    assert listed == {"good": "completed", "text-in-metrics": "completed",
                      **{name: "damaged" for name in damaged}}
    assert row(panel, "good").text(DATE) == "1 Mar 2025"
    for name in damaged:
        assert row(panel, name).toolTip(STATUS).startswith("This run's record cannot be read")


def test_an_unreadable_run_is_neither_overlaid_nor_compared_wrongly(
        qtbot, odd_window: MainWindow, odd_runs: Path) -> None:
    panel = odd_window.runs_panel
    message = find(odd_window, QLabel, "runsMessage")
    row(panel, "good").setCheckState(NAME, Qt.CheckState.Checked)
    for name, reason in (("text-in-metrics", "metrics.csv: unreadable"),
                         ("not-json", "summary.json: unreadable")):
        row(panel, name).setCheckState(NAME, Qt.CheckState.Checked)
        assert message.isVisible() and reason in message.text()
        assert row(panel, name).checkState(NAME) == Qt.CheckState.Unchecked
        assert [r.name for r in panel.checked_runs()] == ["good"]
        assert odd_window.curves.legend_labels() == ["good"]
    row(panel, "not-json").setSelected(True)
    row(panel, "good").setSelected(True)
    panel.compare_action.trigger()
    table = panel.diff_dialog.table
    status_row = next(r for r in range(table.rowCount())
                      if table.verticalHeaderItem(r).toolTip() == "status")
    assert {table.item(status_row, c).text() for c in (0, 1)} == {"damaged", "completed"}


def test_a_runs_folder_that_is_a_file_says_so_and_nothing_starts_in_it(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "runs.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv("CNN_STUDIO_RUNS", str(a_file))
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    panel = window.runs_panel
    assert panel.empty_label.text() == (f"{a_file} is a file, not a folder: change the runs "
                                        "folder")
    with qtbot.waitSignal(window.session.error, timeout=30_000) as refused:
        window.start_training()
    assert "is a file, not a folder" in refused.args[0]
    qtbot.waitUntil(lambda: window.session.state == "idle")
    window.set_runs_dir(a_file)  # the panel's Change… picking it again
    assert "Cannot use" in find(window, QLabel, "errorBanner").text()
    window.session.shutdown()


@pytest.mark.parametrize("remembered", ["/nowhere/at/all/runs", "/tmp/a\\0b"])
def test_a_remembered_runs_folder_that_cannot_be_listed_starts_empty(
        qtbot, tmp_path: Path, remembered: str) -> None:
    Path(os.environ["CNN_STUDIO_SETTINGS"]).write_text(f"[General]\nruns_dir={remembered}\n")
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    if "\\0" in remembered:  # no folder can be named so: the default instead
        assert window.runs.folder == Path(os.environ["CNN_STUDIO_RUNS"])
    else:
        assert window.runs.folder == Path(remembered) and not Path(remembered).exists()
    assert window.runs_panel.empty_label.text() == EMPTY_TEXT


@pytest.mark.skipif(sys.platform != "linux", reason="folder names must be UTF-8 elsewhere")
def test_folders_whose_names_are_not_utf8_are_runs_of_their_own(
        qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    names = [os.fsdecode(b"\xfe-run"), os.fsdecode(b"\xfd-run")]  # Qt shows both as "-run"
    for name in names:
        make_run(folder, name, "2025-03-01T10:00:00")
    panel = RunsPanel(RunsModel(folder))
    qtbot.addWidget(panel)
    panel.show()
    assert len(rows(panel)) == 2
    for i, item in enumerate(rows(panel)):
        panel.tree.clearSelection()
        item.setSelected(True)
        item.setCheckState(NAME, Qt.CheckState.Checked)
        assert panel.selected_run().path.name in names
        assert len(panel.checked_runs()) == i + 1
    assert {r.path.name for r in panel.checked_runs()} == set(names)


def test_exporting_an_unreadable_run_says_it_failed(
        qtbot, odd_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "metrics.csv"), ""))
    row(odd_window.runs_panel, "text-in-metrics").setSelected(True)
    banner = find(odd_window, QLabel, "errorBanner")
    odd_window.exports.csv_action.trigger()
    qtbot.waitUntil(banner.isVisible, timeout=10_000)
    assert banner.text().startswith("Could not export: ") and "metrics.csv" in banner.text()
    assert find(odd_window, QLabel, "statusMessage").text() == "Could not export."
    assert not (tmp_path / "metrics.csv").exists()


@pytest.mark.parametrize("action, chosen", [("csv_action", "metrics.csv"),
                                            ("bundle_action", "checkpoints/best.pt")])
def test_the_export_menu_refuses_a_runs_own_files(
        qtbot, odd_window: MainWindow, odd_runs: Path, monkeypatch: pytest.MonkeyPatch,
        action: str, chosen: str) -> None:
    """Qt's dialog has asked before replacing; a file of a run is refused all the same."""
    target = odd_runs / "good" / chosen
    before = target.read_bytes()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    row(odd_window.runs_panel, "good").setSelected(True)
    banner = find(odd_window, QLabel, "errorBanner")
    getattr(odd_window.exports, action).trigger()
    qtbot.waitUntil(banner.isVisible, timeout=10_000)
    assert "exports never write into a run" in banner.text()
    assert target.read_bytes() == before
