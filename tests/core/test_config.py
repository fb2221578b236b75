from __future__ import annotations

import pytest

from cnn_core.train.config import TrainConfig, resolve_device


def test_defaults_follow_the_article_and_validate() -> None:
    c = TrainConfig()
    c.validate()
    assert (c.optimizer, c.lr, c.step_size, c.gamma, c.batch_size) == ("adam", 1e-3, 5, 0.5, 64)
    assert c.dataset == "mnist-sample"


@pytest.mark.parametrize("field,value", [
    ("arch", "resnet"), ("arch", 3),
    ("dataset", "imagenet"),
    ("epochs", 0), ("epochs", 10_001), ("epochs", 2.5), ("epochs", True),
    ("batch_size", 0), ("batch_size", "64"),
    ("optimizer", "rmsprop"),
    ("lr", 0.0), ("lr", -1e-3), ("lr", float("nan")), ("lr", float("inf")), ("lr", 11.0),
    ("momentum", 1.0), ("momentum", -0.1),
    ("weight_decay", -1e-4), ("weight_decay", 2.0),
    ("step_size", 0),
    ("gamma", 0.0), ("gamma", 1.5),
    ("seed", -1),
    ("device", "gpu"), ("device", "cuda:x"),
])
def test_validate_names_the_bad_field(field: str, value: object) -> None:
    config = TrainConfig(**{field: value})
    with pytest.raises(ValueError, match=rf"^{field}: "):
        config.validate()


def test_unavailable_devices_are_refused_by_name() -> None:
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="^device: .*CUDA"):
            TrainConfig(device="cuda").validate()
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


def test_round_trip_and_unknown_keys() -> None:
    c = TrainConfig(arch="lenet5", lr=0.01, seed=7)
    assert TrainConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown settings: colour"):
        TrainConfig.from_dict({"colour": "red"})
