"""Filters and feature maps as one grid of RGBA pixels, drawn with NumPy alone.

The window's filter and feature-map views and the exported pictures (TensorBoard, the
experiment bundle) all draw with this module, so a picture saved from the command line
has the window's colours, scales and layout. A whole grid is one array: a 256-tile
layer costs the window one image to draw, not 256.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

MEAN = -1  # a "channel" meaning: the mean over all input channels
BACKGROUND = np.array([250, 250, 250, 255], dtype=np.uint8)


def _ramp(anchors: list[tuple[int, int, int]]) -> np.ndarray:
    """A 256-colour RGBA lookup table through evenly spaced anchor colours."""
    at = np.linspace(0.0, 1.0, len(anchors))
    x = np.linspace(0.0, 1.0, 256)
    rgb = np.array(anchors, dtype=np.float64)
    table = np.stack([np.interp(x, at, rgb[:, c]) for c in range(3)], axis=-1)
    alpha = np.full((256, 1), 255.0)
    return np.rint(np.concatenate([table, alpha], axis=-1)).astype(np.uint8)


# Diverging (colorcet's CET-D1): blue for negative, near-white for zero, red for
# positive, so a weight's sign is visible. 17 anchors keep it within 10/255 of the full map.
DIVERGING = _ramp([(33, 81, 219), (82, 98, 222), (112, 117, 226), (138, 136, 229),
                   (160, 156, 232), (182, 177, 234), (202, 197, 237), (221, 219, 239),
                   (238, 231, 233), (242, 215, 208), (240, 190, 178), (237, 165, 148),
                   (231, 140, 119), (224, 115, 91), (215, 88, 63), (204, 57, 36),
                   (192, 2, 6)])
# Sequential (viridis) for activations, which have no sign after a ReLU.
SEQUENTIAL = _ramp([(68, 1, 84), (72, 24, 106), (71, 45, 123), (66, 64, 134), (59, 82, 139),
                    (51, 99, 141), (44, 114, 142), (38, 130, 142), (33, 145, 140),
                    (31, 159, 136), (39, 173, 129), (61, 188, 116), (92, 200, 99),
                    (129, 211, 77), (170, 220, 50), (213, 226, 26), (253, 231, 37)])


@dataclass(frozen=True)
class Grid:
    """A rendered grid and where its tiles are."""

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
    """Columns for a grid about ``aspect`` times as wide as high, in tiles."""
    return max(1, math.ceil(math.sqrt(count * aspect)))


def to_unit(values: np.ndarray, per_tile: bool, signed: bool) -> np.ndarray:
    """Scale (n, ...) values into 0..1 for a colour table.

    ``signed``: symmetric around zero (0.5 = zero), so the diverging table shows the sign.
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


def render_grid(tiles: np.ndarray, cols: int | None = None, pad: int = 1,
                table: np.ndarray = DIVERGING, per_tile: bool = False,
                signed: bool = True) -> Grid:
    """``tiles``: (n, h, w) scalars (coloured through ``table``) or (n, h, w, 3) colour."""
    return lay_out(colour(tiles, table, per_tile, signed), cols, pad)


def colour(tiles: np.ndarray, table: np.ndarray = DIVERGING, per_tile: bool = False,
           signed: bool = True) -> np.ndarray:
    """(n, h, w) scalars through ``table``, or (n, h, w, 3) colour scaled into 0..255, as
    (n, h, w, 4) uint8 RGBA tiles."""
    n, h, w = tiles.shape[:3]
    if tiles.ndim == 4:
        unit = to_unit(tiles, per_tile, signed=False)
        return np.concatenate([(unit * 255).round().astype(np.uint8),
                               np.full((n, h, w, 1), 255, np.uint8)], axis=-1)
    unit = to_unit(tiles, per_tile, signed)
    return table[np.clip(np.rint(unit * 255), 0, 255).astype(np.uint8)]


def lay_out(rgba: np.ndarray, cols: int | None = None, pad: int = 1) -> Grid:
    """(n, h, w, 4) uint8 tiles, already coloured, in rows of ``cols`` on the background."""
    n, h, w = rgba.shape[:3]
    cols = cols or grid_columns(n)
    rows = max(1, math.ceil(n / cols))
    out = np.empty((rows * (h + pad) - pad, cols * (w + pad) - pad, 4), np.uint8)
    out[:] = BACKGROUND
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = rgba[i]
    return Grid(out, rows, cols, h, w, pad, n)


def kernel_tiles(weights: np.ndarray, channel: int = MEAN, rgb_input: bool = False) -> np.ndarray:
    """(out, in, kh, kw) -> tiles: (out, kh, kw, 3) colour for a layer that reads RGB
    images, else (out, kh, kw) for one input channel or the mean over all of them."""
    if rgb_input and weights.shape[1] == 3 and channel == MEAN:
        return weights.transpose(0, 2, 3, 1)
    if channel == MEAN:
        return weights.mean(axis=1)
    return weights[:, channel]


def first_reads_colour(filters: Mapping[str, np.ndarray]) -> bool:
    """Whether the first conv layer's kernels (``filters``' first, (out, in, kh, kw)) are
    drawn in colour: they read three channels, the red, green and blue of a colour
    picture or of any picture a backbone prepares (it repeats a grey one three times)."""
    first = next(iter(filters.values()), None)
    return first is not None and first.ndim == 4 and first.shape[1] == 3


def filter_grid(weights: np.ndarray, cols: int | None = None, channel: int = MEAN,
                per_tile: bool = False, rgb_input: bool = False) -> Grid:
    """A conv layer's kernels ``(out, in, kh, kw)`` as the window's Filters panel draws
    them: one tile per kernel, a shared scale unless ``per_tile``."""
    tiles = kernel_tiles(np.asarray(weights, np.float32), channel, rgb_input)
    return render_grid(tiles, cols=cols or grid_columns(len(tiles)), per_tile=per_tile)


def enlarge(pixels: np.ndarray, scale: int) -> np.ndarray:
    """Every pixel as a ``scale`` x ``scale`` block: small kernels stay crisp in a picture."""
    return pixels.repeat(scale, axis=0).repeat(scale, axis=1)
