"""Without the xcb plugin's libraries, ``python main.py`` names the packages and exits 1."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QLibraryInfo

import gui.app
from gui.runtime import platform_check
from gui.runtime.platform_check import XCB_LIBRARIES, first_qt_platform, xcb_problem

LINUX_X11 = {"DISPLAY": ":0"}
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")


def without(*missing: str):
    return lambda soname: soname not in missing


@pytest.mark.parametrize(("environ", "platform"), [
    ({}, "xcb"),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, "xcb"),
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "wayland"),
    ({"XDG_SESSION_TYPE": "wayland"}, "wayland"),
    ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "offscreen"),
    ({"QT_QPA_PLATFORM": "xcb:nograb;wayland", "WAYLAND_DISPLAY": "wayland-0"}, "xcb"),
    ({"QT_QPA_PLATFORM": "", "DISPLAY": ":0"}, "xcb"),
])
def test_the_platform_qt_tries_first(environ: dict[str, str], platform: str) -> None:
    assert first_qt_platform(environ) == platform


def test_missing_libraries_are_named_as_the_packages_to_install() -> None:
    problem = xcb_problem(LINUX_X11, "linux",
                          without("libxcb-cursor.so.0", "libxcb-icccm.so.4"))
    assert problem is not None and "\n" not in problem
    assert problem.endswith("sudo apt install libxcb-cursor0 libxcb-icccm4")


def test_a_complete_system_passes() -> None:
    assert xcb_problem(LINUX_X11, "linux", without()) is None


@pytest.mark.parametrize(("environ", "platform"), [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
    (LINUX_X11, "darwin"),
])
def test_no_check_where_qt_will_not_load_xcb(environ: dict[str, str], platform: str) -> None:
    assert xcb_problem(environ, platform, without(*XCB_LIBRARIES)) is None


def test_the_loader_is_asked_for_real() -> None:
    assert platform_check.library_loads("libc.so.6")
    assert not platform_check.library_loads("libcnn-studio-no-such-library.so.0")


@linux_only
def test_the_table_covers_what_the_installed_plugin_links() -> None:
    """Fails when a PySide6 release links an X library the table does not name."""
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    linked = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True,
                            check=True).stdout
    x_libraries = set(re.findall(r"^\s*(lib(?:xcb|X11|xkbcommon)[-.]\S*)", linked, re.M))
    assert "libxcb-cursor.so.0" in x_libraries
    assert x_libraries <= set(XCB_LIBRARIES), x_libraries - set(XCB_LIBRARIES)


@linux_only
def test_main_prints_one_line_and_exits_1(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(platform_check, "library_loads", without("libxcb-cursor.so.0"))
    assert gui.app.main([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sudo apt install libxcb-cursor0" in err
