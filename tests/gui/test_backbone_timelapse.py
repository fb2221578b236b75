"""The live time-lapse of a frozen backbone: a snapshot every 1.5 s copies and keeps only
what trains; the backbone's weights, kernels and maps are copied and stored once."""

from __future__ import annotations

import numpy as np
import torch

from cnn_core.nn.models import build_model
from gui.session.timelapse import TimeLapse
from gui.training.bridge import take_snapshot
from gui.training.weight_copies import WeightCopies


def frozen_resnet():
    torch.manual_seed(0)
    return build_model("resnet18-imagenet", 3, 4, 64)


def optimizer_for(model) -> torch.optim.Optimizer:
    """The trainer's kind: fused kernels, which change weights without bumping autograd's
    version count."""
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.1,
                            fused=True)


def head_step(model, optimizer) -> None:
    model.train()
    loss = model(torch.randn(4, 3, 64, 64)).logsumexp(1).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_snapshots_reuse_the_copies_of_what_did_not_change() -> None:
    model = frozen_resnet()
    optimizer = optimizer_for(model)
    probe = torch.randn(1, 3, 64, 64)
    copies = WeightCopies()
    first = take_snapshot(model, probe[0], 0, 0.0, 0, copies)
    head_step(model, optimizer)
    second = take_snapshot(model, probe[0], 0, 0.5, 1, copies)
    conv1 = "features.backbone.conv1.weight"
    assert second.state[conv1] is first.state[conv1]
    assert second.filters["backbone.conv1"] is first.filters["backbone.conv1"]
    assert second.maps is first.maps  # nothing before the flatten changed
    fc = "classifier.fc.weight"
    assert second.state[fc] is not first.state[fc]
    assert not torch.equal(second.state[fc], first.state[fc])
    assert torch.equal(second.state[fc], model.classifier.fc.weight.detach())

    with torch.no_grad():  # a change made in place, as a load or a live edit makes
        model.features.backbone.conv1.weight.mul_(2)
    third = take_snapshot(model, probe[0], 0, 0.6, 2, copies)
    assert torch.equal(third.state[conv1], 2 * first.state[conv1])
    assert np.allclose(third.filters["backbone.conv1"], 2 * first.filters["backbone.conv1"])
    assert third.maps is not first.maps
    assert not np.allclose(third.maps["backbone.conv1"], first.maps["backbone.conv1"])


def test_what_trains_is_copied_every_time_though_its_version_stays() -> None:
    """A fused optimizer step and a batch norm's statistics change tensors in place
    without bumping autograd's version count: nothing that trains is ever reused."""
    torch.manual_seed(0)
    model = build_model("deepcnn")
    optimizer = optimizer_for(model)
    probe, copies = torch.randn(1, 28, 28), WeightCopies()
    first = take_snapshot(model, probe, 0, 0.0, 0, copies)
    model.train()
    loss = model(torch.randn(8, 1, 28, 28)).logsumexp(1).mean()
    loss.backward()
    optimizer.step()
    second = take_snapshot(model, probe, 0, 0.5, 1, copies)
    for key in ("features.block1.conv.weight", "features.block1.bn.running_mean"):
        assert not torch.equal(second.state[key], first.state[key]), key
        assert torch.equal(second.state[key], model.state_dict()[key])
    assert not np.array_equal(second.filters["block1.conv"], first.filters["block1.conv"])
    assert not np.array_equal(second.maps["block1.conv"], first.maps["block1.conv"])


def test_the_time_lapse_stores_a_frozen_backbone_once() -> None:
    model = frozen_resnet()
    optimizer = optimizer_for(model)
    probe = torch.randn(3, 64, 64)
    copies, lapse = WeightCopies(), TimeLapse()
    moments = 30
    for i in range(moments):
        snap = take_snapshot(model, probe, 0, i / moments, i, copies)
        lapse.add(snap.progress, snap.step, snap.filters, snap.maps, snap.probabilities,
                  snap.state)
        head_step(model, optimizer)
    assert len(lapse) == moments  # none dropped: the cap holds dozens of such moments
    one = lapse[0].nbytes  # the backbone's kernels, the rest of its state and its maps
    assert one > 20e6
    assert lapse.nbytes < 1.01 * one
    assert lapse[-1].filters["backbone.conv1"] is lapse[0].filters["backbone.conv1"]

    # saved epochs read back from a run folder are new arrays each time: equal ones are
    # still stored once
    again = TimeLapse()
    for i in range(3):
        filters = {k: v.copy() for k, v in snap.filters.items()}
        again.add(float(i), i, filters, {}, snap.probabilities, snap.state)
    assert again.nbytes < 1.01 * again[0].nbytes
