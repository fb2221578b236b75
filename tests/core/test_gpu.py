"""GPU correctness; skipped where PyTorch sees no CUDA device (CI never has one)."""

from __future__ import annotations

import pytest
import torch

from cnn_core.train.config import TrainConfig
from cnn_core.data import load_dataset
from cnn_core.nn.layers import Conv2D
from cnn_core.train.trainer import Trainer

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]


@pytest.mark.parametrize("impl", ["native", "im2col"])
def test_conv2d_on_cuda_matches_cpu(impl: str) -> None:
    torch.manual_seed(0)
    conv = Conv2D(3, 8, 3, stride=2, padding=1, impl=impl)
    x = torch.randn(4, 3, 17, 17)
    expected = conv(x)
    got = conv.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("arch", ["lenet5", "simplecnn", "deepcnn"])
def test_training_on_cuda_keeps_data_on_the_device_and_learns(arch: str) -> None:
    trainer = Trainer(TrainConfig(arch=arch, epochs=2, device="cuda"), data=load_dataset("mnist-sample"))
    assert trainer.data.train.images.is_cuda and next(trainer.model.parameters()).is_cuda
    history = trainer.fit().history
    assert history[-1].test_acc > 0.85


def test_a_checkpoint_restores_the_cuda_random_stream() -> None:
    trainer = Trainer(TrainConfig(arch="lenet5", epochs=1, device="cuda"),
                      data=load_dataset("mnist-sample"))
    state = trainer.state_dict()
    cuda_states = state["rng"]["cuda"]
    assert len(cuda_states) == torch.cuda.device_count()
    # Kept on the CPU, so that a checkpoint loads on a machine without CUDA.
    assert all(s.device.type == "cpu" for s in cuda_states)
    drawn = torch.rand(64, device="cuda")
    trainer.load_state_dict(state)
    torch.testing.assert_close(torch.rand(64, device="cuda"), drawn, rtol=0, atol=0)
