"""Where a sweep's study lives, and the folder its trials' runs go in.

* By default an SQLite file beside the trials: ``RUNS/NAME/study.db`` (an embedded
  database: nothing to install; processes on this machine share it).
* ``postgresql://...`` (or any SQLAlchemy URL): a database server, for several machines.
* ``journal:PATH``: Optuna's journal file, for several machines sharing a disk.

The folder ``RUNS/NAME`` holds the trials' run folders and ``sweep.json``, which says where
the study is (a server's password is never written there), so that a sweep can be found
and opened again from its folder.

A trial whose worker died must not stay "running" forever; two checks, as a worker looks
at the study before each trial:

* SQL studies keep Optuna's heartbeat: a running trial's worker writes a beat every
  :data:`HEARTBEAT_INTERVAL` s, and a trial without one for :data:`GRACE_PERIOD` s is
  marked failed, whichever machine its worker was on.
* On every storage, the running trials whose worker process, recorded by host and process
  id (:mod:`.objective`), is gone from this machine are marked failed at once.

The heartbeat alone would leave a trial killed a moment ago "running" for its grace period
(a restart would count it as another worker's), and Optuna's journal has no heartbeat; the
process check alone cannot see other machines. (A journal study's trial whose worker died
on another machine is freed when a worker next starts on that machine.)
"""

from __future__ import annotations

import json
import os
import re
import socket
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial

from .errors import SweepError
from ..paths import default_runs_dir
from ..runs.atomic import atomic_write_text
from ..runs.store import SWEEP_FILE  # in RUNS/NAME: the sweep and where its study is

STUDY_FILE = "study.db"
HEARTBEAT_INTERVAL = 10  # seconds between a running trial's beats (SQL studies)
GRACE_PERIOD = 60  # seconds without a beat after which a trial's worker counts as dead
SQLITE_WAIT = 60  # seconds a worker waits for another to finish writing the SQLite file
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

StaleFn = Callable[[optuna.Study, FrozenTrial], None]


def orphaned(trial: FrozenTrial) -> bool:
    """A running trial whose worker, on this machine, is gone (``host`` and ``pid``: its
    user attributes, set first thing by the worker)."""
    pid = trial.user_attrs.get("pid")
    return (trial.user_attrs.get("host") == socket.gethostname() and isinstance(pid, int)
            and not _alive(pid))


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would end it there; trust the heartbeat instead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def check_name(name: str) -> str:
    """A sweep's name is also its folder's: letters, digits, ``_ . -``."""
    if not _NAME.match(name) or name == "show":
        raise SweepError(f"sweep name {name!r}: use letters, digits, '_', '.' and '-' "
                         "(up to 100, not 'show')")
    return name


def sweep_folder(name: str, runs_dir: str | Path | None = None) -> Path:
    """``RUNS/NAME``: the trials' run folders, the default study file, ``sweep.json``."""
    return Path(runs_dir or default_runs_dir()) / check_name(name)


def storage_url(name: str, given: str | None = None,
                runs_dir: str | Path | None = None) -> str:
    """The study's storage: ``given``, else the one the sweep's folder records, else the
    SQLite file in that folder."""
    if given:
        return _checked(given)
    folder = sweep_folder(name, runs_dir)
    try:
        recorded = json.loads((folder / SWEEP_FILE).read_text(encoding="utf-8")).get("storage")
    except (OSError, ValueError, AttributeError):
        recorded = None
    return recorded if isinstance(recorded, str) and recorded else (
        f"sqlite:///{(folder / STUDY_FILE).resolve()}")


def _checked(url: str) -> str:
    if url.startswith("journal:"):
        if not url[len("journal:"):]:
            raise SweepError("--storage: journal: needs a file, e.g. journal:/shared/study.log")
        return f"journal:{Path(url[len('journal:'):]).expanduser().resolve()}"
    if not re.match(r"^[a-z][a-z0-9+]*://", url):
        raise SweepError(f"--storage: {url!r} is not a storage: give sqlite:///FILE, "
                         "postgresql://USER@HOST/DB or journal:FILE")
    return url


def storage_exists(url: str) -> bool:
    """False for a study file not made yet (a server's database is taken to exist)."""
    for scheme in ("sqlite:///", "journal:"):
        if url.startswith(scheme):
            return Path(url[len(scheme):]).is_file()
    return True


def shown(url: str) -> str:
    """``url`` without its password: fit to print and to write down."""
    return re.sub(r"^([a-z0-9+]+://[^:/@]+):[^@]*@", r"\1@", url)


def open_storage(url: str, on_stale: StaleFn | None = None) -> BaseStorage:
    """Open the study storage at ``url`` (see the module's note on heartbeats)."""
    try:
        with warnings.catch_warnings():  # the heartbeat is "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if url.startswith("journal:"):
                path = Path(url[len("journal:"):]).expanduser()
                path.parent.mkdir(parents=True, exist_ok=True)
                return JournalStorage(JournalFileBackend(str(path)))
            engine: dict[str, Any] = {}
            if url.startswith("sqlite:///"):
                Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
                engine = {"connect_args": {"timeout": SQLITE_WAIT}}
            return RDBStorage(url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_INTERVAL,
                              grace_period=GRACE_PERIOD, heartbeat_stale_trial_callback=on_stale)
    except ModuleNotFoundError as exc:
        raise SweepError(f"--storage: {shown(url)} needs the Python package {exc.name!r} "
                         "(pip install it)") from None
    except Exception as exc:  # SQLAlchemy and the drivers fail in many ways
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SweepError(f"--storage: cannot open {shown(url)}: {reason}") from None


def record_location(folder: Path, name: str, url: str) -> None:
    """Write ``sweep.json``: the default study (beside it) is recorded as ``null``, so the
    folder can move; any other without its password."""
    default = url == f"sqlite:///{(folder / STUDY_FILE).resolve()}"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / SWEEP_FILE, json.dumps(
        {"name": name, "storage": None if default else shown(url)}, indent=2) + "\n")
