"""Both Conv2D paths and the pools, against torch's own layers as the oracle."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_core.nn.layers import AveragePool2D, Conv2D, Flatten, MaxPool2D

GRID = [
    # in, out, kernel, stride, padding, bias
    (1, 6, 5, 1, 2, True),
    (3, 4, 3, 2, 1, False),
    (2, 3, (3, 5), (2, 1), (1, 2), True),
    (4, 2, 1, 1, 0, True),
    (3, 8, 3, 3, 0, True),
    (1, 1, 4, 2, 3, False),
]


@pytest.mark.parametrize("impl", ["native", "im2col"])
@pytest.mark.parametrize("cin,cout,k,s,p,bias", GRID)
def test_conv2d_matches_nn_conv2d_forward_and_backward(impl, cin, cout, k, s, p, bias) -> None:
    torch.manual_seed(0)
    ours = Conv2D(cin, cout, k, stride=s, padding=p, bias=bias, impl=impl).double()
    ref = nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias).double()
    with torch.no_grad():
        ref.weight.copy_(ours.weight)
        if bias:
            ours.bias.normal_()
            ref.bias.copy_(ours.bias)
    x = torch.randn(2, cin, 11, 9, dtype=torch.float64)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y1, y2 = ours(x1), ref(x2)
    assert y1.shape == y2.shape
    torch.testing.assert_close(y1, y2)
    grad = torch.randn_like(y1)
    y1.backward(grad)
    y2.backward(grad)
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
    if bias:
        torch.testing.assert_close(ours.bias.grad, ref.bias.grad)
    else:
        assert ours.bias is None


def test_conv2d_keeps_stride_and_padding_and_inits_like_the_article() -> None:
    conv = Conv2D(3, 16, 5, stride=2, padding=2)
    assert conv.stride == (2, 2) and conv.padding == (2, 2)
    assert conv.weight.shape == (16, 3, 5, 5)
    assert torch.count_nonzero(conv.bias) == 0
    bound = (6 / (3 * 25 + 16 * 25)) ** 0.5  # Xavier-uniform limit
    assert conv.weight.abs().max() <= bound
    assert conv.weight.abs().max() > 0.8 * bound
    assert conv(torch.zeros(1, 3, 28, 28)).shape == (1, 16, 14, 14)


def test_conv2d_rejects_bad_geometry() -> None:
    with pytest.raises(ValueError):
        Conv2D(1, 1, 0)
    with pytest.raises(ValueError):
        Conv2D(1, 1, 3, padding=-1)
    with pytest.raises(ValueError):
        Conv2D(1, 1, (3, 3, 3))


@pytest.mark.parametrize("k,s,p", [(2, None, 0), (3, 2, 1), (3, 1, 1), ((2, 3), (1, 2), (1, 0))])
def test_pools_match_functional(k, s, p) -> None:
    x = torch.randn(2, 3, 9, 10, dtype=torch.float64, requires_grad=True)
    stride = k if s is None else s
    for ours, ref in ((MaxPool2D(k, s, p), F.max_pool2d), (AveragePool2D(k, s, p), F.avg_pool2d)):
        out = ours(x)
        torch.testing.assert_close(out, ref(x, k, stride, p))
        (g1,) = torch.autograd.grad(out.sum(), x)
        (g2,) = torch.autograd.grad(ref(x, k, stride, p).sum(), x)
        torch.testing.assert_close(g1, g2)


def test_pool_stride_defaults_to_kernel_and_padding_is_honoured() -> None:
    assert MaxPool2D(3).stride == (3, 3)
    x = torch.ones(1, 1, 4, 4)
    assert MaxPool2D(2, padding=1)(x).shape == (1, 1, 3, 3)
    # Average pooling counts the zero padding, as nn.AvgPool2d does by default.
    assert AveragePool2D(2, padding=1)(x)[0, 0, 0, 0].item() == pytest.approx(0.25)


def test_flatten() -> None:
    assert Flatten()(torch.zeros(5, 16, 5, 5)).shape == (5, 400)


def test_im2col_and_native_agree_in_float32_on_a_grid() -> None:
    torch.manual_seed(1)
    for cin, k, s, p in itertools.product((1, 3), (1, 3, 5), (1, 2), (0, 1, 2)):
        a = Conv2D(cin, 4, k, stride=s, padding=p)
        b = Conv2D(cin, 4, k, stride=s, padding=p, impl="im2col")
        b.load_state_dict(a.state_dict())
        x = torch.randn(3, cin, 12, 12)
        torch.testing.assert_close(a(x), b(x), rtol=1e-5, atol=1e-5)
