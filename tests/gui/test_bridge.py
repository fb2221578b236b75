"""What a run in the window sends its views: one moment per point of the run."""

from __future__ import annotations

import pytest

from cnn_core.train.config import TrainConfig
from cnn_core.train.trainer import Trainer
from gui.training import bridge
from gui.training.messages import Snapshot


def test_each_moment_of_a_run_is_sent_once(small, monkeypatch: pytest.MonkeyPatch) -> None:
    """A live snapshot due at an epoch's last batch would repeat the epoch's own: the
    views would embed the test set twice, once without the evaluation's activations."""
    monkeypatch.setattr(bridge, "SNAPSHOT_INTERVAL", 0.0)  # a live snapshot at every batch
    sent: list[object] = []
    trainer = Trainer(TrainConfig(arch="lenet5", epochs=2, batch_size=128, device="cpu"),
                      data=small, report_interval=0.0, callbacks=[bridge.Bridge(sent.append)])
    trainer.fit()
    moments = [m.progress for m in sent if isinstance(m, Snapshot)]
    assert moments == sorted(set(moments))
    assert {0.0, 1.0, 2.0} <= set(moments) and len(moments) > 3
