"""The code's shape: no import cycles (counting imports inside functions and under
TYPE_CHECKING), an engine without Qt, threads made in one place, and small modules."""

from __future__ import annotations

import ast
import graphlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (ROOT / "cnn_core", ROOT / "gui")


def sources() -> list[Path]:
    return [p for package in PACKAGES for p in package.rglob("*.py")]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every module of ours ``path`` imports anywhere in its body, with the packages whose
    ``__init__`` that import runs."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            parts = target.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1)
                         if not name.startswith(".".join(parts[:i]) + ".") and
                         ".".join(parts[:i]) in known)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in sources()}
    return {name: imported_modules(path, set(files)) for name, path in files.items()}


def test_the_import_graph_finds_imports_of_every_kind() -> None:
    graph = import_graph()
    assert "cnn_core.train.config" in graph["cnn_core.train.trainer"]  # top level, relative
    assert "cnn_core.data.source" in graph["cnn_core.train.config"]  # inside a function
    assert "cnn_core.data" in graph["cnn_core.train.trainer"]  # the package __init__ runs
    assert "gui.session.run_session" in graph["gui.window.main_window"]


def test_there_is_no_import_cycle() -> None:
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_cnn_core_never_imports_qt() -> None:
    for path in (ROOT / "cnn_core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "pyqtgraph")
                           for n in names), path


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in sources() if (n := lines(p)) > 400}
    assert not long


def test_the_main_window_only_composes() -> None:
    assert lines(ROOT / "gui" / "window" / "main_window.py") < 300


@pytest.mark.parametrize("call", ["QThread(", "QThreadPool(", "threading.Thread("])
def test_threads_are_made_in_one_module(call: str) -> None:
    """Work leaves the GUI thread through gui.threads.tasks (the warm-up's import thread
    runs no Qt and no torch op)."""
    allowed = {"QThread(": {"gui/threads/tasks.py"}, "QThreadPool(": set(),
               "threading.Thread(": {"gui/runtime/warmup.py"}}[call]
    makers = {str(p.relative_to(ROOT)) for p in sources() if call in p.read_text("utf-8")}
    assert makers <= allowed


def test_only_the_dataset_source_tells_built_ins_from_folders() -> None:
    """Whether a dataset is a built-in or a folder is answered by cnn_core.data.source
    alone; everything else asks it what it needs (can it be read, which settings apply)."""
    allowed = {"cnn_core/data/source.py"}
    kind_tests = re.compile(r"is_folder(_name)?\(|\.is_folder\b|\b(not )?in DATASETS\b")
    found = {f"{p.relative_to(ROOT)}:{n}" for p in sources()
             if str(p.relative_to(ROOT)) not in allowed
             for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
             if kind_tests.search(line)}
    assert not found


PANELS = ROOT / "gui" / "panels"


def test_a_panel_imports_other_panels_only_through_their_folders_public_names() -> None:
    """A panel module imports modules of its own subfolder, or another subfolder's package
    (``gui.panels.inside``: the names its ``__init__`` exports), never another folder's
    module: panels do not reach into each other."""
    graph = import_graph()
    folders = {module_name(p.parent) for p in PANELS.glob("*/__init__.py")}
    wrong = {}
    for path in PANELS.rglob("*.py"):
        name = module_name(path)
        own = name if path.name == "__init__.py" else name.rpartition(".")[0]
        reached = {t for t in graph[name] if t.startswith("gui.panels.") and t not in folders
                   and not (own in folders and t.startswith(own + "."))}
        if reached:
            wrong[name] = sorted(reached)
    assert not wrong


def test_no_panel_makes_a_lane() -> None:
    """Work off the GUI thread is asked of the services in gui/session/, which own the
    lanes; a panel only asks and reacts."""
    makers = {str(p.relative_to(ROOT)) for p in PANELS.rglob("*.py")
              if "Lane(" in p.read_text("utf-8")}
    assert not makers
