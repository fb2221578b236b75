"""The grid renderer the window and the exports share, and the PNGs drawn with it."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cnn_core.export import plots, render


def kernels(seed: int = 0, shape: tuple[int, ...] = (12, 1, 5, 5)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_the_diverging_colours_show_the_sign_and_zero_is_the_middle() -> None:
    grid = render.filter_grid(np.array([[[[-2.0, 0.0, 2.0]]]]))
    negative, zero, positive = grid.rgba[0, :, :3].astype(int)
    assert negative[2] > negative[0]  # blue
    assert positive[0] > positive[2]  # red
    assert np.array_equal(zero, render.DIVERGING[128, :3])
    assert zero.min() > 200  # near white


def test_a_grid_has_one_tile_per_kernel_where_tile_at_says() -> None:
    weights = kernels()
    grid = render.filter_grid(weights, cols=5)
    assert (grid.rows, grid.cols, grid.count) == (3, 5, 12)
    assert grid.rgba.shape == (3 * 5 + 2, 5 * 5 + 4, 4)
    for i in range(12):
        x, y = grid.tile_origin(i)
        assert grid.tile_at(x + 2, y + 2) == i
    assert grid.tile_at(5, 0) is None  # the gap after the first tile
    assert grid.tile_at(3 * 6 + 2, 2 * 6 + 2) is None  # past the last tile
    # a shared scale: the strongest weight of the layer gets the end of the ramp
    peak = np.unravel_index(np.abs(weights[:, 0]).argmax(), weights[:, 0].shape)
    x, y = grid.tile_origin(int(peak[0]))
    end = 0 if weights[:, 0][peak] < 0 else 255
    assert np.array_equal(grid.rgba[y + peak[1], x + peak[2]], render.DIVERGING[end])


def test_per_tile_scale_gives_each_kernel_the_whole_ramp() -> None:
    weights = kernels()
    weights[3] *= 1e-3  # a weak kernel: pale on a shared scale, vivid on its own
    shared = render.filter_grid(weights, cols=4)
    own = render.filter_grid(weights, cols=4, per_tile=True)
    x, y = shared.tile_origin(3)
    tile = (slice(y, y + 5), slice(x, x + 5))
    assert np.ptp(own.rgba[tile][..., :3].astype(int)) > 100
    assert np.ptp(shared.rgba[tile][..., :3].astype(int)) < 10


def test_a_layer_that_reads_rgb_is_drawn_in_colour() -> None:
    grid = render.filter_grid(kernels(shape=(6, 3, 5, 5)), rgb_input=True)
    rgb = grid.rgba[..., :3].astype(int)
    assert not (np.array_equal(rgb[..., 0], rgb[..., 1])
                and np.array_equal(rgb[..., 1], rgb[..., 2]))


def test_the_exported_picture_is_the_grid_enlarged() -> None:
    weights = kernels()
    pixels = plots.filter_grid(weights, tile=20)
    grid = render.filter_grid(weights, cols=render.grid_columns(12, plots.PICTURE_ASPECT))
    assert np.array_equal(pixels, render.enlarge(grid.rgba[..., :3], 4))


def contains(picture: np.ndarray, part: np.ndarray) -> bool:
    """Whether ``part`` appears pixel for pixel somewhere in ``picture``."""
    h, w = part.shape[:2]
    for y, x in zip(*np.nonzero((picture[:-h + 1, :-w + 1] == part[0, 0]).all(axis=-1))):
        if np.array_equal(picture[y:y + h, x:x + w], part):
            return True
    return False


def test_the_bundles_filters_png_holds_those_exact_pixels() -> None:
    weights = kernels(shape=(8, 1, 3, 3))
    with Image.open(io.BytesIO(plots.filters_png(weights, "conv1"))) as image:
        picture = np.asarray(image.convert("RGB"))
    assert contains(picture, plots.filter_grid(weights, tile=40))


@pytest.mark.parametrize("module", ["cnn_core.export.render", "cnn_core.export.plots"])
def test_the_renderer_needs_no_qt(module: str) -> None:
    code = f"import sys, {module}; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
