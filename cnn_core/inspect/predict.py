"""Asking a trained model about any picture file: decoded, resized and normalised exactly
as its training pictures were."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import UnidentifiedImageError
from torch import Tensor

from ..data.datasets import DatasetInfo, normalize
from ..data.folders import read_image, to_channels
from ..data.pillow_notes import TOO_LARGE, PillowNotes, too_large_reason
from ..nn.models import StudioModel, model_for_weights
from ..runs.checkpoint import CheckpointError, checkpoint_dataset, load_checkpoint
from ..runs.errors import first_line
from ..runs.store import is_run_dir, shown_checkpoint


class ImageError(ValueError):
    """A file that is not a picture the model can be asked about; the message says which."""


@dataclass(frozen=True)
class Prediction:
    path: str
    probabilities: np.ndarray  # (num_classes,), summing to 1
    class_names: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what Pillow warned about the picture, which was read

    def top(self, k: int) -> list[tuple[str, float]]:
        """The ``k`` likeliest classes, likeliest first."""
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(self.class_names[i], float(self.probabilities[i])) for i in order]


def picture_tensor(path: str | Path, info: DatasetInfo, notes: list[str] | None = None
                   ) -> Tensor:
    """(1, C, H, W) float: the picture as the model's training pictures were given to it;
    what Pillow warned about it is added to ``notes``."""
    try:
        with PillowNotes() as pillow, pillow.reading(str(path)):
            rgb = read_image(path, info.input_size)
        if notes is not None:
            notes.extend(pillow.notes)
    except TOO_LARGE:
        raise ImageError(f"{path}: {too_large_reason()}") from None
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: a folder, not a picture") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not a picture Pillow can read (or a damaged one)") from None
    except Exception as exc:  # Pillow raises many kinds for what it cannot read
        raise ImageError(f"{path}: cannot be read as a picture ({first_line(exc)})") from None
    return normalize(to_channels(rgb[None], info.in_channels), info)


class Predictor:
    """A trained model with the description of the data it learnt from."""

    def __init__(self, model: StudioModel, info: DatasetInfo) -> None:
        self.model = model.eval()
        self.info = info

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Predictor:
        """From a checkpoint loaded with :func:`load_checkpoint`."""
        model = model_for_weights(state["model_meta"])
        model.load_state_dict(state["model"])
        return cls(model, checkpoint_dataset(state))

    @classmethod
    def open(cls, path: str | Path) -> Predictor:
        """A checkpoint file, or a run folder (its shown checkpoint: the best epoch).
        Raises :class:`cnn_core.runs.checkpoint.CheckpointError` for an unusable one."""
        path = Path(path)
        if path.is_dir():
            if not is_run_dir(path):
                raise CheckpointError(f"{path}: a folder that is not a run's (it has no "
                                      "config.json or summary.json); give a run's folder or "
                                      "a checkpoint file")
            path = shown_checkpoint(path)
        return cls.from_state(load_checkpoint(path))

    @torch.no_grad()
    def probabilities(self, images: Tensor) -> np.ndarray:
        """(N, num_classes) softmax of the model's answer for preprocessed ``images``."""
        device = next(self.model.parameters()).device
        return torch.softmax(self.model(images.to(device)).float(), dim=1).cpu().numpy()

    def predict(self, paths: Sequence[str | Path]) -> list[Prediction]:
        """One prediction per picture file; raises :class:`ImageError` for the first file
        that is not a readable picture."""
        if not paths:
            return []
        notes: list[list[str]] = [[] for _ in paths]
        images = torch.cat([picture_tensor(p, self.info, n) for p, n in zip(paths, notes)])
        probabilities = self.probabilities(images)
        return [Prediction(str(p), row, self.info.class_names, tuple(n))
                for p, row, n in zip(paths, probabilities, notes)]
