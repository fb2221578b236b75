"""The training thread, and the thread team torch makes for it, yield the CPU to the GUI
thread.

Why: when every core is busy (on two cores the run's own thread team is enough, more so
with other programs running), the GUI thread waits behind the training threads for a
scheduler slice each time it wakes, and the window stalls. At a lower priority the
training threads give way whenever the GUI thread has work; alone on the machine they
train as fast as before, since priority only decides who waits.
"""

from __future__ import annotations

import os
import sys
import threading

from PySide6.QtCore import QThread

NICENESS = 10  # the training threads' niceness above the process's (Linux)


def yield_to_gui_thread() -> None:
    """Call at the start of the training thread, before its first torch op: the thread
    team torch then makes inherits the priority."""
    if sys.platform.startswith("linux"):  # threads are scheduled one by one: nice this one
        base = os.getpriority(os.PRIO_PROCESS, threading.main_thread().native_id)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, base + NICENESS))
    else:
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)
