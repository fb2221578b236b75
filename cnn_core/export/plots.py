"""Training curves, filter grids and the learning-rate finder's curve as PNG bytes, drawn
with Pillow alone.

The experiment bundle made from the command line has no window to render, and
``cnn_core`` never imports Qt, so its pictures are drawn here: plain axes, ticks, labels
and a legend -- enough to read a run at a glance in any image viewer. Filter grids come
from :mod:`.render`, the window's own renderer, so they look as they do in the window.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..train.callbacks import EpochMetrics
from ..train.lr_find import LrFinding
from . import render

TRAIN_COLOUR = (30, 136, 229)  # the window's curve colours
TEST_COLOUR = (229, 57, 53)
PICTURE_ASPECT = 1.6  # a filter grid about this many times as wide as high
_INK = (40, 40, 40)
_GRID = (228, 228, 228)
# Draw at twice the size, then shrink: smooth lines and text without antialiasing support.
_SS = 2

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


def filter_grid(weights: np.ndarray, tile: int = 24, rgb_input: bool = False) -> np.ndarray:
    """One RGB uint8 image of a conv layer's kernels ``(out, in, kh, kw)``, in the window's
    colours and scale (see :mod:`.render`), each kernel enlarged to about ``tile`` pixels
    so that 3x3 and 5x5 kernels are not specks."""
    if weights.ndim != 4 or min(weights.shape) == 0:
        raise ValueError(f"expected conv weights (out, in, kh, kw), got shape {weights.shape}")
    grid = render.filter_grid(weights, cols=render.grid_columns(len(weights), PICTURE_ASPECT),
                              rgb_input=rgb_input)
    return render.enlarge(grid.rgba[..., :3], max(1, round(tile / max(weights.shape[2:]))))


def _text_block(lines: Sequence[tuple[str, int, tuple[int, int, int]]]) -> Image.Image:
    """Lines of (text, size, colour) on white, drawn at twice the size and shrunk."""
    fonts = [_font(size) for _, size, _ in lines]
    heights = [round(size * 1.45) * _SS for _, size, _ in lines]
    width = max(_text_size(font, text)[0] for font, (text, _, _) in zip(fonts, lines))
    image = Image.new("RGB", (width + 2 * _SS, sum(heights)), "white")
    draw = ImageDraw.Draw(image)
    y = 0
    for font, height, (text, _, colour) in zip(fonts, heights, lines):
        draw.text((0, y), text, font=font, fill=colour)
        y += height
    return image.resize((image.width // _SS, image.height // _SS), Image.Resampling.LANCZOS)


def filters_png(weights: np.ndarray, layer: str) -> bytes:
    """The kernels of a network's first conv layer as a titled PNG, drawn as the window
    draws them (a layer that reads three channels reads RGB images: shown in colour)."""
    n, channels, kh, kw = weights.shape
    rgb = channels == 3
    grid = Image.fromarray(filter_grid(weights, tile=40, rgb_input=rgb))
    note = ("each kernel's RGB weights as a colour" if rgb else
            "red > 0 > blue, one scale for all filters"
            + (f", mean of {channels} input channels" if channels > 1 else ""))
    header = _text_block([(f"{layer}: {n} filters, {kh}x{kw}", 14, _INK),
                          (note, 11, (110, 110, 110))])
    margin = 12
    image = Image.new("RGB", (max(grid.width, header.width) + 2 * margin,
                              header.height + grid.height + 3 * margin), "white")
    image.paste(header, (margin, margin))
    image.paste(grid, ((image.width - grid.width) // 2, header.height + 2 * margin))
    return _png(image)


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


# -- the learning-rate finder ------------------------------------------------------------

RAW_COLOUR = (170, 205, 240)  # the loss of each batch: the smoothed curve's colour, faint


def _decades(lo: float, hi: float) -> list[int]:
    """The powers of ten that bracket ``lo..hi``."""
    first, last = math.floor(math.log10(lo) + 1e-9), math.ceil(math.log10(hi) - 1e-9)
    return list(range(first, max(last, first + 1) + 1))


def lr_loss_range(finding: LrFinding) -> tuple[float, float]:
    """The loss axis of the finder's curve: down to the lowest loss seen (smoothed or of a
    batch), up to a quarter above the smoothed loss's top before its lowest point, so that
    where it falls fills the picture and the divergence at the end leaves through the top
    instead of squashing the rest."""
    smoothed = np.where(np.isfinite(finding.losses), finding.losses, np.inf)
    raw = finding.raw_losses[np.isfinite(finding.raw_losses)]
    lowest = int(np.argmin(smoothed))
    before = smoothed[:lowest + 1]
    top = float(before[np.isfinite(before)].max(initial=smoothed[lowest]))
    bottom = float(min(smoothed[lowest], raw.min(initial=np.inf)))
    finite = smoothed[np.isfinite(smoothed)]
    return bottom, max(min(float(finite.max()), 1.25 * top), bottom + 1e-6)


def lr_curve_png(finding: LrFinding, title: str = "") -> bytes:
    """The finder's loss against the learning rate on a log axis: smoothed, with the loss
    of each batch faint behind it, and the suggested rate marked (the loss axis:
    :func:`lr_loss_range`)."""
    if len(finding.lrs) < 2:
        raise ValueError("the finder tried fewer than two learning rates: nothing to plot")
    s, width, height = _SS, 900, 480
    image = Image.new("RGB", (width * s, height * s), "white")
    draw = ImageDraw.Draw(image)
    font, small = _font(14), _font(11)
    left, right, top, bottom = 70 * s, (width - 24) * s, 64 * s, (height - 52) * s

    decades = _decades(float(finding.lrs[0]), float(finding.lrs[-1]))
    xlo, xhi = decades[0], decades[-1]
    ylo, yhi, yticks = nice_ticks(*lr_loss_range(finding))

    def px(lr: float, loss: float) -> tuple[float, float]:
        return (left + (math.log10(lr) - xlo) / (xhi - xlo) * (right - left),
                bottom - (loss - ylo) / (yhi - ylo) * (bottom - top))

    for t in yticks:
        _, y = px(10.0 ** xlo, t)
        draw.line([(left, y), (right, y)], fill=_GRID, width=s)
        w, h = _text_size(small, f"{t:g}")
        draw.text((left - 8 * s - w, y - h / 2), f"{t:g}", font=small, fill=_INK)
    for k in decades:
        x, _ = px(10.0 ** k, ylo)
        draw.line([(x, top), (x, bottom)], fill=_GRID, width=s)
        draw.line([(x, bottom), (x, bottom + 6 * s)], fill=_INK, width=s)
        label = f"1e{k:+d}"
        w, _ = _text_size(small, label)
        draw.text((x - w / 2, bottom + 9 * s), label, font=small, fill=_INK)
        for m in range(2, 10):  # minor ticks inside the decade
            if k < xhi:
                mx, _ = px(m * 10.0 ** k, ylo)
                draw.line([(mx, bottom), (mx, bottom + 3 * s)], fill=_INK, width=s)
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=_INK, width=s)
    w, _ = _text_size(small, "learning rate (log scale)")
    draw.text(((left + right) / 2 - w / 2, bottom + 28 * s), "learning rate (log scale)",
              font=small, fill=_INK)
    _vertical_text(image, "cross-entropy loss", small, (16 * s, (top + bottom) // 2))
    draw.text((left, 12 * s), title or "Learning-rate finder", font=font, fill=_INK)

    # the curves, drawn on a layer of the plot area alone so that nothing crosses the axes
    layer = Image.new("RGBA", (right - left, bottom - top), (255, 255, 255, 0))
    ink = ImageDraw.Draw(layer)

    def line(values: np.ndarray, colour: tuple[int, int, int], thickness: int) -> None:
        points = [(x - left, y - top) for x, y in
                  (px(lr, v) for lr, v in zip(finding.lrs, values) if math.isfinite(v))]
        if len(points) > 1:
            ink.line(points, fill=colour, width=thickness * s, joint="curve")

    line(finding.raw_losses, RAW_COLOUR, 1)
    line(finding.losses, TRAIN_COLOUR, 2)
    image.paste(layer, (left, top), layer)

    legend = [("loss (smoothed)", TRAIN_COLOUR), ("loss of each batch", RAW_COLOUR),
              ("suggestion", TEST_COLOUR)]
    x = right
    for name, colour in reversed(legend):  # right-aligned under the title
        w, h = _text_size(small, name)
        x -= w
        draw.text((x, 38 * s), name, font=small, fill=_INK)
        x -= 24 * s
        mid = 38 * s + h / 2 + s
        draw.line([(x, mid), (x + 18 * s, mid)], fill=colour, width=3 * s)
        x -= 14 * s

    suggestion = finding.suggestion
    if math.isfinite(suggestion) and suggestion > 0:
        sx, _ = px(suggestion, ylo)
        for y in range(top, bottom, 8 * s):  # dashed
            draw.line([(sx, y), (sx, min(y + 4 * s, bottom))], fill=TEST_COLOUR, width=2 * s)
        at = int(np.argmin(np.abs(np.log(finding.lrs / suggestion))))
        _, sy = px(suggestion, float(finding.losses[at]))
        r = 4 * s
        if top <= sy <= bottom:
            draw.ellipse([sx - r, sy - r, sx + r, sy + r], fill=TEST_COLOUR)
        label = f"suggested {suggestion:.2g}"
        w, h = _text_size(font, label)
        lx = sx + 6 * s if sx + 6 * s + w <= right else sx - 6 * s - w  # inside the plot
        draw.text((lx, top + 4 * s), label, font=font, fill=TEST_COLOUR)
    return _png(image.resize((width, height), Image.Resampling.LANCZOS))
