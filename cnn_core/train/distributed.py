"""One model trained by several processes under ``torchrun``, with PyTorch's own
``DistributedDataParallel``: torchrun starts the processes and says who is who (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``); this module joins them and holds the few collectives the
trainer needs besides the gradients' all-reduce.

Each process keeps the whole dataset in memory and takes its share of every global batch
of the epoch's seeded order. Only rank 0 records the run. Without torchrun nothing here
runs: no process group, no extra cost.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.bundle import Split
from ..runs.errors import first_line
from .config import resolve_device
from .evaluation import EvalResult, evaluate
from .errors import TrainingError

# A process that stops answering for this long is taken for dead. Generous: rank 0 writes
# checkpoints while the others wait, and a first download can take minutes.
TIMEOUT = timedelta(minutes=5)
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


class DistributedError(TrainingError):
    """Another process of the run failed or stopped answering: this one cannot go on."""


def under_torchrun() -> bool:
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


@dataclass(frozen=True)
class Group:
    """This process's place in the run, and the collectives the trainer uses."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that prints and writes the run folder."""
        return self.rank == 0

    def shard(self, batch: Tensor) -> tuple[Tensor, Tensor | None]:
        """This rank's part of a global batch of indices, and the weight of each of its
        images when some ranks must take a stand-in (a last batch smaller than the world):
        every rank then trains on at least one image, whose weight is 0."""
        n = len(batch)
        if n >= self.world_size:
            return torch.tensor_split(batch, self.world_size)[self.rank], None
        if self.rank < n:
            return batch[self.rank:self.rank + 1], None
        return batch[:1], torch.zeros(1, device=batch.device)

    def sum_(self, tensor: Tensor) -> Tensor:
        """``tensor`` summed over the ranks, in place."""
        with collective("add up the ranks' numbers"):
            dist.all_reduce(tensor)
        return tensor

    def add_up(self, losses: Tensor, *numbers: Tensor | float) -> tuple[list[float],
                                                                      list[float]]:
        """``losses`` and ``numbers`` summed over the ranks, read back at once: one
        collective for all that a report needs."""
        tail = torch.stack([torch.as_tensor(v, dtype=torch.float64, device=self.device)
                            for v in numbers])
        notes = self.sum_(torch.cat([losses.double(), tail])).tolist()
        return notes[:len(losses)], notes[len(losses):]

    def own_seed(self, seed: int, epoch: int) -> int | None:
        """The seed of this rank's own random draws (dropout, augmentation) from ``epoch``
        on; rank 0 keeps the run's own (``None``)."""
        return None if self.is_main else seed + 1_000_003 * self.rank + 7919 * epoch

    def any(self, flag: bool) -> bool:
        """Whether any rank says yes: the ranks decide together (to stop, say)."""
        return bool(self.sum_(torch.tensor([float(flag)], device=self.device)).item())

    def all(self, flag: bool) -> bool:
        return not self.any(not flag)

    def barrier(self) -> None:
        with collective("wait for the other processes"):
            dist.barrier()

    def broadcast_buffers(self, model: nn.Module) -> None:
        """Rank 0's batch-norm statistics to every rank: each rank updated its own with its
        shard, and the model that is evaluated and saved is rank 0's."""
        with collective("share the batch-norm statistics"):
            for buffer in model.buffers():
                dist.broadcast(buffer, 0)

    def evaluate(self, model: nn.Module, split: Split, criterion: nn.Module,
                 keep_hidden: bool = False) -> EvalResult:
        """:func:`evaluate` with each rank on its part of ``split``, then every image's
        prediction, confidence and loss shared, so every rank has the whole result."""
        n = len(split)
        lo, hi = n * self.rank // self.world_size, n * (self.rank + 1) // self.world_size
        local = evaluate(model, Split(split.images[lo:hi], split.labels[lo:hi]), criterion,
                         keep_hidden=keep_hidden) if hi > lo else None
        table = torch.zeros(3, n, device=split.labels.device)
        if local is not None:
            table[:, lo:hi] = torch.stack([local.predictions.float(), local.confidence.float(),
                                           local.losses.float()])
        self.sum_(table)
        hidden = None
        if keep_hidden:
            # every rank with images has the same width; the ones without say 0
            width = torch.tensor([0.0 if local is None else local.hidden.shape[1]],
                                 device=self.device)
            width = round(self.sum_(width).item() / min(self.world_size, n))
            hidden = torch.zeros(n, width, device=split.labels.device)
            if local is not None:
                hidden[lo:hi] = local.hidden
            self.sum_(hidden)
        predictions, losses = table[0].round().long(), table[2]
        accuracy = (predictions == split.labels).sum().item() / n if n else 0.0
        return EvalResult(losses.mean().item() if n else 0.0, accuracy, predictions, table[1],
                          losses, hidden)


def weighted_loss(logits: Tensor, labels: Tensor, weight: Tensor | None,
                  global_batch: int, world_size: int) -> tuple[Tensor, Tensor]:
    """(the loss to back-propagate, this rank's summed loss). DDP averages the ranks'
    gradients, so each rank's loss is its sum scaled by ``world_size / global_batch``:
    the average is then exactly the gradient of the global batch's mean loss, however
    unevenly the batch was shared."""
    losses = F.cross_entropy(logits, labels, reduction="none")
    if weight is not None:
        losses = losses * weight
    total = losses.sum()
    return total * (world_size / global_batch), total.detach()


@contextmanager
def collective(what: str) -> Iterator[None]:
    """Turn the backend's report of a lost process, during ``what``, into a
    :class:`DistributedError` that says so."""
    try:
        yield
    except RuntimeError as exc:
        # NCCL's and the store's errors are DistErrors; gloo's are RuntimeErrors it names
        if not isinstance(exc, dist.DistError) and "gloo" not in str(exc):
            raise
        raise DistributedError(f"another process of this run stopped answering while this "
                               f"one tried to {what} ({_reason(exc)})") from exc


def _reason(exc: BaseException) -> str:
    """The backend's words, without its source location and its advice to developers."""
    text = re.sub(r"^\[[^\]]*\]\s*", "", first_line(exc))
    return text.split(". This is typically")[0]


def join(device: str, timeout: timedelta = TIMEOUT) -> Group | None:
    """Join the run's other processes if torchrun started this one (else ``None``):
    gloo on the CPU, NCCL on CUDA with each process on ``cuda:LOCAL_RANK``."""
    if not under_torchrun():
        return None
    kind = resolve_device(device).type  # a ValueError names an unusable device
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ["LOCAL_RANK"])
    if kind == "cuda":
        if local >= torch.cuda.device_count():
            raise ValueError(f"device: process {rank} needs cuda:{local}, but this machine "
                             f"has {torch.cuda.device_count()} GPU(s); start fewer processes "
                             "per node")
        where = torch.device("cuda", local)
        torch.cuda.set_device(where)
        dist.init_process_group("nccl", timeout=timeout, device_id=where)
    elif kind == "cpu":
        where = torch.device("cpu")
        dist.init_process_group("gloo", timeout=timeout)
    else:
        raise ValueError(f"device: torchrun trains on cpu or cuda, not {kind}")
    return Group(rank, world, local, where)


def dist_backend() -> str:
    """The group's backend ("gloo", "nccl")."""
    return str(dist.get_backend())


def leave() -> None:
    """End this process's part in the group (the run is over, or failed)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
