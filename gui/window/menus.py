"""The menu bar and its shortcuts; every action works wherever the focus is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QWidget

from .files import FileActions

SHORTCUTS = ("Ctrl+Return  Start\nCtrl+P  Pause / Resume\nEsc  Stop\n"
             "Ctrl+O  Open a checkpoint to inspect it\nCtrl+Shift+O  Open a network spec (JSON)\n"
             "Ctrl+Shift+I  Open a folder of your own pictures\n"
             "Ctrl+Shift+W  Watch a run folder written by another process\n"
             "Ctrl+I  Ask the model about picture files (or drop them on the views)\n"
             "Ctrl+Shift+N  The network editor (Insert, Delete, Ctrl+D, Alt+Up/Down, "
             "Ctrl+S in it)\nCtrl+Shift+S  The Sweeps view\nCtrl+B  Branch from a checkpoint\n"
             "F2 / Del  Rename / delete the selected run (Runs)\n"
             "Ctrl+E  Export the current panel as PNG\nCtrl+Shift+E  Export the curves as PNG\n"
             "Ctrl+Z  Undo a stroke (Draw tab)\nCtrl+Q  Quit")


@dataclass(frozen=True)
class RunCommands:
    """What the Train menu and the network editor's entry do."""

    start: Callable[[], object]
    pause: Callable[[], object]
    stop: Callable[[], object]
    edit_network: Callable[[], object]


class Menus:
    """Builds ``host``'s menus; the actions are attributes (``start_action``, ...),
    ``export_menu`` is File > Export, for the run exports to be added to, and ``view_menu``
    the View menu, for views that bring their own action (the Sweeps view)."""

    def __init__(self, host: QMainWindow, files: FileActions, commands: RunCommands,
                 curves: QWidget, docks: Sequence[QDockWidget]) -> None:
        self.host = host
        self.quit_action = self._action("&Quit", "Ctrl+Q", host.close, "Stop any run and quit")
        self.start_action = self._action("&Start", "Ctrl+Return", commands.start,
                                         "Start a new run")
        self.start_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.pause_action = self._action("&Pause", "Ctrl+P", commands.pause, "Pause or resume")
        self.stop_action = self._action("S&top", "Esc", commands.stop, "Stop the run")
        self.open_action = self._action("&Open checkpoint…", QKeySequence.StandardKey.Open,
                                        files.open_dialog,
                                        "Inspect a saved checkpoint or run in every panel")
        self.open_architecture_action = self._action(
            "Open &architecture…", "Ctrl+Shift+O", files.open_architecture_dialog,
            "Add a network spec (JSON) to the architectures and show it in the editor")
        self.open_architecture_action.setObjectName("openArchitectureAction")
        self.open_image_folder_action = self._action(
            "Open &image folder…", "Ctrl+Shift+I", files.open_image_folder_dialog,
            "Train on your own pictures: a folder with one folder of pictures per class")
        self.open_image_folder_action.setObjectName("openImageFolderAction")
        self.watch_run_action = self._action(
            "&Watch run folder…", "Ctrl+Shift+W", files.watch_dialog,
            "Follow a run that another process writes (python -m cnn_core train --out, "
            "torchrun, a synced disk) in every panel")
        self.watch_run_action.setObjectName("watchRunAction")
        self.predict_image_action = self._action(
            "&Predict image…", "Ctrl+I", files.predict_dialog,
            "Ask the current model what it sees in picture files: probabilities, feature "
            "maps and Grad-CAM")
        self.predict_image_action.setObjectName("predictImageAction")
        self.editor_action = self._action("&Network editor", "Ctrl+Shift+N",
                                          commands.edit_network,
                                          "Compose your own network, layer by layer")
        self.branch_action = self._action("&Branch from checkpoint…", "Ctrl+B",
                                          files.branch_dialog, "Start a new run from a saved "
                                          "checkpoint, with edited settings")
        self.export_action = self._action("Panel as &PNG…", "Ctrl+E", files.export_panel,
                                          "Save what the current panel shows as a PNG image")
        self.export_curves_action = self._action(
            "&Curves as PNG…", "Ctrl+Shift+E", lambda: files.export_panel(curves),
            "Save the loss and accuracy plots as a PNG image")
        self.export_gif_action = self._action("&Time-lapse…", "", files.export_timelapse,
                                              "Save the filters over time as an animated GIF")

        bar = host.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_architecture_action)
        file_menu.addAction(self.open_image_folder_action)
        file_menu.addAction(self.watch_run_action)
        file_menu.addAction(self.predict_image_action)
        file_menu.addSeparator()
        self.export_menu = file_menu.addMenu("&Export")
        for act in (self.export_action, self.export_curves_action, self.export_gif_action):
            self.export_menu.addAction(act)
        self.export_menu.addSeparator()
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = bar.addMenu("&Train")
        for act in (self.start_action, self.pause_action, self.stop_action):
            train_menu.addAction(act)
        train_menu.addSeparator()
        train_menu.addAction(self.branch_action)
        self.view_menu = view_menu = bar.addMenu("&View")
        for dock in docks:
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(self.editor_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction("&Keyboard shortcuts",
                            lambda: QMessageBox.information(host, "Keyboard shortcuts", SHORTCUTS))
        help_menu.addAction("&About CNN Studio", lambda: QMessageBox.about(
            host, "About CNN Studio", "CNN Studio trains convolutional networks built from "
            "scratch and shows what they learn while they learn."))

    def _action(self, text: str, shortcut: QKeySequence | str, slot: Callable[[], object],
                tip: str) -> QAction:
        act = QAction(text, self.host)
        act.setShortcut(QKeySequence(shortcut))
        act.setStatusTip(tip)
        act.triggered.connect(lambda _checked=False: slot())
        self.host.addAction(act)
        return act
