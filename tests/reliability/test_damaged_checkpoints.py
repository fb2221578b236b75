"""Every damaged checkpoint is refused as one clean error; a fuzz of a few hundred."""

from __future__ import annotations

import io
import pickle
import random
import zipfile
from pathlib import Path

import pytest
import torch

from cnn_core.nn.models import build_model
from cnn_core.runs.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import RunKind, launch, open_continuation
from cnn_core.train.trainer import Trainer
from tests.exploit import Exploit
from tests.reliability.helpers import assert_one_clean_line, cli

USABLE = "not a usable checkpoint"


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory, sample) -> Path:
    """A real LeNet-5 run of one short epoch, recorded as the CLI and the window record."""
    run = tmp_path_factory.mktemp("real") / "run"
    config = TrainConfig(arch="lenet5", epochs=1, device="cpu")
    launch(config, run_dir=run, data=sample).trainer.fit()
    return run / "checkpoints" / "last.pt"


def refusal(path: Path) -> str:
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert USABLE in message and str(path) in message and "\n" not in message
    return message


def test_text_random_bytes_and_a_changed_byte_are_damage_not_code(tmp_path,
                                                                  real_checkpoint) -> None:
    data = real_checkpoint.read_bytes()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    cases = {"text.pt": b"this is a text file\nnamed like a checkpoint\n",
             "random.pt": random.Random(0).randbytes(4096),
             "flipped.pt": bytes(flipped)}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        message = refusal(tmp_path / name)
        assert "could run code" not in message, message


def test_only_a_pickle_that_wants_code_is_called_an_attack(tmp_path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "raw.pt").write_bytes(pickle.dumps(Exploit(str(marker))))
    torch.save({"format": "cnn-studio-checkpoint", "model": Exploit(str(marker))},
               tmp_path / "zipped.pt")
    for name in ("raw.pt", "zipped.pt"):
        assert "could run code" in refusal(tmp_path / name)
    assert not marker.exists()


def test_weights_that_do_not_fit_their_architecture_are_one_line(tmp_path, small) -> None:
    trainer = Trainer(TrainConfig(arch="lenet5", epochs=1, device="cpu"), data=small)
    state = trainer.state_dict()
    state["model"] = build_model("simplecnn").state_dict()
    save_checkpoint(state, tmp_path / "mismatch.pt")
    message = refusal(tmp_path / "mismatch.pt")
    assert "do not fit a lenet5" in message


def test_nan_or_infinite_weights_are_refused_as_such(tmp_path, small) -> None:
    trainer = Trainer(TrainConfig(arch="lenet5", epochs=1, device="cpu"), data=small)
    for bad in (float("nan"), float("inf")):
        state = trainer.state_dict()
        state["model"] = {k: v.clone() for k, v in state["model"].items()}
        state["model"]["features.conv1.weight"][0, 0, 0, 0] = bad
        save_checkpoint(state, tmp_path / "bad.pt")
        message = refusal(tmp_path / "bad.pt")
        assert "NaN or infinite" in message and "learning rate" not in message


@pytest.mark.parametrize("command", [
    ["train", "--resume", "{bad}", "--epochs", "3"],
    ["export", "{bad}", "--onnx", "{tmp}/model.onnx"],
])
def test_the_cli_refuses_a_damaged_checkpoint_in_one_line(tmp_path, real_checkpoint,
                                                          command) -> None:
    bad = tmp_path / "bad.pt"
    data = bytearray(real_checkpoint.read_bytes())
    data[len(data) // 3: len(data) // 3 + 64] = bytes(64)
    bad.write_bytes(bytes(data))
    proc = cli(*[part.format(bad=bad, tmp=tmp_path) for part in command])
    assert proc.returncode == 1
    assert_one_clean_line(proc.stderr)
    assert USABLE in proc.stderr


def mutations(data: bytes, seed: int) -> bytes:
    """One seeded mutation of a checkpoint's bytes: truncated, bytes flipped, replaced by
    random bytes, or a zip entry removed."""
    rng = random.Random(seed)
    kind = seed % 4
    if kind == 0:
        return data[:rng.randrange(len(data))]
    if kind == 1:
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == 2:
        return rng.randbytes(rng.randint(1, 4096))
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        names = source.namelist()
        dropped = rng.choice(names)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target:
            for name in names:
                if name != dropped:
                    target.writestr(source.getinfo(name), source.read(name))
    return buffer.getvalue()


def test_fuzz_every_mutation_is_refused_cleanly_or_loads_the_same_weights(
        tmp_path, real_checkpoint) -> None:
    data = real_checkpoint.read_bytes()
    original = load_checkpoint(real_checkpoint)["model"]
    path = tmp_path / "mutant.pt"
    outcomes = {"refused": 0, "loaded": 0}
    for seed in range(300):
        path.write_bytes(mutations(data, seed))
        try:
            state = load_checkpoint(path)
        except CheckpointError as exc:
            assert USABLE in str(exc) and "\n" not in str(exc), (seed, str(exc))
            outcomes["refused"] += 1
            continue
        for key, value in original.items():  # a load is a correct load, or a refusal
            assert torch.equal(state["model"][key], value), (seed, key)
        outcomes["loaded"] += 1
    assert outcomes["refused"] >= 250, outcomes


def test_a_checkpoint_whose_training_state_is_broken_is_refused_on_resume(tmp_path,
                                                                         small) -> None:
    trainer = Trainer(TrainConfig(arch="lenet5", epochs=1, device="cpu"), data=small)
    state = trainer.state_dict()
    state["rng"] = {**state["rng"], "torch": torch.zeros(3, dtype=torch.uint8)}
    save_checkpoint(state, tmp_path / "odd.pt")
    continuation = open_continuation(tmp_path / "odd.pt", RunKind.RESUME)
    with pytest.raises(CheckpointError, match="training state is not usable") as caught:
        launch(TrainConfig(arch="lenet5", epochs=2, device="cpu"), continuation=continuation,
               run_dir=tmp_path / "run", data=small)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "run").exists()  # the claimed folder is let go
