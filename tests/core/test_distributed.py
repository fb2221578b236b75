"""One model trained by several processes under torchrun (gloo on the CPU), and the pieces
that make it add up to a single-process run."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F

from cnn_core.cli import main as cli_main
from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.store import read_summary
from cnn_core.train.callbacks import RunStatus
from cnn_core.train.config import TrainConfig
from cnn_core.train.distributed import Group, weighted_loss
from cnn_core.train.trainer import Trainer

RUN_FILES = {"config.json", "metrics.csv", "batches.csv", "summary.json", "checkpoints",
             "snapshots"}


def torchrun(processes: int, *args: str) -> list[str]:
    """The torchrun command line for ``python -m cnn_core ARGS`` on this machine."""
    script = Path(sys.executable).with_name("torchrun")
    launcher = [str(script)] if script.exists() else [sys.executable, "-m",
                                                      "torch.distributed.run"]
    return [*launcher, "--standalone", f"--nproc-per-node={processes}", "-m", "cnn_core", *args]


def train(processes: int, out: Path, *args: str,
          timeout: float = 300) -> subprocess.CompletedProcess:
    command = ["train", "--dataset", "mnist-sample", "--device", "cpu", "--out", str(out),
               "--quiet", *args]
    line = (torchrun(processes, *command) if processes > 1
            else [sys.executable, "-m", "cnn_core", *command])
    return subprocess.run(line, capture_output=True, text=True, timeout=timeout)


def metrics(run: Path) -> list[dict[str, str]]:
    """The per-epoch numbers, without the timings (which differ run to run)."""
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k not in ("seconds", "images_per_sec")}
                for row in csv.DictReader(f)]


def test_a_torchrun_run_records_one_run_that_resumes_in_one_process_and_back(
        tmp_path: Path) -> None:
    runs = Path(os.environ["CNN_STUDIO_RUNS"])
    first, second = tmp_path / "first", tmp_path / "second"

    done = train(2, first, "--arch", "lenet5", "--epochs", "2")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in first.iterdir() if not p.name.startswith(".")) == sorted(
        RUN_FILES)
    assert not runs.exists() or not any(runs.iterdir())  # rank 1 wrote no run of its own
    assert set(tmp_path.iterdir()) == {first}
    assert done.stdout.count("epoch 1/2") == 1  # rank 0 alone prints
    assert "x 2 processes (gloo)" in done.stdout
    state = load_checkpoint(first / "checkpoints" / "last.pt")
    assert state["epoch"] == 2 and not any(k.startswith("module.") for k in state["model"])

    again = train(2, second, "--arch", "lenet5", "--epochs", "2")
    assert again.returncode == 0, again.stderr
    assert metrics(second) == metrics(first)  # same seed, same world: the same numbers

    assert cli_main(["train", "--resume", str(first), "--epochs", "3", "--device", "cpu",
                     "--quiet"]) == 0
    assert read_summary(first).epochs_done == 3
    assert not dist.is_initialized()  # without torchrun: no process group

    resumed = subprocess.run(
        torchrun(2, "train", "--resume", str(first), "--epochs", "4", "--device", "cpu",
                 "--quiet"), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming lenet5 on mnist-sample from epoch 3" in resumed.stdout
    assert [int(m["epoch"]) for m in metrics(first)] == [1, 2, 3, 4]
    summary = read_summary(first)
    assert (summary.epochs_done, summary.status) == (4, "completed")


@pytest.mark.slow
def test_two_processes_learn_as_well_as_one_with_the_same_global_batch(tmp_path: Path) -> None:
    one = train(1, tmp_path / "one", "--arch", "simplecnn", "--epochs", "3")
    two = train(2, tmp_path / "two", "--arch", "simplecnn", "--epochs", "3")
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    accuracy = [float(metrics(tmp_path / name)[-1]["test_acc"]) for name in ("one", "two")]
    assert abs(accuracy[0] - accuracy[1]) <= 0.015, accuracy


def start(out: Path, epochs: int = 30) -> subprocess.Popen:
    return subprocess.Popen(
        torchrun(2, "train", "--arch", "lenet5", "--dataset", "mnist-sample", "--epochs",
                 str(epochs), "--device", "cpu", "--out", str(out), "--quiet"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ranks_of(launcher: subprocess.Popen) -> list[int]:
    """The process ids of torchrun's workers (its children)."""
    children = Path(f"/proc/{launcher.pid}/task/{launcher.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def signal_a_rank_after_an_epoch(run: Path, sig: signal.Signals) -> subprocess.Popen:
    """A 2-process run into ``run``, with ``sig`` sent to its last rank once an epoch is
    saved; the torchrun process."""
    launcher = start(run)
    deadline = time.monotonic() + 240
    while not (run / "checkpoints" / "last.pt").exists():
        assert launcher.poll() is None, launcher.communicate()[1]
        assert time.monotonic() < deadline, "no epoch was saved"
        time.sleep(0.2)
    os.kill(ranks_of(launcher)[-1], sig)
    return launcher


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_killed_rank_makes_the_other_exit_with_a_message(tmp_path: Path) -> None:
    run = tmp_path / "run"
    launcher = signal_a_rank_after_an_epoch(run, signal.SIGKILL)
    killed = time.monotonic()
    _, err = launcher.communicate(timeout=60)
    assert time.monotonic() - killed < 60
    assert launcher.returncode != 0
    assert "error (process 0): another process of this run stopped answering" in err
    assert f"completed epochs are saved in {run}" in err
    state = load_checkpoint(run / "checkpoints" / "last.pt")  # the last complete one
    assert state["epoch"] >= 1
    assert read_summary(run).status == "failed"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_sigterm_to_one_rank_stops_every_rank_cleanly(tmp_path: Path) -> None:
    run = tmp_path / "run"
    launcher = signal_a_rank_after_an_epoch(run, signal.SIGTERM)
    out, err = launcher.communicate(timeout=60)
    assert launcher.returncode == 0, err
    assert "stopped after" in out
    summary = read_summary(run)
    assert summary.status == "stopped" and summary.epochs_done < 30
    assert load_checkpoint(run / "checkpoints" / "last.pt")["epoch"] == summary.epochs_done


# -- the pieces, in one process ----------------------------------------------------------

def group(rank: int, world: int) -> Group:
    return Group(rank, world, rank, torch.device("cpu"))


@pytest.mark.parametrize("size", [64, 7, 3])
def test_the_ranks_shares_cover_a_batch_once(size: int) -> None:
    batch = torch.arange(100, 100 + size)
    world = 4
    shares = [group(r, world).shard(batch) for r in range(world)]
    counted = torch.cat([idx[w > 0] if w is not None else idx for idx, w in shares])
    assert sorted(counted.tolist()) == batch.tolist()
    assert all(len(idx) >= 1 for idx, _ in shares)


def test_the_ranks_gradients_average_to_the_global_batchs() -> None:
    """DDP averages the ranks' gradients: with the weighted losses that average is the
    gradient of the global batch's mean loss, even for a batch smaller than the world."""
    torch.manual_seed(0)
    layer = torch.nn.Linear(5, 3)
    for size in (12, 3):
        x, y = torch.randn(size, 5), torch.randint(0, 3, (size,))
        layer.zero_grad()
        F.cross_entropy(layer(x), y).backward()
        expected = layer.weight.grad.clone()
        world, summed = 4, torch.zeros_like(expected)
        for rank in range(world):
            idx, weight = group(rank, world).shard(torch.arange(size))
            layer.zero_grad()
            loss, _ = weighted_loss(layer(x[idx]), y[idx], weight, size, world)
            loss.backward()
            summed += layer.weight.grad
        torch.testing.assert_close(summed / world, expected)


def test_a_global_batch_smaller_than_the_world_is_refused(small) -> None:
    with pytest.raises(ValueError, match="batch_size: must be at least the 4 processes"):
        Trainer(TrainConfig(arch="lenet5", batch_size=3, device="cpu"), data=small,
                group=group(0, 4))


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
def test_two_gpus_train_one_model_with_nccl(tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = subprocess.run(
        torchrun(2, "train", "--arch", "simplecnn", "--dataset", "mnist-sample", "--epochs",
                 "2", "--device", "cuda", "--out", str(run), "--quiet"),
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "x 2 processes (nccl)" in done.stdout and "device cuda:0" in done.stdout
    assert float(metrics(run)[-1]["test_acc"]) > 0.9


class StopArrivesAfterTheVote(Group):
    """A group whose stop request (a signal, say) lands just after each vote to stop."""

    def __init__(self, trainer_box: list[Trainer]) -> None:
        super().__init__(0, 1, 0, torch.device("cpu"))
        object.__setattr__(self, "trainer_box", trainer_box)

    def any(self, flag: bool) -> bool:
        agreed = super().any(flag)
        self.trainer_box[0].request_stop()
        return agreed


def test_a_stop_request_after_the_vote_waits_for_the_next_vote(small) -> None:
    """The process that heard the request must train the batch the others, who voted
    without it, go on to train; it stops at the next vote with them."""
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        box: list[Trainer] = []
        trainer = Trainer(TrainConfig(arch="lenet5", epochs=2, device="cpu"), data=small,
                          group=StopArrivesAfterTheVote(box))
        box.append(trainer)
        result = trainer.fit()
    finally:
        dist.destroy_process_group()
    assert result.status == RunStatus.STOPPED
    assert trainer.global_step == 1
