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


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="one thread: nothing to lose")
def test_a_training_thread_gets_the_full_count_after_a_helper_lane() -> None:
    # A fresh process: this one's counts were set by earlier tests.
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
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    full, training = (int(part.split()[-1]) for part in proc.stdout.split(","))
    assert training == full, proc.stdout
