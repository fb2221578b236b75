"""The one way work leaves the GUI thread: a function with a state, and a Task that only
reports back, in the GUI thread."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from gui.threads.tasks import Lane, Task, TaskState


@pytest.fixture
def lane(qapp):
    lane = Lane("TestLane")
    yield lane
    assert lane.shutdown(10_000)


def test_messages_progress_and_result_arrive_in_the_gui_thread_in_order(qtbot, lane) -> None:
    def work(state: TaskState, n: int) -> int:
        for i in range(n):
            state.progress(i + 1, n, "counting")
            state.emit(("step", i, threading.current_thread().name))
        return n * 10

    seen = []
    task = Task(work, 3)
    task.message.connect(lambda m: seen.append(("message", m[1], QThread.currentThread())))
    task.progressed.connect(lambda done, total, _t: seen.append(("progress", done, total)))
    task.succeeded.connect(lambda result: seen.append(("result", result)))
    task.finished.connect(lambda: seen.append(("finished",)))
    with qtbot.waitSignal(task.finished, timeout=10_000):
        lane.start(task)
    gui = QThread.currentThread()
    assert [s[0] for s in seen] == ["progress", "message"] * 3 + ["result", "finished"]
    assert all(s[2] is gui for s in seen if s[0] == "message")
    assert ("result", 30) in seen and ("progress", 3.0, 3.0) in seen


def test_the_function_runs_off_the_gui_thread(qtbot, lane) -> None:
    task = Task(lambda _s: threading.get_ident())
    with qtbot.waitSignal(task.succeeded, timeout=10_000) as done:
        lane.start(task)
    assert done.args[0] != threading.get_ident()


def test_an_error_is_handed_over_and_finished_still_comes(qtbot, lane) -> None:
    def broken(_state: TaskState) -> None:
        raise ValueError("bad input: 3")

    errors = []
    task = lane.run(broken, on_error=errors.append, on_done=lambda _r: pytest.fail("no result"))
    qtbot.waitUntil(lambda: task.done.is_set(), timeout=10_000)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert isinstance(errors[0], ValueError) and str(errors[0]) == "bad input: 3"


def test_cancel_reaches_a_running_function_and_its_callbacks(qtbot, lane) -> None:
    started, stopped = threading.Event(), threading.Event()

    def loop(state: TaskState) -> str:
        state.on_cancel(stopped.set)
        started.set()
        while not state.cancel_event.wait(0.01):
            pass
        return "cancelled"

    task = lane.run(loop)
    assert started.wait(10)
    with qtbot.waitSignal(task.succeeded, timeout=10_000) as done:
        task.cancel()
    assert done.args == ["cancelled"] and stopped.is_set()


def test_a_task_cancelled_before_it_starts_never_runs(qtbot, lane) -> None:
    release, ran = threading.Event(), []
    first = lane.run(lambda _s: release.wait(10))
    second = lane.run(lambda _s: ran.append(True))
    second.cancel()
    with qtbot.waitSignal(second.finished, timeout=10_000):
        release.set()
    assert first.done.is_set() and ran == []


def test_shutdown_waits_for_queued_work_unless_told_to_cancel(qtbot, qapp) -> None:
    lane, finished = Lane("Exports"), threading.Event()
    lane.run(lambda _s: finished.set() if not _s.cancelled else None)
    assert lane.shutdown(10_000, cancel=False)
    assert finished.is_set() and not lane.busy
