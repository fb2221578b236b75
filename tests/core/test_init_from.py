"""Fine-tuning from a run: which tensors are copied, what starts fresh, what stays frozen,
the learning rate each part gets, and that all of it is recorded and survives a resume."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
import torch

from cnn_core.cli import main
from cnn_core.data.datasets import DataBundle, Split
from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.store import RunError, read_config, read_summary
from cnn_core.train.callbacks import Callback
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import RunKind, launch, open_continuation
from cnn_core.train.lr_find import find_lr
from tests.backbones import fake_imagenet_weights
from tests.pictures import make_folder

SIMPLE_COPIED = ["conv1", "conv2", "fc1"]
SIMPLE_WITH_WEIGHTS = ["conv1", "conv2", "fc1", "fc2"]


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "simplecnn", "epochs": 1, "device": "cpu", "seed": 3, **kw})


class StopAfter(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer, metrics) -> None:
        if metrics.epoch == self.epoch:
            trainer.request_stop()


@pytest.fixture(scope="module")
def digits(sample: DataBundle) -> DataBundle:
    return DataBundle(sample.info, Split(sample.train.images[:320], sample.train.labels[:320]),
                      Split(sample.test.images[:100], sample.test.labels[:100]))


@pytest.fixture(scope="module")
def source(tmp_path_factory, digits: DataBundle) -> Path:
    """A SimpleCNN run on digits (10 classes, 1 channel, 28x28): what the others start from."""
    run = tmp_path_factory.mktemp("source") / "simple"
    launch(cfg(), run_dir=run, data=digits).trainer.fit()
    return run


@pytest.fixture(scope="module")
def deep_source(tmp_path_factory, digits: DataBundle) -> Path:
    run = tmp_path_factory.mktemp("source") / "deep"
    launch(cfg(arch="deepcnn"), run_dir=run, data=digits).trainer.fit()
    return run


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    """Three classes of grey pictures: the digits' channels, another number of classes."""
    return make_folder(tmp_path_factory.mktemp("shapes"), per_class=16, colour=False,
                       sizes=(28,))


def shapes_cfg(folder: Path, tmp_path: Path, **kw) -> TrainConfig:
    return cfg(dataset=str(folder), image_size=28, channels=1, batch_size=16,
               data_dir=str(tmp_path / "data"), **kw)


def weights_of(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run / "checkpoints" / "best.pt")["model"]


def layer_of(key: str) -> str:
    return key.split(".")[1]  # classifier.fc2.weight -> fc2


def test_matching_layers_are_copied_tensor_by_tensor_and_another_head_starts_fresh(
        source: Path, shapes: Path, tmp_path: Path) -> None:
    config = shapes_cfg(shapes, tmp_path, init_from=str(source))
    started = launch(config, run_dir=tmp_path / "tuned")
    scratch = launch(dataclasses.replace(config, init_from=None), run_dir=tmp_path / "scratch")
    given, fresh = weights_of(source), scratch.trainer.model.state_dict()
    for key, value in started.trainer.model.state_dict().items():
        if layer_of(key) in SIMPLE_COPIED:
            assert torch.equal(value, given[key]), key
        else:  # the head for 3 classes is as the seed draws it without a start
            assert layer_of(key) == "fc2" and given[key].shape[0] == 10, key
            assert torch.equal(value, fresh[key]), key
    scratch.close()

    best = (source / "checkpoints" / "best.pt").resolve()
    record = {"path": str(best), "sha256": hashlib.sha256(best.read_bytes()).hexdigest(),
              "copied": SIMPLE_COPIED, "fresh": ["fc2"]}
    assert started.trainer.config.init_from == record
    started.trainer.fit()
    run = started.run_dir
    assert read_config(run).init_from == record
    assert json.loads((run / "config.json").read_text())["init_from"] == record
    assert read_summary(run).init_from == record
    assert load_checkpoint(run / "checkpoints" / "last.pt")["config"]["init_from"] == record


@pytest.mark.parametrize("freeze, frozen", [("features", ["block1", "block2", "block3", "block4"]),
                                            ("all-but-head", ["block1", "block2", "block3",
                                                              "block4", "fc1"])])
def test_frozen_layers_come_out_bit_identical_batch_norm_statistics_included(
        deep_source: Path, digits: DataBundle, tmp_path: Path, freeze: str,
        frozen: list[str]) -> None:
    run = launch(cfg(arch="deepcnn", init_from=str(deep_source), freeze=freeze),
                 run_dir=tmp_path / "tuned", data=digits)
    run.trainer.fit()
    given, after = weights_of(deep_source), run.trainer.model.state_dict()
    statistics = [k for k in after if k.split(".")[-1] in ("running_mean", "running_var",
                                                            "num_batches_tracked")]
    assert len(statistics) == 12
    for key, value in after.items():
        if layer_of(key) in frozen:
            assert torch.equal(value, given[key]), key
        else:
            assert not torch.equal(value, given[key]), key  # the rest learnt
    model = run.trainer.model.train()
    assert not any(m.training for name, m in model.features.named_modules()
                   if name.endswith(".bn"))
    assert run.trainer.head_data is not None  # a fixed trunk: its features were kept
    # and after a resume, which builds the model again from the checkpoint's settings
    cont = open_continuation(run.run_dir, RunKind.RESUME)
    resumed = launch(cont.next_config({"epochs": 2}), continuation=cont, data=digits)
    resumed.trainer.fit()
    for key, value in resumed.trainer.model.state_dict().items():
        if layer_of(key) in frozen:
            assert torch.equal(value, given[key]), key


def test_copied_layers_learn_at_their_share_of_the_rate_at_every_step(
        source: Path, shapes: Path, tmp_path: Path) -> None:
    config = shapes_cfg(shapes, tmp_path, init_from=str(source), backbone_lr_scale=0.1,
                        lr=2e-3, step_size=1, gamma=0.5)
    trainer = launch(config, run_dir=tmp_path / "tuned").trainer
    model = trainer.model
    head, body = trainer.optimizer.param_groups
    assert [id(p) for p in head["params"]] == [id(p) for p in model.classifier.fc2.parameters()]
    assert {id(p) for p in body["params"]} == {
        id(p) for name in SIMPLE_COPIED for p in model.get_submodule(
            f"{'features' if name.startswith('conv') else 'classifier'}.{name}").parameters()}
    assert (head["lr"], body["lr"], trainer.lr) == (2e-3, pytest.approx(2e-4), 2e-3)
    trainer.fit()  # the schedule halves both, keeping their ratio
    assert (head["lr"], trainer.lr) == (1e-3, 1e-3) and body["lr"] == pytest.approx(1e-4)
    trainer.request_changes(lr=4e-3, optimizer="sgd", epochs=2)
    trainer.apply_pending_changes()
    head, body = trainer.optimizer.param_groups
    assert (head["lr"], trainer.lr) == (4e-3, 4e-3) and body["lr"] == pytest.approx(4e-4)
    assert isinstance(trainer.optimizer, torch.optim.SGD) and len(body["params"]) == 6


def test_a_fine_tuned_run_resumed_midway_is_the_unbroken_run(
        source: Path, shapes: Path, tmp_path: Path) -> None:
    config = shapes_cfg(shapes, tmp_path, init_from=str(source), freeze="features",
                        backbone_lr_scale=0.25, epochs=2, step_size=1, gamma=0.5)
    unbroken = launch(config, run_dir=tmp_path / "unbroken").trainer
    unbroken.fit()
    launch(config, [StopAfter(1)], run_dir=tmp_path / "broken").trainer.fit()
    cont = open_continuation(tmp_path / "broken", RunKind.RESUME)
    resumed = launch(cont.next_config({}), continuation=cont).trainer
    assert [g["lr_scale"] for g in resumed.optimizer.param_groups] == [1.0, 0.25]
    assert resumed.model.frozen == ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                                    "flatten")
    resumed.fit()
    assert resumed.epoch == 2
    for key, value in unbroken.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key
    for key in ("init_from", "freeze", "backbone_lr_scale"):  # what makes the run that run
        with pytest.raises(ValueError, match=f"^{key}: cannot change when resuming"):
            cont.check(dataclasses.replace(cont.next_config({}), **{
                key: {"init_from": None, "freeze": "none", "backbone_lr_scale": 1.0}[key]}))


def test_a_backbone_is_copied_and_sees_this_runs_pictures_as_its_own(tmp_path: Path) -> None:
    network = {"name": "transfer", "layers": [
        {"type": "pretrained", "model": "resnet18", "size": 64},
        {"type": "flatten"}, {"type": "linear"}]}
    data = tmp_path / "data"
    fake_imagenet_weights("resnet18", data)
    shapes = make_folder(tmp_path / "shapes", per_class=6, sizes=(32,))
    dark = make_folder(tmp_path / "dark", per_class=6, sizes=(32,), seed=1,
                       classes=("circle", "square"))
    settings = {"arch": "transfer", "network": network, "image_size": 32, "batch_size": 6,
                "data_dir": str(data)}
    source = launch(cfg(dataset=str(shapes), **settings), run_dir=tmp_path / "source")
    source.trainer.fit()
    tuned = launch(cfg(dataset=str(dark), init_from=str(source.run_dir), freeze="features",
                       **settings), run_dir=tmp_path / "tuned").trainer
    assert (tuned.config.init_from["copied"], tuned.config.init_from["fresh"]) == (
        ["backbone"], ["fc1"])
    backbone, given = tuned.model.features.backbone, weights_of(source.run_dir)
    assert torch.equal(backbone.conv1.weight, given["features.backbone.conv1.weight"])
    assert tuned.info.mean != source.trainer.info.mean
    assert backbone.input_mean.tolist() == pytest.approx(list(tuned.info.mean))


def test_nothing_matching_or_other_channels_is_refused_in_one_line_writing_nothing(
        tmp_path: Path, source: Path, digits: DataBundle) -> None:
    runs = tmp_path / "runs"
    with pytest.raises(ValueError) as refused:
        launch(cfg(arch="lenet5", init_from=str(source)), runs_dir=runs, data=digits)
    assert str(refused.value) == (
        f"init_from: no layer of {source} (simplecnn) has the name and shape of one of this "
        "network's (conv1.weight: 32x1x3x3 there, 6x1x5x5 here)")
    colour = make_folder(tmp_path / "colour", per_class=4, sizes=(28,))
    with pytest.raises(ValueError) as refused:
        launch(cfg(dataset=str(colour), image_size=28, data_dir=str(tmp_path / "data"),
                   init_from=str(source)), runs_dir=runs)
    assert str(refused.value) == ("init_from: the run was trained on 1-channel pictures, "
                                  "this one has 3")
    assert not runs.exists() or not any(runs.iterdir())


@pytest.mark.parametrize("settings, message", [
    ({"freeze": "features"}, "^freeze: only for a run that starts from another's weights"),
    ({"backbone_lr_scale": 0.5}, "^backbone_lr_scale: only for a run that starts from"),
    ({"init_from": "/no/such/run"}, "^init_from: there is no run folder or checkpoint at "),
    ({"init_from": {"path": "x"}}, "^init_from: expected "),
    ({"init_from": ".", "freeze": "head"}, "^freeze: must be one of none, features, all-but"),
    ({"init_from": ".", "backbone_lr_scale": 0.0}, "^backbone_lr_scale: must be greater than 0"),
    ({"init_from": ".", "backbone_lr_scale": 1.5}, "^backbone_lr_scale: must be greater than 0"),
])
def test_bad_start_settings_are_refused_naming_the_field(settings, message) -> None:
    with pytest.raises(ValueError, match=message):
        cfg(**settings).validate()


def test_runs_recorded_before_fine_tuning_still_read(source: Path, tmp_path: Path) -> None:
    old = {k: v for k, v in cfg().to_dict().items()
           if k not in ("init_from", "freeze", "backbone_lr_scale")}
    config = TrainConfig.from_dict(old)
    assert (config.init_from, config.freeze, config.backbone_lr_scale) == (None, "none", 1.0)
    summary = json.loads((source / "summary.json").read_text())
    assert summary["init_from"] is None
    run = tmp_path / "old"
    run.mkdir()
    del summary["init_from"]
    (run / "summary.json").write_text(json.dumps(summary))
    assert read_summary(run).init_from is None
    (run / "summary.json").write_text(json.dumps({**summary, "init_from": {"path": 3}}))
    with pytest.raises(RunError, match="init_from: expected"):
        read_summary(run)


def test_the_lr_finder_starts_from_the_runs_weights(source: Path, digits: DataBundle) -> None:
    best = source / "checkpoints" / "best.pt"
    before = best.read_bytes()
    scratch = find_lr(cfg(), digits, steps=3)
    tuned = find_lr(cfg(init_from=str(source), freeze="features"), digits, steps=3)
    assert tuned.raw_losses[0] < scratch.raw_losses[0] / 2
    assert best.read_bytes() == before


def test_the_command_line_fine_tunes_and_says_what_it_copied(
        source: Path, shapes: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "tuned"
    code = main(["train", "--dataset", str(shapes), "--image-size", "28", "--channels", "1",
                 "--data-dir", str(tmp_path / "data"), "--epochs", "1", "--device", "cpu",
                 "--quiet", "--init-from", str(source), "--freeze", "all-but-head",
                 "--backbone-lr-scale", "0.5", "--out", str(out)])
    said = capsys.readouterr()
    assert code == 0, said.err
    best = (source / "checkpoints" / "best.pt").resolve()
    assert (f"starting from {best}: copied conv1, conv2, fc1; fresh fc2; frozen conv1, conv2, "
            "fc1") in said.out.splitlines()
    config = read_config(out)
    assert (config.freeze, config.backbone_lr_scale) == ("all-but-head", 0.5)
    assert config.init_from["copied"] == SIMPLE_COPIED
    assert main(["train", "--resume", str(out), "--init-from", str(source)]) == 2
    assert capsys.readouterr().err.strip() == (
        "cnn_core: error: --init-from: a resumed run goes on with its own weights; start a "
        "new run to fine-tune from another")
    assert main(["train", "--freeze", "features", "--device", "cpu"]) == 2
    assert capsys.readouterr().err.startswith("cnn_core: error: freeze: only for a run")
