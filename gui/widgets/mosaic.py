"""Arrange many small images (kernels, feature maps) into one labelled grid image.

Rendering a whole grid as one RGBA array and one ``ImageItem`` keeps a 256-tile layer as
cheap to draw as a single picture. Colours are computed here, so the same pixels go to
the screen, to PNG export and to the time-lapse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

BACKGROUND = np.array([250, 250, 250, 255], dtype=np.uint8)
# Diverging: blue for negative, white for zero, red for positive -- the sign is visible.
DIVERGING = pg.colormap.get("CET-D1")
SEQUENTIAL = pg.colormap.get("viridis")


@dataclass(frozen=True)
class Grid:
    rgba: np.ndarray  # (H, W, 4) uint8
    rows: int
    cols: int
    tile_h: int
    tile_w: int
    pad: int
    count: int

    def tile_at(self, x: float, y: float) -> int | None:
        """Index of the tile under image pixel (x, y), or None in a gap or outside."""
        col, cx = divmod(int(x), self.tile_w + self.pad)
        row, cy = divmod(int(y), self.tile_h + self.pad)
        if x < 0 or y < 0 or cx >= self.tile_w or cy >= self.tile_h or col >= self.cols:
            return None
        index = row * self.cols + col
        return index if index < self.count else None

    def tile_origin(self, index: int) -> tuple[int, int]:
        row, col = divmod(index, self.cols)
        return col * (self.tile_w + self.pad), row * (self.tile_h + self.pad)


def grid_columns(count: int, aspect: float = 1.0) -> int:
    """Columns for a roughly square grid (``aspect`` = wanted width / height in tiles)."""
    return max(1, math.ceil(math.sqrt(count * aspect)))


def to_unit(values: np.ndarray, per_tile: bool, signed: bool) -> np.ndarray:
    """Scale (n, ...) values into 0..1 for a colour map.

    ``signed``: symmetric around zero (0.5 = zero), so the diverging map shows the sign.
    ``per_tile``: each tile uses its own range, showing its pattern whatever its size.
    """
    v = values.astype(np.float32)
    axes = tuple(range(1, v.ndim)) if per_tile else None
    if signed:
        m = np.abs(v).max(axis=axes, keepdims=per_tile) if v.size else 1.0
        m = np.where(m > 0, m, 1.0)
        return 0.5 + 0.5 * v / m
    lo = v.min(axis=axes, keepdims=per_tile)
    hi = v.max(axis=axes, keepdims=per_tile)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return (v - lo) / span


def _lookup_table(cmap: pg.ColorMap) -> np.ndarray:
    """256 RGBA colours of ``cmap`` (indexing a table is far cheaper than interpolating)."""
    table = _TABLES.get(id(cmap))
    if table is None:
        table = _TABLES[id(cmap)] = cmap.getLookupTable(0.0, 1.0, 256, alpha=True, mode="byte")
    return table


_TABLES: dict[int, np.ndarray] = {}


def render_grid(tiles: np.ndarray, cols: int | None = None, pad: int = 1,
                cmap: pg.ColorMap | None = DIVERGING, per_tile: bool = False,
                signed: bool = True) -> Grid:
    """``tiles``: (n, h, w) scalars (coloured by ``cmap``) or (n, h, w, 3) RGB in 0..1."""
    n, h, w = tiles.shape[:3]
    cols = cols or grid_columns(n)
    rows = max(1, math.ceil(n / cols))
    if tiles.ndim == 4:  # already colour: scale into 0..1 and add alpha
        unit = to_unit(tiles, per_tile, signed=False)
        rgba = np.concatenate([(unit * 255).round().astype(np.uint8),
                               np.full((n, h, w, 1), 255, np.uint8)], axis=-1)
    else:
        unit = to_unit(tiles, per_tile, signed)
        index = np.clip(np.rint(unit * 255), 0, 255).astype(np.uint8)
        rgba = _lookup_table(cmap)[index]
    out = np.empty((rows * (h + pad) - pad, cols * (w + pad) - pad, 4), np.uint8)
    out[:] = BACKGROUND
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = rgba[i]
    return Grid(out, rows, cols, h, w, pad, n)
