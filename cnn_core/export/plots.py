"""Training curves and filter grids as PNG bytes, drawn with Pillow alone.

The experiment bundle made from the command line has no window to render, and
``cnn_core`` never imports Qt, so its pictures are drawn here: plain axes, ticks, labels
and a legend -- enough to read a run at a glance in any image viewer.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..train.callbacks import EpochMetrics

TRAIN_COLOUR = (31, 119, 180)
TEST_COLOUR = (230, 115, 0)
_INK = (40, 40, 40)
_GRID = (228, 228, 228)
_FRAME = (200, 200, 200)
# Draw at twice the size, then shrink: smooth lines and text without antialiasing support.
_SS = 2
# Weights: blue for negative, white for zero, red for positive, so the sign is visible.
_NEGATIVE = np.array([33, 102, 172], dtype=np.float32)
_ZERO = np.array([247, 247, 247], dtype=np.float32)
_POSITIVE = np.array([178, 24, 43], dtype=np.float32)

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont
Series = tuple[str, tuple[int, int, int], Sequence[float]]


def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size * _SS)
    except TypeError:  # Pillow < 10.1 has one small bitmap font only
        return ImageFont.load_default()


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _text_size(font: Font, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text)
    return int(right - left), int(bottom - top)


# -- filters -----------------------------------------------------------------------------


def _diverging(unit: np.ndarray) -> np.ndarray:
    """Values in -1..1 -> RGB uint8 on the blue-white-red ramp."""
    t = unit[..., None]
    colour = np.where(t >= 0, _ZERO + t * (_POSITIVE - _ZERO), _ZERO - t * (_NEGATIVE - _ZERO))
    return np.clip(np.rint(colour), 0, 255).astype(np.uint8)


def _grid_columns(n: int) -> int:
    """Columns of a roughly square grid, preferring one whose last row is full
    (32 kernels: 8 x 4 rather than 6 x 6 with four gaps)."""
    square = math.ceil(math.sqrt(n))
    return min(range(square, 2 * square + 1), key=lambda cols: (-n % cols, cols))


def filter_grid(weights: np.ndarray, tile: int = 24, pad: int = 2) -> np.ndarray:
    """One RGB uint8 image of a conv layer's kernels ``(out, in, kh, kw)``.

    Shows the first input channel of every kernel, each scaled by its own largest
    magnitude (a kernel's pattern stays visible however small its weights), enlarged to
    about ``tile`` pixels so 3x3 and 5x5 kernels are not specks.
    """
    if weights.ndim != 4 or min(weights.shape) == 0 or pad < 2:
        raise ValueError(f"expected conv weights (out, in, kh, kw) and pad >= 2 (room for a "
                         f"frame), got shape {weights.shape}, pad {pad}")
    kernels = weights[:, 0].astype(np.float32)
    n, kh, kw = kernels.shape
    peak = np.abs(kernels).max(axis=(1, 2), keepdims=True)
    tiles = _diverging(kernels / np.where(peak > 0, peak, 1.0))
    scale = max(1, round(tile / max(kh, kw)))
    tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    th, tw = kh * scale, kw * scale
    cols = _grid_columns(n)
    rows = math.ceil(n / cols)
    out = np.full((rows * (th + pad) + pad, cols * (tw + pad) + pad, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (th + pad), pad + c * (tw + pad)
        out[y - 1:y + th + 1, x - 1:x + tw + 1] = _FRAME
        out[y:y + th, x:x + tw] = tiles[i]
    return out


def filters_png(weights: np.ndarray, layer: str) -> bytes:
    """The kernels of one conv layer as a titled PNG."""
    grid = Image.fromarray(filter_grid(weights, tile=40, pad=3))
    grid = grid.resize((grid.width * _SS, grid.height * _SS), Image.Resampling.NEAREST)
    n, channels, kh, kw = weights.shape
    title = f"{layer}: {n} filters, {kh}x{kw}" + (", input channel 1" if channels > 1 else "")
    note = "red > 0 > blue, each filter scaled to its own range"
    font, small = _font(14), _font(11)
    margin = 12 * _SS
    text_w = max(_text_size(font, title)[0], _text_size(small, note)[0])
    header = 48 * _SS
    image = Image.new("RGB", (max(grid.width, text_w) + 2 * margin,
                              grid.height + header + margin), "white")
    draw = ImageDraw.Draw(image)
    draw.text((margin, margin), title, font=font, fill=_INK)
    draw.text((margin, margin + 20 * _SS), note, font=small, fill=(110, 110, 110))
    image.paste(grid, ((image.width - grid.width) // 2, header))
    return _png(image.resize((image.width // _SS, image.height // _SS), Image.Resampling.LANCZOS))


# -- curves ------------------------------------------------------------------------------


def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[float, float, list[float]]:
    """An axis range that covers ``lo..hi`` and its ticks, spaced 1, 2, 2.5 or 5 x 10^k."""
    if not hi > lo:
        pad = abs(lo) * 0.05 or 0.5
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start, stop = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks = [round(start + i * step, 12) for i in range(round((stop - start) / step) + 1)]
    return start, stop, ticks


def _epoch_ticks(first: int, last: int) -> tuple[float, float, list[int]]:
    """Whole-epoch ticks, at most about eight of them."""
    if first == last:
        return first - 0.5, last + 0.5, [first]
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9)
                if (last - first) / s <= 8)
    return first, last, list(range(math.ceil(first / step) * step, last + 1, step)) or [first]


def _vertical_text(image: Image.Image, text: str, font: Font, centre: tuple[int, int]) -> None:
    w, h = _text_size(font, text)
    mask = Image.new("L", (w + 4, h + 8), 0)
    left, top = font.getbbox(text)[:2]
    ImageDraw.Draw(mask).text((2 - left, 4 - top), text, font=font, fill=255)
    mask = mask.rotate(90, expand=True)
    ink = Image.new("RGB", mask.size, _INK)
    image.paste(ink, (centre[0] - mask.width // 2, centre[1] - mask.height // 2), mask)


def _panel(image: Image.Image, box: tuple[int, int, int, int], title: str, ylabel: str,
           epochs: Sequence[int], series: Sequence[Series]) -> None:
    """One chart (title, legend, gridlines, ticks, axis labels, lines) inside ``box``."""
    draw = ImageDraw.Draw(image)
    font, small = _font(14), _font(11)
    s = _SS
    x0, y0, x1, y1 = box
    left, right, top, bottom = x0 + 64 * s, x1 - 16 * s, y0 + 36 * s, y1 - 46 * s

    values = [v for _, _, ys in series for v in ys if math.isfinite(v)]
    ylo, yhi, yticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
    xlo, xhi, xticks = _epoch_ticks(min(epochs), max(epochs))

    def px(x: float, y: float) -> tuple[float, float]:
        return (left + (x - xlo) / (xhi - xlo) * (right - left),
                bottom - (y - ylo) / (yhi - ylo) * (bottom - top))

    for t in yticks:
        _, y = px(xlo, t)
        draw.line([(left, y), (right, y)], fill=_GRID, width=s)
        label = f"{t:g}"
        w, h = _text_size(small, label)
        draw.text((left - 8 * s - w, y - h / 2), label, font=small, fill=_INK)
    for t in xticks:
        x, _ = px(t, ylo)
        draw.line([(x, bottom), (x, bottom + 5 * s)], fill=_INK, width=s)
        w, _ = _text_size(small, str(t))
        draw.text((x - w / 2, bottom + 8 * s), str(t), font=small, fill=_INK)
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=_INK, width=s)

    draw.text((left, y0 + 8 * s), title, font=font, fill=_INK)
    w, _ = _text_size(small, "epoch")
    draw.text(((left + right) / 2 - w / 2, bottom + 26 * s), "epoch", font=small, fill=_INK)
    _vertical_text(image, ylabel, small, (x0 + 14 * s, (top + bottom) // 2))

    legend_x = right
    for name, colour, _ in reversed(series):  # right-aligned in the title row
        w, h = _text_size(small, name)
        legend_x -= w
        draw.text((legend_x, y0 + 11 * s), name, font=small, fill=_INK)
        legend_x -= 24 * s
        mid = y0 + 11 * s + h / 2 + s
        draw.line([(legend_x, mid), (legend_x + 18 * s, mid)], fill=colour, width=3 * s)
        legend_x -= 14 * s

    for _, colour, ys in series:
        points = [px(x, y) for x, y in zip(epochs, ys) if math.isfinite(y)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2 * s, joint="curve")
        r = 3 * s
        for x, y in points:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)


def curves_png(metrics: Sequence[EpochMetrics], title: str = "") -> bytes:
    """Loss and accuracy per epoch, train and test, side by side."""
    if not metrics:
        raise ValueError("there is no finished epoch to plot")
    width, height, header = 1000, 380, (30 if title else 0)
    image = Image.new("RGB", (width * _SS, (height + header) * _SS), "white")
    if title:
        ImageDraw.Draw(image).text((16 * _SS, 10 * _SS), title, font=_font(15), fill=_INK)
    epochs = [m.epoch for m in metrics]
    half, top, bottom = width * _SS // 2, header * _SS, (height + header) * _SS
    _panel(image, (0, top, half, bottom), "Loss", "cross-entropy loss", epochs,
           [("train", TRAIN_COLOUR, [m.train_loss for m in metrics]),
            ("test", TEST_COLOUR, [m.test_loss for m in metrics])])
    _panel(image, (half, top, 2 * half, bottom), "Accuracy", "accuracy (%)", epochs,
           [("train", TRAIN_COLOUR, [100 * m.train_acc for m in metrics]),
            ("test", TEST_COLOUR, [100 * m.test_acc for m in metrics])])
    return _png(image.resize((width, height + header), Image.Resampling.LANCZOS))
