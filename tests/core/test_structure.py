"""The engine's shape: no import cycles (counting imports inside functions and under
TYPE_CHECKING), no Qt, and no module over 400 lines."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import cnn_core

ROOT = Path(cnn_core.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every cnn_core module ``path`` imports anywhere in its body, with the packages whose
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
    files = {module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: imported_modules(path, set(files)) for name, path in files.items()}


def test_the_import_graph_finds_imports_of_every_kind() -> None:
    graph = import_graph()
    assert "cnn_core.train.config" in graph["cnn_core.train.trainer"]  # top level, relative
    assert "cnn_core.data.datasets" in graph["cnn_core.train.config"]  # inside a function
    assert "cnn_core.data" in graph["cnn_core.train.trainer"]  # the package __init__ runs


def test_cnn_core_has_no_import_cycle() -> None:
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_cnn_core_never_imports_qt() -> None:
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "pyqtgraph")
                           for n in names), path


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long
