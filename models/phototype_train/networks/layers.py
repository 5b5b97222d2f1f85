"""Layers the network families share: StyleGAN2's equalized-lr linear and conv layers, the modulated
conv, conv-BN-GLU, bilinear doubling and one-hot class maps."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


# ---------------------------------------------------------------- equalized-lr layers (StyleGAN2)

class EqLinear(nn.Module):
    def __init__(self, cin, cout, bias_init=0.0, lr_mul=1.0, act=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)))
        self.scale, self.lr_mul, self.act = lr_mul / math.sqrt(cin), lr_mul, act

    def forward(self, x):
        y = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(y, 0.2) * SQRT2 if self.act else y


class EqConv(nn.Module):
    def __init__(self, cin, cout, k, act=True, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale, self.pad, self.act = 1 / math.sqrt(cin * k * k), k // 2, act

    def forward(self, x):
        y = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad)
        return F.leaky_relu(y, 0.2) * SQRT2 if self.act else y


class ModConv(nn.Module):
    """Modulated conv done as input scaling + plain conv + output demodulation.

    Equivalent to StyleGAN2's weight modulation but needs no grouped conv, so it is
    fast on CPU and exports to plain ONNX Conv.
    """

    def __init__(self, cin, cout, k, w_dim, demod=True, up=False, act=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.affine = EqLinear(w_dim, cin, bias_init=1.0)
        self.scale, self.pad = 1 / math.sqrt(cin * k * k), k // 2
        self.demod, self.up, self.act = demod, up, act

    def forward(self, x, w):
        s = self.affine(w)
        x = x * s[:, :, None, None]
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        weight = self.weight * self.scale
        x = F.conv2d(x, weight, padding=self.pad)
        if self.demod:
            d = torch.rsqrt(s.square() @ weight.square().sum([2, 3]).t() + 1e-8)
            x = x * d[:, :, None, None]
        x = x + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) * SQRT2 if self.act else x


def one_hot(ids: torch.Tensor, classes) -> torch.Tensor:
    """Class ids [B,H,W] -> float [B,K,H,W]. `classes`: K, or a network's buffer arange(K).view(1,K,1,1).

    A comparison, not F.one_hot: an id outside 0..K-1 (255: nothing drawn) gives all zeros instead of
    an error, and the exported ONNX graph stays one Equal."""
    if isinstance(classes, int):
        classes = torch.arange(classes, device=ids.device).view(1, classes, 1, 1)
    return (ids[:, None] == classes).float()


def up2(x):
    # Bilinear, not nearest: nearest doubling leaves a 2x2 block grid that a few 3x3 convs never fully hide.
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class ConvGLU(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout * 2, 3, padding=1, bias=False), nn.BatchNorm2d(cout * 2), nn.GLU(1))
