"""Export what a panel shows: PNG at any scale, and the time-lapse as a GIF or PNG series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget


def render_image(widget: QWidget, scale: float = 2.0) -> QImage:
    """``widget`` drawn at ``scale`` times its on-screen size (text and lines stay sharp:
    it is drawn again, not enlarged)."""
    if not 0.25 <= scale <= 8:
        raise ValueError("scale must be between 0.25 and 8")
    size = widget.size()
    image = QImage(round(size.width() * scale), round(size.height() * scale),
                   QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    widget.render(painter, QPoint(0, 0))
    painter.end()
    return image


def export_png(widget: QWidget, path: str | Path, scale: float = 2.0) -> Path:
    """Save ``widget`` as a PNG at ``scale`` times its on-screen size."""
    path = Path(path)
    image = render_image(widget, scale)
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path


def png_bytes(widget: QWidget, scale: float = 2.0) -> bytes:
    """``widget`` as PNG file contents, for an experiment bundle."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    render_image(widget, scale).save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def export_frames(frames: list[np.ndarray], path: str | Path, fps: float = 6.0,
                  scale: int = 8) -> list[Path]:
    """(H, W, 4) uint8 frames -> an animated GIF (``.gif``) or a numbered PNG series (any
    other suffix: ``name_000.png``, ...), each pixel enlarged ``scale`` times."""
    if not frames:
        raise ValueError("there are no frames to export")
    path = Path(path)
    images = [Image.fromarray(np.kron(f, np.ones((scale, scale, 1), np.uint8)).astype(np.uint8),
                              "RGBA") for f in frames]
    if path.suffix.lower() == ".gif":
        images[0].save(path, save_all=True, append_images=images[1:], loop=0,
                       duration=int(1000 / fps), disposal=2)
        return [path]
    stem = path.with_suffix("")
    paths = [Path(f"{stem}_{i:03d}.png") for i in range(len(images))]
    for image, p in zip(images, paths):
        image.save(p)
    return paths
