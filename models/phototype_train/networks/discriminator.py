"""The discriminator every generator architecture trains against, and DiffAugment for its inputs."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from phototype_train.networks.layers import SQRT2, ConvGLU, EqConv, EqLinear


class _Decoder(nn.Sequential):
    """FastGAN's simple decoder: nearest x2 + conv-BN-GLU per octave, then RGB. Its only job is to
    make the discriminator's features describe the whole image, not just one tell-tale cue."""

    def __init__(self, cin, octaves, ch=32):
        layers, c = [], cin
        for _ in range(octaves):
            layers += [nn.Upsample(scale_factor=2.0, mode="nearest"), ConvGLU(c, ch)]
            c = ch
        super().__init__(*layers, nn.Conv2d(c, 3, 3, padding=1), nn.Tanh())


class Discriminator(nn.Module):
    """Residual discriminator with minibatch-stddev, shared by every generator architecture.

    The logit's tail (minibatch-stddev, last conv, dense layers) runs in fp32 even under autocast:
    bf16's 8-bit mantissa would round the logits that the losses take softplus of.
    `d_selfsup` (FastGAN): two small decoders rebuild the real image from the 8x8 features and a
    quarter of it from a crop of the 16x16 features (`reconstruct`)."""

    def __init__(self, cfg):
        super().__init__()
        res = cfg["resolution"]
        ch = lambda r: int(cfg["d_channels"][str(r)])
        self.from_rgb = EqConv(3, ch(res), 1)
        self.blocks = nn.ModuleList()
        r = res
        while r > 4:
            self.blocks.append(nn.ModuleDict({"c1": EqConv(ch(r), ch(r), 3), "c2": EqConv(ch(r), ch(r // 2), 3),
                                              "skip": EqConv(ch(r), ch(r // 2), 1, act=False, bias=False)}))
            r //= 2
        self.final_conv = EqConv(ch(4) + 1, ch(4), 3)
        self.fc = EqLinear(ch(4) * 16, ch(4), act=True)
        self.out = EqLinear(ch(4), 1)
        self.selfsup = bool(cfg.get("d_selfsup", False))
        if self.selfsup:
            # Both rebuild at a quarter of the input's side: enough to say "whole face" at a small cost.
            octaves = max(1, int(math.log2(res // 4 // 8)))
            self.dec_whole, self.dec_part = _Decoder(ch(8), octaves), _Decoder(ch(16), octaves)

    def trunk(self, x) -> dict:
        """Feature maps by side length, from the input down to 4x4."""
        x, maps = self.from_rgb(x), {}
        for b in self.blocks:
            # Pool before the second conv: a quarter of the cost of StyleGAN2's conv-then-downsample.
            y = b["c2"](F.avg_pool2d(b["c1"](x), 2))
            x = (y + b["skip"](F.avg_pool2d(x, 2))) / SQRT2
            maps[x.shape[-1]] = x
        return maps

    def head(self, x):
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.float()
            g = min(4, x.shape[0])
            while x.shape[0] % g:
                g -= 1
            s = x.view(g, -1, *x.shape[1:]).std(0, unbiased=False).mean([1, 2, 3])
            s = s.repeat(g)[:, None, None, None].expand(-1, 1, 4, 4)
            x = self.final_conv(torch.cat([x, s], 1))
            return self.out(self.fc(x.flatten(1)))

    def forward(self, x):
        return self.head(self.trunk(x)[4])

    def reconstruct(self, x, quarter: int):
        """Logits, plus the two rebuilds: the whole image from 8x8 features, and the `quarter`
        (0..3: top-left, top-right, bottom-left, bottom-right) from the matching 8x8 crop of 16x16."""
        maps = self.trunk(x)
        f16, qy, qx = maps[16], quarter // 2, quarter % 2
        part = f16[:, :, qy * 8:(qy + 1) * 8, qx * 8:(qx + 1) * 8]
        return self.head(maps[4]), self.dec_whole(maps[8]), self.dec_part(part)


def quarter_of(x, quarter: int):
    """The image's `quarter` (0..3, row-major), as Discriminator.reconstruct numbers them."""
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    qy, qx = quarter // 2, quarter % 2
    return x[..., qy * h:(qy + 1) * h, qx * w:(qx + 1) * w]


# ---------------------------------------------------------------- DiffAugment (Zhao et al. 2020)

def diff_augment(x, policy: str, gen: torch.Generator | None = None):
    """Differentiable colour / translation / cutout, applied to real and fake alike."""
    b = x.shape[0]
    rand = lambda *s: torch.rand(*s, generator=gen)
    if "color" in policy:
        x = x + (rand(b, 1, 1, 1) - 0.5)
        m = x.mean(1, keepdim=True)
        x = (x - m) * (rand(b, 1, 1, 1) * 2) + m
        m = x.mean([1, 2, 3], keepdim=True)
        x = (x - m) * (rand(b, 1, 1, 1) + 0.5) + m
    if "translation" in policy:
        h, w = x.shape[2:]
        s = max(1, h // 8)
        tx = (rand(b) * (2 * s + 1)).long() - s
        ty = (rand(b) * (2 * s + 1)).long() - s
        yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        yy = (yy[None] + ty[:, None, None]).clamp(-1, h)  # out of range -> padding
        xx = (xx[None] + tx[:, None, None]).clamp(-1, w)
        xp = F.pad(x, (1, 1, 1, 1))
        idx = ((yy + 1) * (w + 2) + (xx + 1)).view(b, 1, -1).expand(-1, x.shape[1], -1)
        x = xp.flatten(2).gather(2, idx).view_as(x)
    if "cutout" in policy:
        h, w = x.shape[2:]
        ch, cw = h // 2, w // 2
        cy = (rand(b) * (h + 1 - ch % 2)).long()
        cx = (rand(b) * (w + 1 - cw % 2)).long()
        yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        inside = ((yy[None] - cy[:, None, None]).abs() < ch // 2) & ((xx[None] - cx[:, None, None]).abs() < cw // 2)
        x = x * (~inside)[:, None].float()
    return x
