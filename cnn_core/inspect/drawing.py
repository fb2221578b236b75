"""Turn a hand drawing into the input a network trained on MNIST expects.

MNIST's digits were scaled (keeping their aspect ratio) to fit a 20x20 box, then placed
in a 28x28 field so that their centre of mass sits at the centre. A drawing that skips
these steps -- a small digit in a corner, say -- looks nothing like the training data,
and the network's answer would say more about the preprocessing than about the network.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

FIELD = 28  # output side
BOX = 20  # the digit's longer side after scaling
INK = 0.05  # below this a pixel counts as paper


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, col) of the intensity-weighted centre, in pixel-centre coordinates."""
    total = float(image.sum())
    if total <= 0:
        return ((image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2)
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def preprocess_drawing(canvas: np.ndarray) -> np.ndarray:
    """A (H, W) drawing in 0..1 (ink = 1) -> (28, 28) float32 in 0..1, MNIST-style.

    An empty canvas gives an empty field.
    """
    canvas = np.asarray(canvas, dtype=np.float32)
    inked = np.argwhere(canvas > INK)
    field = np.zeros((FIELD, FIELD), np.float32)
    if len(inked) == 0:
        return field
    (top, left), (bottom, right) = inked.min(0), inked.max(0) + 1
    digit = canvas[top:bottom, left:right]
    h, w = digit.shape
    scale = BOX / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    # Antialiased resize, as MNIST's digits were: thin strokes stay visible at 20x20.
    small = F.interpolate(torch.from_numpy(digit)[None, None], size=size, mode="bilinear",
                          antialias=True, align_corners=False)[0, 0].clamp_(0, 1).numpy()
    # Put the centre of mass at the field's centre (13.5, 13.5), to the nearest pixel.
    com_r, com_c = centre_of_mass(small)
    top = int(round((FIELD - 1) / 2 - com_r))
    left = int(round((FIELD - 1) / 2 - com_c))
    top = min(max(top, 0), FIELD - small.shape[0])
    left = min(max(left, 0), FIELD - small.shape[1])
    field[top:top + small.shape[0], left:left + small.shape[1]] = small
    return field


def fit_field(field: np.ndarray, size: int) -> np.ndarray:
    """The (28, 28) field resized for a greyscale network of another input size."""
    if size == FIELD:
        return field
    return F.interpolate(torch.from_numpy(np.ascontiguousarray(field))[None, None],
                         size=(size, size), mode="bilinear", antialias=True,
                         align_corners=False)[0, 0].clamp_(0, 1).numpy()
