"""A training thread gets torch's full thread count, whatever the helper threads set."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def in_a_fresh_process(code: str) -> str:
    """What ``code`` prints, run in a new interpreter: this one's counts were set by
    earlier tests."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="one thread: nothing to lose")
def test_a_training_thread_gets_the_full_count_after_a_helper_lane() -> None:
    code = textwrap.dedent("""
        import threading, torch
        from PySide6.QtCore import QCoreApplication
        from gui.runtime.torch_threads import use_training_threads
        from gui.threads.tasks import Lane

        full = torch.get_num_threads()
        app = QCoreApplication([])
        lane = Lane("helper")  # its set-up lowers the count new threads start with
        lane.run(lambda _state: torch.ones(1 << 17).add_(1)).done.wait(30)
        seen = []

        def train():
            use_training_threads()
            seen.append(torch.get_num_threads())

        worker = threading.Thread(target=train)
        worker.start()
        worker.join()
        lane.shutdown()
        print(f"full {full}, training thread {seen[0]}")
    """)
    printed = in_a_fresh_process(code)
    full, training = (int(part.split()[-1]) for part in printed.split(","))
    assert training == full, printed


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="one thread: nothing to lose")
def test_a_helper_lane_runs_one_thread_even_when_training_started_before_its_first_op() -> None:
    """The helper's first op comes after a training thread took the full count: it must
    not start a second team of OpenMP workers beside training's."""
    code = textwrap.dedent("""
        import os, threading, torch
        from PySide6.QtCore import QCoreApplication
        from gui.runtime.torch_threads import (reserve_threads_for_training, use_one_thread,
                                               use_training_threads)

        app = QCoreApplication([])
        reserve_threads_for_training()  # as the app does first, in the GUI thread
        helper_ready, training_ready, helper_done = (threading.Event() for _ in range(3))
        seen = []

        def helper():
            use_one_thread()
            helper_ready.set()
            training_ready.wait(30)
            before = len(os.listdir("/proc/self/task"))
            torch.ones(1 << 22).exp_()  # large enough to run in parallel when allowed
            seen.append((torch.get_num_threads(), len(os.listdir("/proc/self/task")) - before))
            helper_done.set()

        def train():
            helper_ready.wait(30)
            use_training_threads()
            training_ready.set()
            helper_done.wait(30)  # the process's threads stay the same but for the helper's

        threads = [threading.Thread(target=helper), threading.Thread(target=train)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(f"helper threads {seen[0][0]}, new workers {seen[0][1]}")
    """)
    printed = in_a_fresh_process(code)
    assert printed.strip() == "helper threads 1, new workers 0", printed
