"""Folders of generated pictures for the image-folder tests and benchmarks: coloured
circles, squares and triangles on varied backgrounds, as PNG and JPEG of several sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle")


def draw_shape(shape: str, size: int, rng: np.random.Generator, colour: bool = True) -> Image.Image:
    """One picture of ``shape``: random place, size and colours."""
    def paint(light: bool) -> tuple[int, int, int]:
        lo, hi = (150, 256) if light else (0, 110)
        rgb = rng.integers(lo, hi, 3)
        return tuple(int(v) for v in (rgb if colour else [rgb[0]] * 3))

    image = Image.new("RGB", (size, size), paint(light=True))
    draw = ImageDraw.Draw(image)
    r = size * rng.uniform(0.22, 0.38)
    cx, cy = (size / 2 + size * rng.uniform(-0.1, 0.1, 2))
    fill = paint(light=False)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    return image


def make_folder(root: Path, per_class: int = 30, *, seed: int = 0, colour: bool = True,
                sizes: tuple[int, ...] = (24, 40, 64), classes: tuple[str, ...] = SHAPES) -> Path:
    """``root/<shape>/<n>.png|jpg``: ``per_class`` pictures of every shape."""
    rng = np.random.default_rng(seed)
    for shape in classes:
        folder = root / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = draw_shape(shape, int(sizes[i % len(sizes)]), rng, colour)
            suffix = ".jpg" if i % 3 == 2 else ".png"
            image.save(folder / f"{shape}{i:05d}{suffix}")
    return root
