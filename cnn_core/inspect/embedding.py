"""Where the network puts each image: a hidden layer's activations, flattened to 2-D with
PCA or t-SNE, so a person sees the classes pull apart as training goes on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn

from ..nn.backbones import Pretrained
from ..nn.models import StudioModel
from .analysis import _device, _inference, _short, layer_summary
from .cancel import check, pictures_per_pass
from .reach import last_hidden_layer, run_until

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

METHODS = ("pca", "tsne")


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown embedding method {method!r}; choose 'pca' or 'tsne'")


SAMPLE = 2000  # a larger test set is embedded through a fixed sample of it
EXACT_PCA = 200  # PCA exactly up to this many rows or columns, else by a randomized SVD


def embedding_sample(count: int, limit: int = SAMPLE) -> np.ndarray:
    """The indices of the test images an embedding shows: all ``count`` of them, or a
    fixed sample of ``limit`` (the same every time, so epochs can be compared)."""
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(0).choice(count, limit, replace=False))


def embedding_layers(model: StudioModel) -> list[str]:
    """The layers whose output can be embedded, in forward order, named as
    :func:`~cnn_core.inspect.analysis.layer_summary` names them (``conv2``, ``relu3``).
    A backbone is one of them, its pooled output (``backbone``, 512 numbers for
    ResNet-18): the maps of the layers inside it are too large to embed (a ResNet's
    first, 64x112x112, would take 6 GB for 2,000 pictures)."""
    shape = (model.in_channels, model.input_size, model.input_size)
    backbones = list(_backbones(model))
    names: list[str] = []
    for row in layer_summary(model, shape):
        name = next((b for b in backbones if row.name.startswith(f"{b}.")), row.name)
        if name not in names:
            names.append(name)
    return names


def _backbones(model: StudioModel) -> dict[str, nn.Module]:
    return {_short(name): m for name, m in model.named_modules() if isinstance(m, Pretrained)}


def _tap(model: StudioModel, layer_name: str | None) -> tuple[nn.Module, bool]:
    """The module to stop at, and whether its input (rather than its output) is wanted."""
    if layer_name is None:
        return last_hidden_layer(model), True
    leaves = {_short(name): m for name, m in model.named_modules()
              if m is not model and next(m.children(), None) is None}
    leaves.update(_backbones(model))
    if layer_name not in leaves:
        raise ValueError(f"no layer {layer_name!r} (the network has {', '.join(leaves)})")
    return leaves[layer_name], False


def hidden_activations(model: StudioModel, images: Tensor, layer_name: str | None = None,
                       batch_size: int = 500,
                       cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """float32 (N, D): each image's representation at ``layer_name``'s output, flattened;
    with None, the input of the classifier's last linear layer (the last hidden one).

    The forward pass stops at that layer, in eval mode, and the model is left as it was.
    ``cancel()`` returning True between two batches raises
    :class:`~cnn_core.inspect.cancel.Cancelled`.
    """
    module, inputs = _tap(model, layer_name)
    device = _device(model)
    batch_size = pictures_per_pass(model, batch_size)
    parts = []
    with _inference(model):
        for i in range(0, len(images), batch_size) or [0]:
            check(cancel)
            parts.append(run_until(model, module, images[i:i + batch_size].to(device),
                                   inputs=inputs).flatten(1).float().cpu())
    return torch.cat(parts).numpy()


def project(features: np.ndarray, method: str = "pca", seed: int = 0,
            threads: int = 1) -> np.ndarray:
    """float32 (N, 2) coordinates of the rows of ``features`` (N, D).

    PCA, or t-SNE (PCA start, perplexity scaled down for small N), on at most ``threads``
    threads so a GUI keeps a core. Points that cannot be told apart (fewer than two, or no
    spread) sit at the origin; t-SNE needs three points, so it falls back to PCA below.
    Raises ValueError for an unknown method or activations that are not finite (training
    has diverged).
    """
    _check_method(method)
    x = np.asarray(features, dtype=np.float32)
    n = len(x)
    if n < 2:
        return np.zeros((n, 2), np.float32)
    x = x.reshape(n, -1)
    if not np.isfinite(x).all():
        raise ValueError("the activations are not all finite numbers; has training diverged?")
    if not np.ptp(x, axis=0).any():
        return np.zeros((n, 2), np.float32)
    if x.shape[1] < 2:  # a zero column changes no distance and gives PCA its second axis
        x = np.pad(x, ((0, 0), (0, 2 - x.shape[1])))
    with _thread_pools().limit(limits=max(1, threads)):
        if method == "tsne" and n >= 3:
            # imported on request only: a second of imports that holds the GIL against the
            # window, where PCA (every epoch, while training) needs none of it
            from sklearn.manifold import TSNE

            reducer = TSNE(2, init="pca", random_state=seed,
                           perplexity=min(30.0, max(2.0, (n - 1) / 3)))
            return reducer.fit_transform(x).astype(np.float32)
        return _pca(x, seed)


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The native thread pools (BLAS, OpenMP), found once: finding them walks every loaded
    library, which took longer than an epoch's PCA."""
    from threadpoolctl import ThreadpoolController  # 0.2 s: not at the window's start

    return ThreadpoolController()


def _pca(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """The rows' coordinates on their first two principal axes, each axis signed so that
    its largest loading is positive (as scikit-learn's PCA signs them).

    Few columns (a hidden layer): the covariance's eigenvectors, in float64, six times
    quicker than an SVD of all the rows. Few rows: an SVD. Both large: scikit-learn's
    route, a randomized SVD (Halko et al.), seeded apart from torch's generator so that
    the run's random numbers never move."""
    centred = x - x.mean(axis=0)
    if centred.shape[1] <= EXACT_PCA:
        wide = centred.astype(np.float64)
        axes = np.linalg.eigh(wide.T @ wide)[1][:, ::-1][:, :2].T
        coords = wide @ axes.T
    else:
        if centred.shape[0] <= EXACT_PCA:
            u, s, axes = np.linalg.svd(centred, full_matrices=False)
        else:
            probe = np.random.default_rng(seed).standard_normal((centred.shape[1], 12))
            y = centred @ probe.astype(centred.dtype)
            for _ in range(4):  # power iterations sharpen the leading directions
                y = centred @ (centred.T @ np.linalg.qr(y)[0])
            basis = np.linalg.qr(y)[0]
            small, s, axes = np.linalg.svd(basis.T @ centred, full_matrices=False)
            u = basis @ small
        coords = u[:, :2] * s[:2]
    axes = axes[:2]
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    return (coords[:, :2] * signs).astype(np.float32)


def embed(model: StudioModel, images: Tensor, method: str = "pca",
          layer_name: str | None = None, seed: int = 0, threads: int = 1) -> np.ndarray:
    """float32 (N, 2): :func:`project` of :func:`hidden_activations`."""
    _check_method(method)
    return project(hidden_activations(model, images, layer_name), method, seed, threads)


def align_signs(coords: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``coords`` with each axis negated where it runs against ``reference``'s same axis
    (negative correlation): PCA's axes have no fixed sign, and an animation from epoch to
    epoch should not flip. Returned unchanged when the two differ in shape."""
    coords = np.asarray(coords)
    reference = np.asarray(reference)
    if coords.shape != reference.shape or coords.ndim != 2:
        return coords
    centred = coords - coords.mean(axis=0)
    agreement = (centred * (reference - reference.mean(axis=0))).sum(axis=0)
    return np.where(agreement < 0, -coords, coords).astype(coords.dtype)
