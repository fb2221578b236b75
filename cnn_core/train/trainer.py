"""One straight training loop with hooks, cooperative stop/pause and exact resume."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from .callbacks import (BatchProgress, Callback, EpochMetrics, FitResult, RunStatus,
                        SettingsChange)
from .config import TrainConfig, resolve_device
from .early_stop import EarlyStop, plateau
from .frozen_features import Head, trunk_features, trunk_is_fixed
from .distributed import Group, collective, weighted_loss
from .errors import TrainingError
from .live_edits import LiveEdits
from .optimizers import make_optimizer
from .resumable import Resumable
from .schedules import lr_factor
from .evaluation import EvalResult, evaluate
from .init_from import frozen_layers
from ..data.augment import Augmentation, augment_batch, parse_augmentation
from ..data.bundle import Split
from ..data.datasets import DataBundle
from ..nn.models import StudioModel, build_model

REPORT_INTERVAL = 0.05  # seconds between batch reports, unless the caller asks otherwise


class Trainer(LiveEdits, Resumable):
    """Builds model and optimizer from a config, follows its learning-rate schedule
    (:mod:`cnn_core.train.schedules`) and trains them on ``data``
    (loaded by the caller: :func:`cnn_core.train.launch.launch` does it for a run).

    Thread-safe controls (``request_stop``, ``pause``, ``resume``) may be called from any
    thread; they take effect between two batches.

    With ``group`` (under torchrun: :func:`cnn_core.train.distributed.join`) the model
    trains as one of the group's DistributedDataParallel processes: ``batch_size`` is the
    global batch, and losses, accuracies and stops are agreed by all the processes.
    """

    def __init__(self, config: TrainConfig, callbacks: Iterable[Callback] = (), *,
                 data: DataBundle, report_interval: float = REPORT_INTERVAL,
                 group: Group | None = None) -> None:
        config.validate()
        if group is not None and config.batch_size < group.world_size:
            raise ValueError(f"batch_size: must be at least the {group.world_size} processes "
                             "(each takes a share of every batch)")
        self.config = config
        self.callbacks = list(callbacks)
        self.report_interval = report_interval
        self.group = group
        self.device = group.device if group is not None else resolve_device(config.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick kernels
        self._stop = threading.Event()
        self._stop_status = RunStatus.STOPPED
        self._unpaused = threading.Event()
        self._unpaused.set()

        # Channels-last lets the CPU (oneDNN) and cuDNN convolution kernels skip layout
        # conversions: about 25% faster per epoch on a 2-core CPU (make bench).
        layout = (torch.channels_last if self.device.type in ("cpu", "cuda")
                  else torch.contiguous_format)

        torch.manual_seed(config.seed)
        self.info = data.info
        self.data = data.to(self.device, layout)
        self.model: StudioModel = build_model(
            config.arch, network=config.network, in_channels=self.info.in_channels,
            num_classes=self.info.num_classes,
            input_size=self.info.input_size).to(self.device, memory_format=layout)
        self.model.set_input_normalisation(self.info.mean, self.info.std)
        self.model.freeze(frozen_layers(self.model.spec, config.freeze))  # before DDP sees it
        # the processes start from rank 0's weights, and average their gradients
        self.ddp = None if group is None else DistributedDataParallel(
            self.model, device_ids=[self.device] if self.device.type == "cuda" else None)
        self.optimizer = make_optimizer(config, self.model, self.device)
        self.peak_lr = config.lr  # the schedule's rate times this is the rate
        self.criterion = nn.CrossEntropyLoss()
        self.shuffle = torch.Generator().manual_seed(config.seed)
        # a generator of its own, so augmenting never changes the batch order; seeded apart
        # from the shuffle so the two do not draw the same numbers
        self.augment_rng = torch.Generator().manual_seed(config.seed + 1)
        self.epoch = 0  # epochs completed
        self.global_step = 0
        self.history: list[EpochMetrics] = []
        # settings edited during the run, so curves can mark them and checkpoints remember them
        self.changes: list[SettingsChange] = []
        self._pending: dict[str, Any] = {}  # edits that apply before the next batch
        self._next_epoch: dict[str, Any] = {}  # a batch size waiting for the next epoch
        self._pending_lock = threading.Lock()
        self._progress = 0.0  # epochs done, with the fraction of the current one
        self.stopped_early_at = 0  # the last epoch early stopping ended a fit at
        self.early_stop: EarlyStop | None = None  # why this fit is stopping early
        # the last evaluation's prediction and confidence for every test image
        self.test_predictions: Tensor | None = None
        self.test_confidence: Tensor | None = None
        self.test_losses: Tensor | None = None
        self.test_hidden: Tensor | None = None  # kept when keep_hidden: (N, D)
        self.keep_hidden = False  # evaluations keep every test image's last hidden layer
        # the fixed trunk's features of every picture, kept for a fit (see frozen_features)
        self.head_data: DataBundle | None = None
        self.follow_schedule(0.0)
        self._seed_rank_streams()

    # -- controls (any thread) -----------------------------------------------------------

    def request_stop(self, status: RunStatus = RunStatus.STOPPED) -> None:
        """``status``: what the run ends as if this stop cuts it short (a pruned trial)."""
        self._stop_status = status
        self._stop.set()
        self._unpaused.set()  # a paused run must wake up to stop

    def pause(self) -> None:
        self._unpaused.clear()

    def resume(self) -> None:
        self._unpaused.set()

    @property
    def paused(self) -> bool:
        return not self._unpaused.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])  # the run's: see param_groups

    # -- the loop ------------------------------------------------------------------------

    def fit(self) -> FitResult:
        """Train from the current epoch up to ``config.epochs``.

        Returns when done or stopped; raises :class:`TrainingError` (after calling
        ``on_exception`` and restoring the last good weights) when the run cannot go on.
        """
        self._fit_started = time.monotonic()
        self._paused_total = 0.0  # seconds spent paused in this fit, left out of timings
        good_state = self._copy_state()
        self.early_stop = None
        try:
            self._emit("on_train_start", self)
            prepared = self._keep_fixed_features()
            while prepared:
                self._progress = float(self.epoch)
                self.apply_pending_changes(epoch_start=True)  # may change `epochs`
                if self.epoch >= self.config.epochs or self._stop_agreed():
                    break
                finished = self._train_epoch()
                if not finished:
                    break
                good_state = self._copy_state()
                if self.early_stop is not None:
                    break
        except TrainingError as exc:
            self._restore_state(good_state)
            self._emit("on_exception", self, exc)
            raise
        except torch.OutOfMemoryError:
            self._restore_state(good_state)
            exc = TrainingError(
                f"out of memory on {self.device} with batch size {self.config.batch_size}; "
                "try a smaller batch size or another device")
            self._emit("on_exception", self, exc)
            raise exc from None
        except KeyboardInterrupt:  # Ctrl+C: the run stopped, as a stop would have
            self._emit("on_train_end", self, FitResult(RunStatus.STOPPED, self.epoch,
                                                       list(self.history)))
            raise
        except Exception as exc:
            self._emit("on_exception", self, exc)
            raise
        if self.early_stop is not None:
            result = FitResult(RunStatus.STOPPED_EARLY, self.epoch, list(self.history),
                               note=self.early_stop.describe())
        else:
            status = (RunStatus.COMPLETED if self.epoch >= self.config.epochs
                      else self._stop_status)
            result = FitResult(status, self.epoch, list(self.history))
        self._emit("on_train_end", self, result)
        return result

    def _train_epoch(self) -> bool:
        """One pass over the training set; False if a stop cut it short."""
        epoch = self.epoch + 1
        self._emit("on_epoch_start", self, epoch)
        model, group = self.model, self.group
        train = (self.head_data or self.data).train
        augmentation = parse_augmentation(self.config.augment)
        model.train()
        n, bs = len(train), self.config.batch_size  # a new batch size waits for the next epoch
        num_batches = (n + bs - 1) // bs
        # Losses and hits stay on the device; reading them forces a sync, so we read only
        # when reporting (a few times a second), never every batch.
        batch_losses = torch.zeros(num_batches, device=self.device)
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        seen, reported, i = 0, 0, 0
        start = last_report = time.monotonic()
        paused_before = self._paused_total
        order = torch.randperm(n, generator=self.shuffle).to(train.labels.device)
        lrs: list[float] = []  # each batch's learning rate
        # processes of a group report at batches they agree on, when they compare notes
        compare_at, agreed_stop = 1, False

        while seen < n:
            if not self._unpaused.is_set():
                t0 = time.monotonic()
                while not self._unpaused.wait(0.05):
                    pass
                self._paused_total += time.monotonic() - t0
            if agreed_stop or (group is None and self._stop.is_set()):
                return False
            if self._pending:
                self.apply_pending_changes(epoch_start=False)
            self.follow_schedule(self.epoch + seen / n)
            lrs.append(self.lr)
            idx = order[seen:seen + bs]
            share, total, hits = self._step(train, idx, augmentation)
            batch_losses[i] = share
            loss_sum += total
            correct += hits
            seen += len(idx)
            i += 1
            self.global_step += 1
            self._progress = self.epoch + seen / n

            now = time.monotonic()
            # A pause or an edit about to take effect flushes the report first, so every
            # reported loss belongs to the settings it was made with.
            if group is None and (now - last_report >= self.report_interval or seen == n
                                  or not self._unpaused.is_set() or self._pending):
                losses, hits_so_far = batch_losses[reported:i].tolist(), correct.item()
                run_loss = loss_sum
            elif group is not None and (i >= compare_at or seen == n):
                # rank 0 picks when to compare again: in about a report interval
                every = (max(1, round(self.report_interval * (i - reported)
                                      / max(now - last_report, 1e-9))) if group.is_main else 0)
                losses, (hits_so_far, run_loss, stops, every) = group.add_up(
                    batch_losses[reported:i], correct, loss_sum, self._stop.is_set(), every)
                agreed_stop, compare_at = stops > 0, i + int(every)
                if agreed_stop:
                    self._stop.set()
            else:
                continue
            if not all(map(math.isfinite, losses)):
                bad = reported + next(k for k, v in enumerate(losses) if not math.isfinite(v)) + 1
                raise TrainingError(
                    f"the loss became {losses[bad - reported - 1]} at epoch {epoch}, batch "
                    f"{bad}: training diverged. Try a smaller learning rate. The weights "
                    "were restored to the end of the last complete epoch.")
            in_epoch = now - start - (self._paused_total - paused_before)
            self._emit("on_batch_end", self, BatchProgress(
                epoch=epoch, epochs=self.config.epochs, batch=i, num_batches=num_batches,
                global_step=self.global_step, losses=losses, lrs=lrs[reported:i],
                accuracy=hits_so_far / seen, lr=self.lr,
                images_per_sec=seen / max(in_epoch, 1e-9),
                elapsed=now - self._fit_started - self._paused_total))
            reported, last_report = i, now

        train_seconds = time.monotonic() - start - (self._paused_total - paused_before)
        train_loss = float(run_loss) / n
        if group is None:
            result = evaluate(self._forward, (self.head_data or self.data).test, self.criterion,
                              keep_hidden=self.keep_hidden)
        else:
            group.broadcast_buffers(model)
            result = group.evaluate(model, self.data.test, self.criterion,
                                    keep_hidden=self.keep_hidden)
        test_loss, test_acc = result.loss, result.accuracy
        self.keep_evaluation(result)
        lr = self.lr
        self.epoch = epoch
        self.follow_schedule(float(epoch))  # the rate a checkpoint goes on with
        metrics = EpochMetrics(epoch=epoch, train_loss=train_loss, train_acc=hits_so_far / seen,
                               test_loss=test_loss, test_acc=test_acc, lr=lr,
                               seconds=train_seconds, images_per_sec=seen / max(train_seconds, 1e-9))
        self.history.append(metrics)
        # decided before the checkpoint is made, so a resume knows where the stop was
        self.early_stop = (plateau(self.history, self.config, after=self.stopped_early_at)
                           if epoch < self.config.epochs else None)
        if self.early_stop is not None:
            self.stopped_early_at = epoch
        self._emit("on_epoch_end", self, metrics)
        return True

    def follow_schedule(self, progress: float) -> None:
        """Set the learning rate the schedule has at ``progress`` epochs into the run."""
        lr = self.peak_lr * lr_factor(self.config, progress)
        if lr != self.lr:
            for group in self.optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)  # older checkpoints: no scale

    def _step(self, train: Split, batch: Tensor,
              augmentation: Augmentation) -> tuple[Tensor, Tensor, Tensor]:
        """Train on the images ``batch`` indexes (this process's share of them, in a group).
        Returns, on the device: the batch's mean loss (in a group, this process's part of
        it: the parts add up to the mean), this process's summed loss, and its hits."""
        group = self.group
        idx, weight = (batch, None) if group is None else group.shard(batch)
        x, y = train.images[idx], train.labels[idx]
        x = augment_batch(x, augmentation, self.info, self.augment_rng)
        if self.ddp is None:
            logits = self._forward(x)
            loss = self.criterion(logits, y)
            total = loss.detach() * len(y)
        else:
            with collective("train on a batch"):  # DDP shares buffers and gradients
                logits = self.ddp(x)
                loss, total = weighted_loss(logits, y, weight, len(batch), group.world_size)
        self.optimizer.zero_grad(set_to_none=True)
        with collective("train on a batch"):
            loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            hits = logits.argmax(1) == y
            if weight is not None:
                hits &= weight > 0
            share = loss.detach() if group is None else total / len(batch)
        return share, total, hits.sum()

    @property
    def _forward(self) -> nn.Module:
        """What a batch goes through: the whole model, or its head on kept features."""
        return self.model if self.head_data is None else Head(self.model)

    def _keep_fixed_features(self) -> bool:
        """Compute the fixed trunk's features of every picture once, for this fit, where
        that gives the same numbers (see :mod:`.frozen_features`); False if a stop came
        meanwhile."""
        self.head_data = None
        if (self.group is not None or parse_augmentation(self.config.augment).active
                or not trunk_is_fixed(self.model)):
            return True
        data, total = self.data, len(self.data.train) + len(self.data.test)

        def report(done: int, _total: int) -> None:
            self._emit("on_prepare", self, done, total, "features of the fixed layers")

        train = trunk_features(self.model, data.train, total=total, progress=report,
                               stop=self._stop)
        test = None if train is None else trunk_features(
            self.model, data.test, done_before=len(data.train), total=total, progress=report,
            stop=self._stop)
        if train is None or test is None:
            return False
        self.head_data = DataBundle(self.info, train, test)
        return True

    def _stop_agreed(self) -> bool:
        """Whether to stop before the next epoch: in a group, if any process was asked to.
        A group acts on the agreed answer only: a request arriving after the vote waits
        for the next one, or this process would stop alone."""
        if self.group is None:
            return self._stop.is_set()
        agreed = self.group.any(self._stop.is_set())
        if agreed:
            self._stop.set()
        return agreed

    def _seed_rank_streams(self) -> None:
        """Give each process of a group its own dropout and augmentation draws (rank 0
        keeps the run's own), derived from the seed and the epoch, so reruns repeat."""
        seed = None if self.group is None else self.group.own_seed(self.config.seed, self.epoch)
        if seed is not None:
            torch.manual_seed(seed)
            self.augment_rng.manual_seed(seed + 1)

    # -- state ---------------------------------------------------------------------------

    def _emit(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def _copy_state(self) -> dict[str, Any]:
        return {"model": {k: v.detach().clone() for k, v in self.model.state_dict().items()}}

    def _restore_state(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])

    def keep_evaluation(self, result: EvalResult) -> None:
        """Remember the test set's predictions, for the views that explain the accuracy."""
        self.test_predictions, self.test_confidence = result.predictions, result.confidence
        self.test_losses, self.test_hidden = result.losses, result.hidden
