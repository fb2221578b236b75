"""The learning-rate finder: a short run on a fresh model with a growing learning rate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cnn_core import cli
from cnn_core.export.plots import lr_loss_range
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from cnn_core.train.lr_find import LrFinding, find_lr, valley
from cnn_core.train.trainer import Trainer


def test_it_suggests_a_sensible_rate_for_simplecnn_with_adam(sample) -> None:
    finding = find_lr(TrainConfig(arch="simplecnn", optimizer="adam", device="cpu"), sample)
    assert 1e-4 <= finding.suggestion <= 1e-1
    assert len(finding.lrs) == len(finding.losses) == len(finding.raw_losses) > 10
    for values in (finding.lrs, finding.losses, finding.raw_losses):
        assert np.isfinite(values).all()
    assert (np.diff(finding.lrs) > 0).all() and finding.lrs[0] == pytest.approx(1e-7)


def test_it_is_deterministic_for_a_seed_and_stops_when_the_loss_diverges(sample) -> None:
    config = TrainConfig(arch="lenet5", device="cpu")
    first, again = find_lr(config, sample), find_lr(config, sample)
    assert np.array_equal(first.raw_losses, again.raw_losses)
    assert first.suggestion == again.suggestion
    other = find_lr(TrainConfig(arch="lenet5", device="cpu", seed=1), sample)
    assert not np.array_equal(first.raw_losses, other.raw_losses)
    assert len(first.lrs) < 100  # up to 10, LeNet-5's loss blows up before the end
    assert first.losses[-1] > 4 * first.losses.min()


def test_it_touches_nothing_a_run_uses(sample) -> None:
    """No global random state drawn (a run's dropout draws from it), and a run of the
    same settings starts from the same weights as without the finder."""
    config = TrainConfig(arch="simplecnn", device="cpu")
    before = Trainer(config, data=sample).model.state_dict()
    torch.manual_seed(1234)
    state = torch.get_rng_state()
    find_lr(config, sample, steps=20)
    assert torch.equal(torch.get_rng_state(), state)
    after = Trainer(config, data=sample).model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_valley_is_halfway_down_the_longest_fall() -> None:
    lrs = np.logspace(-7, 1, 100)
    losses = np.concatenate([np.full(30, 2.3), np.linspace(2.3, 0.5, 40), np.linspace(0.5, 9, 30)])
    suggestion = valley(lrs, losses)
    assert lrs[40] <= suggestion <= lrs[60]


def test_the_command_line_prints_the_table_and_the_suggestion(capsys) -> None:
    assert cli.main(["lr-find", "--arch", "lenet5", "--device", "cpu", "--steps", "30"]) == 0
    out = capsys.readouterr().out
    assert "learning rate" in out and "suggested learning rate: " in out
    assert cli.main(["lr-find", "--start-lr", "1", "--end-lr", "0.1"]) == 2


def test_the_plots_loss_axis_shows_the_fall_not_the_divergence() -> None:
    lrs = np.logspace(-7, 1, 60)
    losses = np.concatenate([np.full(30, 2.3), np.linspace(2.3, 0.8, 20),
                             np.geomspace(1, 1000, 10)])  # falls, then blows up
    raw = losses - 0.3
    low, high = lr_loss_range(LrFinding(lrs, losses, raw, 1e-3))
    assert low == pytest.approx(0.5) and high == pytest.approx(1.25 * 2.3)


FIND = ["lr-find", "--arch", "lenet5", "--device", "cpu", "--steps", "30"]


def test_the_command_line_draws_the_curve_into_a_png(tmp_path, capsys) -> None:
    target = tmp_path / "plots" / "lr.png"
    assert cli.main([*FIND, "--plot", str(target)]) == 0
    assert f"wrote {target}" in capsys.readouterr().out
    with Image.open(target) as picture:
        assert picture.format == "PNG" and picture.size == (900, 480)
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 50  # axes, text and curves, not a blank

    assert cli.main([*FIND, "--plot", str(target)]) == 1  # exists: only with --force
    assert "exists; give --force to replace it" in capsys.readouterr().err
    target.write_bytes(b"a person's file")
    assert cli.main([*FIND, "--plot", str(target), "--force"]) == 0
    assert target.read_bytes().startswith(b"\x89PNG")


def test_a_plot_into_a_run_folder_is_refused_before_anything_trains(tmp_path, small,
                                                                     capsys) -> None:
    run = tmp_path / "run"
    launch(TrainConfig(arch="lenet5", epochs=1, device="cpu"), run_dir=run,
           data=small).trainer.fit()
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    for target in (run / "lr.png", run / "checkpoints" / "best.png"):
        assert cli.main([*FIND, "--plot", str(target), "--force"]) == 1
        out, err = capsys.readouterr()
        assert "exports never write into a run" in err and "learning rate" not in out
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before
    assert cli.main([*FIND, "--plot", str(tmp_path / "lr.txt")]) == 2
    assert "not a .png file name" in capsys.readouterr().err
