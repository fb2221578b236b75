"""Say which packages to install when Qt's xcb plugin cannot load, before Qt aborts.

Why: without them Qt stops the process with a core-dump-style abort and a hint a newcomer
rarely reads. Qt-free, so it runs before the QApplication is made.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# The system libraries PySide6's xcb plugin links (``ldd`` on plugins/platforms/libqxcb.so
# and lib/libQt6XcbQpa.so.6, PySide6 6.11), with the Debian/Ubuntu package of each.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
}


def library_loads(soname: str) -> bool:
    """Whether the dynamic loader finds ``soname`` as it will for Qt's plugin."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def first_qt_platform(environ: Mapping[str, str] = os.environ) -> str:
    """The platform plugin Qt 6 on Linux tries first.

    QT_QPA_PLATFORM wins (a ';' list tried in order, options after ':'). Otherwise Qt tries
    wayland first when WAYLAND_DISPLAY is set or XDG_SESSION_TYPE is wayland, then xcb.
    """
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0]
    if environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def missing_xcb_packages(library_found: Callable[[str], bool] | None = None) -> list[str]:
    """The packages of the xcb plugin's libraries that do not load."""
    found = library_found or library_loads
    return [package for soname, package in XCB_LIBRARIES.items() if not found(soname)]


def xcb_problem(environ: Mapping[str, str] = os.environ, platform: str = sys.platform,
                library_found: Callable[[str], bool] | None = None) -> str | None:
    """One line naming what to install if Qt is about to load xcb without its libraries."""
    if not platform.startswith("linux") or first_qt_platform(environ) != "xcb":
        return None
    missing = missing_xcb_packages(library_found)
    if not missing:
        return None
    return (f"CNN Studio cannot open its window: Qt's xcb platform plugin needs system "
            f"libraries that are missing. Install them with: sudo apt install {' '.join(missing)}")
