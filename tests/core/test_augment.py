"""Augmentation: the settings text, the batched random changes, and training with them."""

from __future__ import annotations

import pytest
import torch

from cnn_core.data.augment import Augmentation, augment_batch, parse_augmentation
from cnn_core.data.bundle import DatasetInfo, denormalize, normalize
from cnn_core.data.datasets import DataBundle
from cnn_core.runs.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import trainer_from_checkpoint
from cnn_core.train.evaluation import evaluate
from cnn_core.train.trainer import Trainer

GREY = DatasetInfo("grey", "Grey", "", 1, 16, ("a", "b"), (0.3,), (0.4,))
COLOUR = DatasetInfo("colour", "Colour", "", 3, 16, ("a", "b"), (0.5, 0.4, 0.3), (0.2, 0.25, 0.3))


def batch(info: DatasetInfo, n: int = 32, seed: int = 0) -> torch.Tensor:
    pixels = torch.randint(0, 256, (n, *info.input_shape), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(seed))
    return normalize(pixels, info)


def augmented(images: torch.Tensor, text: str, info: DatasetInfo = GREY,
              seed: int = 0) -> torch.Tensor:
    return augment_batch(images, parse_augmentation(text), info,
                         torch.Generator().manual_seed(seed))


def dots(n: int, row: int, col: int) -> torch.Tensor:
    """n copies of a black 16x16 picture with one white pixel."""
    pixels = torch.zeros(n, 1, 16, 16, dtype=torch.uint8)
    pixels[:, 0, row, col] = 255
    return normalize(pixels, GREY)


# -- the settings text ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "flip", "shift=2", "shift=2,flip,rotate=10",
                                  "shift=1,flip,rotate=7.5,scale=10,brightness=20,contrast=30"])
def test_canonical_text_reads_back_the_same(text: str) -> None:
    assert parse_augmentation(text).text == text
    assert parse_augmentation(parse_augmentation(text).text) == parse_augmentation(text)


def test_text_is_canonical_whatever_the_order_and_spacing() -> None:
    assert parse_augmentation(" rotate=10 , flip,shift=2,").text == "shift=2,flip,rotate=10"
    assert not parse_augmentation("").active and parse_augmentation("flip").active


@pytest.mark.parametrize("text, message", [
    ("zoom=3", "unknown augmentation 'zoom'"), ("shift=1.5", "whole number"),
    ("rotate=200", "between 0 and 180"), ("flip=1", "flip takes no value"),
    ("shift=two", "shift needs a number"), ("brightness=-5", "between 0 and 100")])
def test_bad_options_are_refused_with_a_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_augmentation(text)
    with pytest.raises(ValueError, match="augment: "):
        TrainConfig(augment=text).validate()


# -- the changes ---------------------------------------------------------------------------

ALL = "shift=3,flip,rotate=20,scale=15,brightness=30,contrast=40"


def test_nothing_to_do_returns_the_batch_itself() -> None:
    images = batch(GREY)
    assert augment_batch(images, Augmentation(), GREY, torch.Generator()) is images


@pytest.mark.parametrize("info", [GREY, COLOUR])
def test_same_seed_same_batch_other_seed_other_batch(info: DatasetInfo) -> None:
    images = batch(info)
    first = augmented(images, ALL, info, seed=1)
    assert torch.equal(first, augmented(images, ALL, info, seed=1))
    assert not torch.allclose(first, augmented(images, ALL, info, seed=2))
    assert not torch.allclose(first, images)


@pytest.mark.parametrize("info", [GREY, COLOUR])
@pytest.mark.parametrize("text", ["shift=4", "rotate=30", "scale=20", "brightness=80",
                                  "contrast=80", ALL])
def test_shape_dtype_layout_and_pixel_range_are_kept(info: DatasetInfo, text: str) -> None:
    images = batch(info).contiguous(memory_format=torch.channels_last)
    out = augmented(images, text, info)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert out.is_contiguous(memory_format=torch.channels_last)
    lowest = normalize(torch.zeros(1, info.in_channels, 1, 1, dtype=torch.uint8), info)
    highest = normalize(torch.full((1, info.in_channels, 1, 1), 255, dtype=torch.uint8), info)
    assert (out >= lowest - 1e-5).all() and (out <= highest + 1e-5).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_batch_gets_the_same_changes_as_on_the_cpu() -> None:
    images = batch(COLOUR).contiguous(memory_format=torch.channels_last)
    on_gpu = augmented(images.cuda(), ALL, COLOUR)
    assert on_gpu.is_cuda and on_gpu.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(on_gpu.cpu(), augmented(images, ALL, COLOUR), atol=1e-4)


def test_the_batch_given_is_left_untouched() -> None:
    images = batch(COLOUR)
    before = images.clone()
    augmented(images, ALL, COLOUR)
    assert torch.equal(images, before)


def test_flip_alone_mirrors_about_half_the_images_exactly() -> None:
    images = batch(COLOUR, n=64)
    out = augmented(images, "flip", COLOUR)
    mirrored = [torch.allclose(o, i.flip(-1), atol=1e-5) for o, i in zip(out, images)]
    kept = [torch.allclose(o, i, atol=1e-5) for o, i in zip(out, images)]
    assert all(m != k for m, k in zip(mirrored, kept))  # each image one or the other
    assert 16 < sum(mirrored) < 48


def test_shift_moves_content_by_whole_pixels_within_the_range() -> None:
    out = denormalize(augmented(dots(200, 8, 5), "shift=2"), GREY)
    # each picture is still one white pixel on black, moved by at most 2 pixels each way
    assert torch.allclose(out, out.round(), atol=1e-5)
    assert torch.equal(out.round().sum(dim=(1, 2, 3)), torch.ones(200))
    moves = {(r - 8, c - 5) for r, c in (out[:, 0] > 0.5).nonzero()[:, 1:].tolist()}
    assert moves == {(dr, dc) for dr in range(-2, 3) for dc in range(-2, 3)}


def test_what_shift_moves_off_an_edge_is_gone_not_wrapped_around() -> None:
    out = denormalize(augmented(dots(50, 0, 0), "shift=3"), GREY)
    found = out.sum(dim=(1, 2, 3)).round()
    assert 0 < found.sum() < 50 and set(found.tolist()) == {0.0, 1.0}
    assert out[:, :, 4:].sum() == 0 and out[:, :, :, 4:].sum() == 0


def test_rotation_and_scale_turn_and_zoom_about_the_centre() -> None:
    ys, xs = torch.meshgrid(torch.arange(16) - 7.5, torch.arange(16) - 7.5, indexing="ij")
    blob = torch.exp(-(xs**2 + ys**2) / 8).expand(20, 1, 16, 16)
    images = normalize((blob * 255).round().to(torch.uint8), GREY)
    rotated = augmented(images, "rotate=180")
    assert torch.allclose(rotated, images, atol=0.05 / 0.4)  # a round blob looks the same
    zoomed = denormalize(augmented(images, "scale=40"), GREY).sum(dim=(1, 2, 3))
    assert zoomed.max() > 1.2 * zoomed.min()  # ... but not the same size
    bar = dots(20, 8, 2)
    bar[:, :, 8, 2:14] = bar[0, 0, 8, 2]
    turned = denormalize(augmented(bar, "rotate=90"), GREY)
    assert (turned[:, 0, :, 8].sum(dim=1) > 2).sum() > 5  # some bars now stand upright


def test_brightness_and_contrast_change_each_image_differently() -> None:
    images = batch(GREY, n=16)
    means = denormalize(augmented(images, "brightness=50"), GREY).mean(dim=(1, 2, 3))
    assert means.std() > 0.02
    spread = denormalize(augmented(images, "contrast=60"), GREY).std(dim=(1, 2, 3))
    assert spread.max() > 1.3 * spread.min()


# -- training with it ----------------------------------------------------------------------

def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "lenet5", "epochs": 2, "device": "cpu", "seed": 3, **kw})


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return trainer.model.state_dict()


def same_weights(a: Trainer, b: Trainer) -> bool:
    return all(torch.equal(v, weights(b)[k]) for k, v in weights(a).items())


def test_an_augmented_run_is_reproducible_and_differs_from_a_plain_one(small: DataBundle) -> None:
    runs = [Trainer(cfg(augment=a), data=small) for a in ("shift=2,rotate=10",) * 2 + ("",)]
    for run in runs:
        run.fit()
    assert same_weights(runs[0], runs[1])
    assert [m.train_loss for m in runs[0].history] == [m.train_loss for m in runs[1].history]
    assert not same_weights(runs[0], runs[2])


def test_the_test_split_is_never_augmented(small: DataBundle) -> None:
    trainer = Trainer(cfg(epochs=1, augment="shift=3,flip,brightness=50"), data=small)
    trainer.fit()
    plain = evaluate(trainer.model, small.test, trainer.criterion)
    assert trainer.history[-1].test_loss == pytest.approx(plain.loss, rel=1e-6)
    assert torch.equal(trainer.test_predictions, plain.predictions)


@pytest.mark.parametrize("older", [False, True])
def test_resume_with_augmentation_is_exact(tmp_path, small: DataBundle, older: bool) -> None:
    config = cfg(augment="shift=2,flip,rotate=10,contrast=20")
    unbroken = Trainer(config, data=small)
    unbroken.fit()

    first = Trainer(cfg(augment=config.augment, epochs=1), data=small)
    first.fit()
    state = first.state_dict()
    if older:  # a checkpoint from before augmentation: it resumes, from the seed's start
        del state["rng"]["augment"]
    save_checkpoint(state, tmp_path / "last.pt")
    resumed = trainer_from_checkpoint(load_checkpoint(tmp_path / "last.pt"), data=small,
                                      epochs=2)
    resumed.fit()
    assert resumed.epoch == 2
    assert same_weights(resumed, unbroken) is not older


def test_a_broken_augmentation_state_is_refused_on_resume(small: DataBundle) -> None:
    state = Trainer(cfg(augment="flip"), data=small).state_dict()
    state["rng"] = {**state["rng"], "augment": torch.zeros(3, dtype=torch.uint8)}
    with pytest.raises(CheckpointError, match="training state is not usable"):
        trainer_from_checkpoint(state, data=small, epochs=3)
