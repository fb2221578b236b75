"""Section 7, cold start: how long a person waits for the window, and for Start, after
launching ``python main.py`` for the first time.

Each round is a fresh process with the settings of a first launch (a new settings file,
empty runs and data folders) on an X server: the bench's own Xvfb when ``DISPLAY`` is unset.
"Window shown" is seen from outside: the moment the X server maps the window titled
CNN Studio (``xev`` watching the root window). "Start enabled" is the app's own report
(``gui.runtime.startup_times``), counted from no earlier than the window's showing, since a
button not on the screen cannot be pressed. Both are counted from just before the process
is started, on the CLOCK_MONOTONIC that every process shares.
"""

from __future__ import annotations

import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gui.runtime.startup_times import VARIABLE

from .launch import REPO, _end, _last_line
from .run_folder import BenchError

WINDOW_TARGET_S = 2.0
START_TARGET_S = 3.0
POLL_S = 0.05
SCREEN = "1600x1000x24"
TITLE = "CNN Studio"
TIMEOUT_S = 120  # one launch, at most


@dataclass
class Start:
    """One launch, in seconds after the process was started."""

    window_s: float  # mapped (seen from outside), or exposed as the app saw it
    start_s: float  # Start enabled, and the window shown
    reported: dict[str, float]  # the app's own report: imported, window built, exposed, ...
    cpu_s: float  # the process's CPU seconds when its window was exposed


def section(rounds: int, timeout: float) -> bool:
    """Print the medians and spreads; True when every launch was measured within target."""
    print(f"\n7. Cold start: {rounds} fresh process(es) of `python main.py` with first-launch "
          f"settings, seconds from process start (targets: window {WINDOW_TARGET_S:.1f} s, "
          f"Start {START_TARGET_S:.1f} s)")
    for package in ("gui", "cnn_core"):  # as pip does on install (PYTHONDONTWRITEBYTECODE aside)
        compileall.compile_dir(REPO / package, quiet=2)
    with x_server() as (display, how):
        print(f"  X server: {how}; the app's bytecode compiled beforehand")
        with MapWatcher(display) as maps:
            if not maps.available:
                print("  xev not found (x11-utils): 'window' is when the app saw its window "
                      "exposed, not the X server's map")
            starts = []
            for i in range(rounds):
                try:
                    start = launch(display, maps, timeout)
                except BenchError as error:
                    print(f"  round {i + 1}/{rounds}: not measured: {error}", flush=True)
                    return False
                starts.append(start)
                steps = ", ".join(f"{k} {v:.2f}" for k, v in start.reported.items())
                print(f"  round {i + 1}/{rounds}: window {start.window_s:.2f} s, Start "
                      f"{start.start_s:.2f} s (app's report: {steps}; CPU {start.cpu_s:.2f} s "
                      f"when exposed; load average {os.getloadavg()[0]:.1f})", flush=True)
    ok = True
    for name, values, target in (("window shown", [s.window_s for s in starts], WINDOW_TARGET_S),
                                 ("Start enabled", [s.start_s for s in starts], START_TARGET_S)):
        median = statistics.median(values)
        ok &= median <= target
        print(f"  {name:<14} median {median:.2f} s, spread {min(values):.2f}-{max(values):.2f} "
              f"s, target {target:.1f} s: {'PASS' if median <= target else 'FAIL'}")
    return ok


def launch(display: str | None, maps: MapWatcher, timeout: float) -> Start:
    """One fresh ``python main.py``, ended once its window is shown and Start enabled."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as folder:
        home = Path(folder)
        (home / "runs").mkdir()
        (home / "data").mkdir()
        report = home / "startup-times.txt"
        env = {**os.environ, "CNN_STUDIO_SETTINGS": str(home / "settings.ini"),
               "CNN_STUDIO_RUNS": str(home / "runs"), "CNN_STUDIO_DATA": str(home / "data"),
               VARIABLE: str(report)}
        if display is None:
            env["QT_QPA_PLATFORM"] = "offscreen"
        else:
            env["DISPLAY"] = display
            env.pop("QT_QPA_PLATFORM", None)
        log_path = home / "output.log"
        with open(log_path, "wb") as log:
            began = time.monotonic()
            process = subprocess.Popen([sys.executable, "main.py"], cwd=REPO, env=env,
                                       stdout=log, stderr=subprocess.STDOUT)
        try:
            reported = _wait_for_report(report, process, log_path, began + timeout)
            mapped = maps.mapped_since(began, process.pid) if maps.available else None
            if maps.available and mapped is None:
                raise BenchError("the X server never mapped a window titled "
                                 f"{TITLE!r} of this process")
        finally:
            _end(process)
    window = (mapped if mapped is not None else reported["exposed"][0]) - began
    start = max(reported["start enabled"][0] - began, window)
    return Start(window, start, {k: t - began for k, (t, _cpu) in reported.items()},
                 reported["exposed"][1])


def _wait_for_report(report: Path, process: subprocess.Popen, log_path: Path,
                     deadline: float) -> dict[str, tuple[float, float]]:
    wanted = {"exposed", "start enabled"}
    while True:
        times = _read_report(report)
        if wanted <= times.keys():
            return times
        if process.poll() is not None:
            raise BenchError(f"the app exited with status {process.returncode}: "
                             f"{_last_line(log_path)}")
        if time.monotonic() > deadline:
            raise BenchError(f"no window with Start enabled in time ({_last_line(log_path)})")
        time.sleep(POLL_S)


def _read_report(report: Path) -> dict[str, tuple[float, float]]:
    """name: (monotonic seconds, CPU seconds), from the lines written so far."""
    try:
        lines = report.read_text(encoding="utf-8").split("\n")[:-1]  # whole lines only
    except FileNotFoundError:
        return {}
    rows = (line.rsplit(" ", 2) for line in lines)
    return {row[0]: (float(row[1]), float(row[2])) for row in rows if len(row) == 3}


@contextmanager
def x_server() -> Iterator[tuple[str | None, str]]:
    """The display to use and how it was found: ``DISPLAY``, else a fresh Xvfb, else none
    (the offscreen platform)."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"], f"DISPLAY={os.environ['DISPLAY']}"
        return
    if shutil.which("Xvfb") is None:
        yield None, ("none: DISPLAY is unset and Xvfb is not installed (apt-get install xvfb "
                     "x11-utils); falling back to Qt's offscreen platform, which maps no window, "
                     "so these figures are only indicative")
        return
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN,
                             "-nolisten", "tcp"], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as numbers:
            number = numbers.readline().strip()  # written once the server accepts clients
        if not number:
            raise BenchError("Xvfb did not start")
        yield f":{number}", f"Xvfb on :{number}, started by the bench ({SCREEN})"
    finally:
        _end(xvfb)


class MapWatcher:
    """The moments top-level windows are mapped, as the X server tells ``xev``."""

    _MAPPED = re.compile(r"window (0x[0-9a-f]+), override")

    def __init__(self, display: str | None) -> None:
        self.display = display
        self.available = display is not None and shutil.which("xev") is not None
        self._maps: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._xev: subprocess.Popen | None = None

    def __enter__(self) -> MapWatcher:
        if self.available:
            self._xev = subprocess.Popen(
                ["xev", "-display", self.display, "-root", "-event", "substructure"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
            threading.Thread(target=self._read, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._xev is not None:
            _end(self._xev)

    def _read(self) -> None:
        mapping = False
        for line in self._xev.stdout:
            if line.startswith("MapNotify"):
                mapping = True
            elif mapping and (found := self._MAPPED.search(line)):
                with self._lock:
                    self._maps.append((time.monotonic(), found.group(1)))
                mapping = False

    def mapped_since(self, began: float, pid: int) -> float | None:
        """When the first window titled CNN Studio of process ``pid`` was mapped."""
        with self._lock:
            maps = [(t, w) for t, w in self._maps if t >= began]
        for moment, window in maps:
            props = subprocess.run(["xprop", "-display", self.display, "-id", window,
                                    "_NET_WM_PID", "WM_NAME"],
                                   capture_output=True, text=True).stdout
            if f"= {pid}" in props and f'"{TITLE}"' in props:
                return moment
        return None
