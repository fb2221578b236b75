"""ImageNet backbones as a spec layer: their weights come from torchvision's file (made by
the tests, never downloaded), a frozen trunk's features are kept once and train the same
head, and a run needs the weights file only to start."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
import torchvision

from cnn_core.cli import main
from cnn_core.data.fetch import DownloadCancelled
from cnn_core.inspect.predict import Predictor
from cnn_core.nn.backbone_specs import BACKBONES
from cnn_core.nn.spec import SpecError, parse_spec
from cnn_core.nn.weights import WeightsError, download_weights, weights_file
from cnn_core.train import trainer as trainer_module
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import RunKind, launch, open_continuation
from tests.backbones import fake_imagenet_weights
from tests.pictures import make_folder


def resnet(weights: str = "imagenet", size: int = 64, trainable: bool = False) -> dict:
    return {"name": "transfer", "layers": [
        {"type": "pretrained", "model": "resnet18", "weights": weights, "size": size,
         "trainable": trainable},
        {"type": "flatten"}, {"type": "dropout", "p": 0.2}, {"type": "linear"}]}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "shapes", per_class=12)


def folder_config(folder: Path, network: dict, **kw) -> TrainConfig:
    settings = {"image_size": 48, "epochs": 1, "batch_size": 8, "device": "cpu", **kw}
    return TrainConfig(arch=network["name"], network=network, dataset=str(folder),
                       data_dir=str(folder.parent / "data"), **settings)


def test_the_weights_file_in_the_data_folder_is_loaded_exactly(folder: Path) -> None:
    state = fake_imagenet_weights("resnet18", folder.parent / "data")
    run = launch(folder_config(folder, resnet()), runs_dir=folder.parent / "runs")
    model = run.trainer.model
    assert torch.equal(model.features.backbone.conv1.weight, state["conv1.weight"])
    assert torch.equal(model.features.backbone.layer4[1].bn2.running_var,
                       state["layer4.1.bn2.running_var"])
    run.close()


def test_a_pth_file_of_ones_own_works_offline(folder: Path, tmp_path: Path) -> None:
    torch.manual_seed(3)
    state = torchvision.models.resnet18(weights=None).state_dict()
    torch.save(state, tmp_path / "mine.pth")
    run = launch(folder_config(folder, resnet(str(tmp_path / "mine.pth"))),
                 runs_dir=tmp_path / "runs")
    assert torch.equal(run.trainer.model.features.backbone.conv1.weight, state["conv1.weight"])
    run.close()


def test_a_file_of_another_network_is_refused_in_one_line(folder: Path, tmp_path: Path) -> None:
    torch.save(torchvision.models.mobilenet_v3_small(weights=None).state_dict(),
               tmp_path / "other.pth")
    with pytest.raises(WeightsError, match=r"other\.pth: not resnet18 weights") as caught:
        launch(folder_config(folder, resnet(str(tmp_path / "other.pth"))),
               runs_dir=tmp_path / "runs")
    assert "\n" not in str(caught.value)


def test_missing_weights_without_a_connection_name_the_url_and_folder(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = folder.parent / "data"
    url = BACKBONES["resnet18"].imagenet_weights().url
    # the machines the tests run on have no connection; a closed local port stands in
    with pytest.raises(WeightsError) as caught:
        download_weights("resnet18", data, url="http://127.0.0.1:9/resnet18-f37072fd.pth")
    assert str(data / "weights") in str(caught.value) and "\n" not in str(caught.value)
    assert "resnet18-f37072fd.pth" in str(caught.value)
    def offline(*_args, **_kwargs):
        raise urllib.error.URLError("no connection")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(urllib.request, "urlopen", offline)
        code = main(["train", "--arch", "resnet18-imagenet", "--epochs", "1",
                     "--data-dir", str(data), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert url in err and str(data / "weights") in err
    assert not (tmp_path / "run").exists()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path/served``."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_Quiet, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_download_reports_progress_checks_the_hash_and_can_be_cancelled(
        server, tmp_path: Path) -> None:
    served, base = server
    made = fake_imagenet_weights("mobilenet_v3_small", tmp_path / "made")
    source = weights_file(BACKBONES["mobilenet_v3_small"], tmp_path / "made")
    name = source.name
    (served / name).write_bytes(source.read_bytes())
    data = tmp_path / "data"
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled):
        download_weights("mobilenet_v3_small", data, url=f"{base}/{name}", cancel=cancel,
                         progress=lambda done, total, _msg: cancel.set())
    assert not any((data / "weights").iterdir())  # nothing half-written is left
    # torchvision's file name carries the SHA-256 prefix: our random weights do not match it
    with pytest.raises(Exception, match="checksum"):
        download_weights("mobilenet_v3_small", data, url=f"{base}/{name}")
    assert not weights_file(BACKBONES["mobilenet_v3_small"], data).exists()
    seen: list[tuple[int, int | None]] = []
    digest = hashlib.sha256((served / name).read_bytes()).hexdigest()[:8]
    renamed = name.rsplit("-", 1)[0] + f"-{digest}.pth"
    (served / renamed).write_bytes((served / name).read_bytes())
    with pytest.MonkeyPatch.context() as patch:  # a file whose name matches its hash
        patch.setattr("cnn_core.nn.weights.weights_file",
                      lambda backbone, data_dir=None: Path(data_dir) / "weights" / renamed)
        path = download_weights("mobilenet_v3_small", data, url=f"{base}/{renamed}",
                                progress=lambda done, total, _m: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] == path.stat().st_size
    assert torch.equal(torch.load(path)["features.0.0.weight"], made["features.0.0.weight"])


def test_a_backbone_must_come_first_and_name_a_known_network() -> None:
    with pytest.raises(SpecError, match="layer 1: model 'vgg11' is not one of"):
        parse_spec({"name": "x", "layers": [{"type": "pretrained", "model": "vgg11"},
                                            {"type": "flatten"}, {"type": "linear"}]})
    with pytest.raises(SpecError, match="layer 2: a pretrained backbone must be the first"):
        parse_spec({"name": "x", "layers": [{"type": "relu"},
                                            {"type": "pretrained", "model": "resnet18"},
                                            {"type": "flatten"}, {"type": "linear"}]})


def test_frozen_features_train_the_same_head_as_the_whole_network(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_imagenet_weights("resnet18", folder.parent / "data")

    def trained_head(keep_features: bool) -> dict[str, torch.Tensor]:
        if not keep_features:
            monkeypatch.setattr(trainer_module, "trunk_is_fixed", lambda model: False)
        run = launch(folder_config(folder, resnet(), epochs=2, seed=5), run_dir=None,
                     runs_dir=folder.parent / f"runs-{keep_features}")
        prepared: list[int] = []

        class Watch(trainer_module.Callback):
            def on_prepare(self, trainer, done, total, what):
                prepared.append(done)
        run.trainer.callbacks.append(Watch())
        run.trainer.fit()
        assert bool(prepared) == keep_features  # progress only where features are kept
        monkeypatch.undo()
        return {k: v.clone() for k, v in run.trainer.model.classifier.state_dict().items()}

    kept, through = trained_head(True), trained_head(False)
    for name in kept:
        torch.testing.assert_close(kept[name], through[name], rtol=1e-4, atol=1e-5)


def test_augmentation_runs_the_trunk_every_batch(folder: Path) -> None:
    fake_imagenet_weights("resnet18", folder.parent / "data")
    run = launch(folder_config(folder, resnet(), augment="flip"), runs_dir=folder.parent / "r")
    run.trainer.fit()
    assert run.trainer.head_data is None


def test_a_run_opens_resumes_and_predicts_without_the_weights_file(
        folder: Path, tmp_path: Path) -> None:
    data = folder.parent / "data"
    state = fake_imagenet_weights("resnet18", data)
    run = launch(folder_config(folder, resnet()), runs_dir=tmp_path / "runs")
    run.trainer.fit()
    weights_file(BACKBONES["resnet18"], data).unlink()
    predictor = Predictor.open(run.run_dir)
    assert torch.equal(predictor.model.features.backbone.conv1.weight, state["conv1.weight"])
    pictures = sorted((folder / "circle").iterdir())[:3]
    assert len(predictor.predict(pictures)) == 3
    continued = open_continuation(run.run_dir, RunKind.RESUME)
    resumed = launch(continued.next_config({"epochs": 2}), continuation=continued)
    assert resumed.trainer.fit().epochs_done == 2
    assert torch.equal(resumed.trainer.model.features.backbone.conv1.weight,
                       state["conv1.weight"])


def test_a_trainable_backbones_batch_counts_what_it_keeps_for_training() -> None:
    network = {"name": "big", "layers": [
        {"type": "pretrained", "model": "efficientnet_b0", "trainable": True, "size": 224},
        {"type": "flatten"}, {"type": "linear"}]}
    with pytest.raises(ValueError, match=r"network: one training batch of 4096 needs about "
                                         r"[\d,.]+ GB"):
        TrainConfig(arch="big", network=network, batch_size=4096).validate()
    frozen = {**network, "layers": [{**network["layers"][0], "trainable": False},
                                    *network["layers"][1:]]}
    TrainConfig(arch="big", network=frozen, batch_size=4096).validate()  # keeps nothing


def test_fine_tuning_a_backbone_run_needs_no_weights_file(folder: Path, tmp_path: Path) -> None:
    data = folder.parent / "data"
    state = fake_imagenet_weights("resnet18", data)
    first = launch(folder_config(folder, resnet()), runs_dir=tmp_path / "runs")
    first.trainer.fit()
    weights_file(BACKBONES["resnet18"], data).unlink()
    tuned = launch(folder_config(folder, resnet(), init_from=str(first.run_dir)),
                   runs_dir=tmp_path / "runs")
    assert torch.equal(tuned.trainer.model.features.backbone.conv1.weight, state["conv1.weight"])
    assert "backbone" in tuned.trainer.config.init_from["copied"]
    tuned.close()
