"""The Data group of the configuration: which dataset, its download, and for a folder of
one's own pictures how they are read; then its classes, counts and a few pictures.

Choosing a dataset loads it in the background (a folder is decoded once, with progress
and Cancel, and cached), so the classes and pictures appear before any training, and
Start finds the folder's pictures already decoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QProgressBar, QPushButton, QSpinBox, QWidget)

from cnn_core.data import (DatasetError, DatasetInfo, DatasetSource, PictureSettings, builtins,
                           resolve)
from cnn_core.data.folders import DecodeCancelled
from cnn_core.nn.backbone_specs import MAX_SIZE as BACKBONE_PICTURE_SIZE, MIN_SIZE
from cnn_core.train.config import TrainConfig

from ...session.datasets import DatasetService
from ...threads.dataset_preview import DatasetPreview, load_preview
from ...threads.download import describe_failure, download
from ...threads.tasks import Task
from ...widgets.thumbnails import ThumbnailGrid
from .model_group import error_label

MAX_FOLDERS = 12  # folders remembered in the list, the most recent first
FOLDER_FIELDS = ("image_size", "channels", "test_fraction")


class DataGroup(QGroupBox):
    changed = Signal()  # the choice, a folder setting, or what is known about them
    previewChanged = Signal(object)  # DatasetPreview of the chosen dataset, or None
    foldersChanged = Signal(list)  # the image folders in the list, to remember
    picturesRead = Signal(str, str)  # a folder's reading ended: (its path, "" or why not)

    def __init__(self, data_dir: Path, datasets: DatasetService, folders: Sequence[str] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__("Data", parent)
        self.data_dir = data_dir
        self.combo = QComboBox(objectName="datasetCombo")
        self._builtins = builtins()
        for source in self._builtins:
            self.combo.addItem(source.display_name, source.name)
        self.status = QLabel(wordWrap=True, objectName="datasetStatus")
        self.download_button = QPushButton("Download", objectName="downloadButton")
        self.download_cancel = QPushButton("Cancel", objectName="downloadCancelButton")
        self.download_progress = QProgressBar(objectName="downloadProgress", textVisible=True)
        self.image_size_spin = QSpinBox(objectName="imageSizeSpin", minimum=8, maximum=256,
                                        suffix=" px")
        self.channels_combo = QComboBox(objectName="channelsCombo")
        for text, value in (("As the pictures are", 0), ("Greyscale (1)", 1), ("Colour (3)", 3)):
            self.channels_combo.addItem(text, value)
        self.test_fraction_spin = QDoubleSpinBox(objectName="testFractionSpin", minimum=0.05,
                                                 maximum=0.5, singleStep=0.05, decimals=2)
        self.load_progress = QProgressBar(objectName="folderProgress", textVisible=True)
        self.load_cancel = QPushButton("Cancel", objectName="folderCancelButton")
        self.classes = QLabel(wordWrap=True, objectName="datasetClasses")
        self.preview = ThumbnailGrid("", parent=self)
        self.preview.setObjectName("datasetPreview")
        self.fields: dict[str, tuple[QWidget, QLabel]] = {}
        self.preview_data: DatasetPreview | None = None
        self._problem: str | None = None  # why the chosen dataset cannot be used
        self._folder_classes: tuple[str, ...] = ()  # of the chosen folder, before it is read
        self._datasets = datasets
        self._download: Task | None = None
        self._loading: Task | None = None
        self._build()
        for folder in folders:
            self.add_folder(folder, select=False, remember=False)
        self._connect()
        self._on_choice_changed()

    def _build(self) -> None:
        form = self.form = QFormLayout(self)
        self._row("&Dataset", "dataset", self.combo, "A bundled or downloadable dataset, or "
                  "a folder of your own pictures (File > Open image folder…, or drop one here).")
        self._row("Picture size", "image_size", self.image_size_spin,
                  "Every picture is resized to this square (8 to 256 pixels).")
        self._row("Channels", "channels", self.channels_combo,
                  "Colour keeps three channels; greyscale one. By default: colour if any "
                  "picture has colour.")
        self._row("Test fraction", "test_fraction", self.test_fraction_spin,
                  "Held out of every class for testing, when the folder has no test/ folder.")
        download_row = QHBoxLayout()
        download_row.addWidget(self.download_progress, 1)
        download_row.addWidget(self.download_button)
        download_row.addWidget(self.download_cancel)
        load_row = QHBoxLayout()
        load_row.addWidget(self.load_progress, 1)
        load_row.addWidget(self.load_cancel)
        for row in (self.status, download_row, load_row, self.classes, self.preview):
            form.addRow(row)
        for widget in (self.download_cancel, self.download_progress, self.load_progress,
                       self.load_cancel):
            widget.hide()

    def _row(self, label: str, field: str, widget: QWidget, tip: str) -> None:
        widget.setToolTip(tip)
        self.form.addRow(label, widget)
        error = error_label()
        error.setObjectName(f"{field}Error")
        self.form.addRow("", error)
        self.fields[field] = (widget, error)

    def _connect(self) -> None:
        self.combo.currentIndexChanged.connect(self._on_choice_changed)
        self.image_size_spin.editingFinished.connect(self._on_folder_settings_changed)
        self.channels_combo.currentIndexChanged.connect(self._on_folder_settings_changed)
        self.test_fraction_spin.editingFinished.connect(self._on_folder_settings_changed)
        self.download_button.clicked.connect(self.start_download)
        self.download_cancel.clicked.connect(self.cancel_download)
        self.load_cancel.clicked.connect(self.cancel_loading)

    # -- what is chosen ------------------------------------------------------------------

    @property
    def dataset(self) -> str:
        return self.combo.currentData()

    @property
    def source(self) -> DatasetSource:
        return resolve(self.dataset)

    def _settings(self) -> PictureSettings:
        return PictureSettings(self.image_size_spin.value(), self.channels_combo.currentData(),
                               round(self.test_fraction_spin.value(), 4))

    def values(self) -> dict[str, object]:
        if not self.source.has_picture_settings:
            return {"dataset": self.dataset}
        settings = self._settings()
        return {"dataset": self.dataset, "image_size": settings.image_size,
                "channels": settings.channels, "test_fraction": settings.test_fraction}

    def problem(self) -> str | None:
        """Why Start cannot use the chosen dataset yet, if it cannot."""
        if self._problem is not None:
            return self._problem
        source = self.source
        if not source.is_available(self.data_dir):
            return ("not downloaded yet: press Download first" if source.downloadable
                    else source.problem(self.data_dir))
        if self._loading is not None and source.has_picture_settings:
            return "still reading the pictures…"
        return None

    @property
    def info(self) -> DatasetInfo:
        """The chosen dataset's description; for a folder still being read, its classes
        with the shape asked for."""
        if self.preview_data is not None:
            return self.preview_data.info
        settings = self._settings()
        return self.source.info(TrainConfig(
            dataset=self.dataset, image_size=settings.image_size,
            channels=settings.channels or 3, class_names=list(self._folder_classes) or None))

    def set_config(self, config: TrainConfig) -> None:
        folder = resolve(config).has_picture_settings
        if folder:
            self.add_folder(config.dataset, select=False)
        self.image_size_spin.setValue(config.image_size)
        self.channels_combo.setCurrentIndex(max(self.channels_combo.findData(config.channels), 0))
        self.test_fraction_spin.setValue(config.test_fraction)
        index = self.combo.findData(config.dataset)
        if index >= 0 and index != self.combo.currentIndex():
            self.combo.setCurrentIndex(index)
        elif folder:
            self._on_folder_settings_changed()

    def add_folder(self, path: str | Path, *, select: bool = True, remember: bool = True) -> None:
        """Put an image folder in the list (first among the folders) and choose it."""
        name = str(Path(path).expanduser().resolve())
        index = self.combo.findData(name)
        first = len(self._builtins)
        if index < 0:
            self.combo.insertItem(first, f"{Path(name).name}  (folder)", name)
            self.combo.setItemData(first, name, Qt.ItemDataRole.ToolTipRole)
            while self.combo.count() > first + MAX_FOLDERS:
                self.combo.removeItem(self.combo.count() - 1)
            index = first
        if remember:
            self.foldersChanged.emit(self.folders())
        if select and index == self.combo.currentIndex():
            self.reload()  # chosen again: read it again (it may have changed)
        elif select:
            self.combo.setCurrentIndex(index)

    def folders(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(len(self._builtins), self.combo.count())]

    # -- loading -------------------------------------------------------------------------

    def _on_choice_changed(self) -> None:
        for field in FOLDER_FIELDS:
            self.form.setRowVisible(self.fields[field][0], self.source.has_picture_settings)
        self.reload()

    def reload(self) -> None:
        """Look at the chosen dataset afresh (e.g. in another data folder)."""
        self._refresh_status()
        self._load()

    def suit_backbone(self) -> None:
        """An ImageNet backbone sees photos at 224 pixels: a folder still at a from-scratch
        network's small size is read again at that size."""
        if self.source.has_picture_settings and self.image_size_spin.value() < MIN_SIZE:
            self.image_size_spin.setValue(BACKBONE_PICTURE_SIZE)
            self._load()

    def _on_folder_settings_changed(self) -> None:
        if self.source.has_picture_settings:
            self._load()

    def _load(self) -> None:
        """Read the chosen dataset in the background (a folder's pictures are decoded once
        and cached, so Start finds them ready)."""
        self.cancel_loading()
        self._loading = None  # what the cancelled task still reports is for nobody
        self.load_progress.hide()
        self.load_cancel.hide()
        self.preview_data, self._problem = None, None
        self.preview.clear_pictures()
        self.classes.clear()
        source = self.source
        if source.has_picture_settings:  # its classes now, its pictures once read
            try:
                self._folder_classes = source.class_names()
            except DatasetError:
                self._folder_classes = ("?", "?")
        problem = source.problem(self.data_dir)
        if problem is not None and not source.downloadable:
            self._problem = problem
        elif problem is None and self._download is None:
            # a built-in dataset ignores the folder settings
            task = Task(load_preview, source, self.data_dir, self._settings())
            task.progressed.connect(self._on_load_progress)
            task.succeeded.connect(lambda preview, t=task: self._on_loaded(t, preview))
            task.failed.connect(lambda exc, t=task: self._on_load_failed(t, exc))
            task.finished.connect(lambda t=task: self._on_load_finished(t))
            self._loading = task
            self.load_progress.setRange(0, 0)
            self.load_progress.setFormat("reading…")
            self._datasets.start(task)
        self.previewChanged.emit(None)
        self.changed.emit()

    def cancel_loading(self) -> None:
        """Stop reading a folder (its task reports the cancel as its failure)."""
        if self._loading is not None:
            self._loading.cancel()

    def _on_load_progress(self, done: float, total: float, what: str) -> None:
        if self.sender() is not self._loading:
            return
        self.load_progress.show()
        self.load_cancel.show()
        if total:
            self.load_progress.setRange(0, int(total))
            self.load_progress.setValue(int(done))
            self.load_progress.setFormat(f"{what}: {int(done):,} of {int(total):,} pictures")

    def _on_loaded(self, task: Task, preview: DatasetPreview) -> None:
        if task is not self._loading:
            return
        self.preview_data = preview
        names = preview.info.class_names
        self.classes.setText(f"{len(names)} classes, {preview.train_size:,} train / "
                             f"{preview.test_size:,} test: " +
                             ", ".join(f"{n} ({c:,})" for n, c in zip(names, preview.counts)))
        self.preview.set_pictures(preview.thumbnails,
                                  [names[i] for i in preview.thumbnail_labels])
        self._refresh_status()
        self.previewChanged.emit(preview)
        self._read()

    def _on_load_failed(self, task: Task, exc: Exception) -> None:
        if task is self._loading:
            self._problem = ("reading the pictures was cancelled: open the folder again to "
                             "read them" if isinstance(exc, DecodeCancelled) else str(exc))
            self._read()

    def _on_load_finished(self, task: Task) -> None:
        if task is self._loading:  # cancelled before it began: it neither succeeded nor failed
            self._read()

    def _read(self) -> None:
        """The read has answered (its thread may not yet have said ``finished``): Start may
        use what it read."""
        self._loading = None
        self.load_progress.hide()
        self.load_cancel.hide()
        self._refresh_status()
        self.changed.emit()
        if self.source.has_picture_settings:
            self.picturesRead.emit(self.dataset, self._problem or "")

    # -- status and downloads -------------------------------------------------------------

    def _refresh_status(self) -> None:
        for i, builtin in enumerate(self._builtins):
            present = not builtin.downloadable or builtin.is_available(self.data_dir)
            self.combo.setItemText(i, builtin.display_name +
                                   ("" if present else "  (not downloaded)"))
        source, preview = self.source, self.preview_data
        if preview is not None and source.has_picture_settings:
            text = preview.info.description
            if preview.warnings:
                text += " " + " ".join(w[0].upper() + w[1:] + "." for w in preview.warnings)
        else:
            text = source.describe(self.data_dir)
        self.status.setText(text)
        self.download_button.setVisible(
            source.downloadable and self._download is None
            and not source.is_available(self.data_dir))

    def start_download(self) -> None:
        source = self.source
        if self._download is not None or not source.downloadable:
            return
        task = Task(download, source, self.data_dir)
        task.progressed.connect(self._on_download_progress)
        task.failed.connect(lambda exc: self.status.setText(describe_failure(exc)))
        task.finished.connect(self._on_download_finished)
        self._download = task
        self.download_progress.setRange(0, 0)
        self.download_progress.setFormat(f"connecting for {source.display_name}…")
        self.download_progress.show()
        self.download_cancel.show()
        self.combo.setEnabled(False)
        self._refresh_status()
        self._datasets.start(task)

    def cancel_download(self) -> None:
        if self._download is not None:
            self._download.cancel()

    def _on_download_progress(self, done: float, total: float, what: str) -> None:
        if total:
            self.download_progress.setRange(0, 1000)
            self.download_progress.setValue(int(1000 * done / total))
            self.download_progress.setFormat(f"{what}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.download_progress.setRange(0, 0)
            self.download_progress.setFormat(what)

    def _on_download_finished(self) -> None:
        self._download = None
        self.download_progress.hide()
        self.download_cancel.hide()
        self.combo.setEnabled(True)
        message = self.status.text()
        self._refresh_status()
        if not self.source.is_available(self.data_dir):
            self.status.setText(message)  # why it failed
        else:
            self._load()
        self.changed.emit()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel a download or a folder being read, and wait (bounded) for the thread."""
        self._datasets.shutdown(timeout_ms)
