"""The generators: mapping(z, psi) -> w; g1(w) -> (F, style); g2(F, style) -> RGB, for every architecture.

The split at F is what the method rearranges; `style` is the global path g2 keeps from the source.
StyleGenerator (StyleGAN2, "stylegan2"), FastGenerator ("fastgan"), BlendGenerator ("fastgan-blend").
"""
import torch
import torch.nn as nn

from phototype_train.networks.layers import ConvGLU, EqLinear, ModConv, up2


def _channels(cfg, r):
    return int(cfg["channels"][str(r)])


class StyleGenerator(nn.Module):
    """StyleGAN2-class generator, shrunk: mapping MLP, constant input, modulated convs, no noise.

    No per-pixel noise so that a seed gives the same image every time, in PyTorch and ONNX.
    RGB comes from the last layer only (no skip-RGB), so all layout lives in F.
    """

    def __init__(self, cfg):
        super().__init__()
        self.res, self.split = cfg["resolution"], cfg["split"]
        self.z_dim, self.w_dim = cfg["z_dim"], cfg["w_dim"]
        self.style_dim = self.w_dim
        layers = [EqLinear(self.z_dim if i == 0 else self.w_dim, self.w_dim, lr_mul=0.01, act=True) for i in range(cfg["mapping_layers"])]
        self.mapping_net = nn.Sequential(*layers)
        self.register_buffer("w_avg", torch.zeros(self.w_dim))
        c4 = _channels(cfg, 4)
        self.const = nn.Parameter(torch.randn(1, c4, 4, 4))
        self.conv4 = ModConv(c4, c4, 3, self.w_dim)
        self.g1_blocks, self.g2_blocks = nn.ModuleList(), nn.ModuleList()
        cin, r = c4, 8
        while r <= self.res:
            c = _channels(cfg, r)
            block = nn.ModuleList([ModConv(cin, c, 3, self.w_dim, up=True), ModConv(c, c, 3, self.w_dim)])
            (self.g1_blocks if r <= self.split else self.g2_blocks).append(block)
            cin, r = c, r * 2
        self.to_rgb = ModConv(cin, 3, 1, self.w_dim, demod=False, act=False)
        self.feature_channels = _channels(cfg, self.split)

    def mapping(self, z, psi=1.0):
        z = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)
        w = self.mapping_net(z)
        return self.w_avg + psi * (w - self.w_avg)

    def g1(self, w):
        x = self.conv4(self.const.expand(w.shape[0], -1, -1, -1), w)
        for a, b in self.g1_blocks:
            x = b(a(x, w), w)
        return x, w

    def g2(self, feats, style):
        x = feats
        for a, b in self.g2_blocks:
            x = b(a(x, style), style)
        return self.to_rgb(x, style)

    def forward(self, z, psi=1.0):
        f, s = self.g1(self.mapping(z, psi))
        return self.g2(f, s)


class _UpGLU(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(cin, cout * 2, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout * 2), nn.GLU(1))


class _SLE(nn.Module):
    """FastGAN's skip-layer excitation: a low-res map squeezed to per-channel gates."""

    def __init__(self, cin, cout):
        super().__init__()
        self.net = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Conv2d(cin, cout, 4), nn.SiLU(), nn.Conv2d(cout, cout, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x).flatten(1)


class FastGenerator(nn.Module):
    """A shrunken FastGAN: GLU up-blocks with skip-layer excitation; its SLE gates are the style path.

    g1 ends at F and also returns the gate vector that FastGAN would apply after the split,
    computed from an 8x8 map inside g1: a global (non-spatial) code, like StyleGAN's w.
    """

    def __init__(self, cfg):
        super().__init__()
        self.res, self.split = cfg["resolution"], cfg["split"]
        self.z_dim = self.w_dim = cfg["z_dim"]
        c4 = _channels(cfg, 4)
        self.init = nn.Sequential(nn.ConvTranspose2d(self.z_dim, c4 * 2, 4, bias=False), nn.BatchNorm2d(c4 * 2), nn.GLU(1))
        self.ups, r, cin = nn.ModuleDict(), 8, c4
        while r <= self.res:
            self.ups[str(r)] = _UpGLU(cin, _channels(cfg, r))
            cin, r = _channels(cfg, r), r * 2
        self.sle_split = _SLE(c4, _channels(cfg, self.split))
        self.sle_out = _SLE(_channels(cfg, 8), _channels(cfg, self.res))
        self.style_dim = _channels(cfg, self.res)
        self.to_rgb = nn.Conv2d(_channels(cfg, self.res), 3, 3, padding=1)
        self.feature_channels = _channels(cfg, self.split)
        self.register_buffer("w_avg", torch.zeros(self.z_dim))

    def mapping(self, z, psi=1.0):
        # No mapping network: truncation scales the normalised latent (BigGAN-style).
        return psi * z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)

    def g1(self, w):
        x4 = self.init(w[:, :, None, None])
        x, r, x8 = x4, 8, None
        while r <= self.split:
            x = self.ups[str(r)](x)
            if r == 8:
                x8 = x
            r *= 2
        x = x * self.sle_split(x4)[:, :, None, None]
        return x, self.sle_out(x8)

    def g2(self, feats, style):
        x, r = feats, self.split * 2
        while r <= self.res:
            x = self.ups[str(r)](x)
            r *= 2
        return torch.tanh(self.to_rgb(x * style[:, :, None, None]))

    def forward(self, z, psi=1.0):
        f, s = self.g1(self.mapping(z, psi))
        return self.g2(f, s)


class NoiseInjection(nn.Module):
    """Per-pixel noise times a learnt per-channel strength (starts at 0), as FastGAN and StyleGAN add.

    Training draws fresh noise; eval mode (sampling, ONNX export) adds one fixed map, a buffer made
    from a fixed seed, so a seed still gives the same image every time, in PyTorch and ONNX."""

    def __init__(self, channels, size, seed):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("fixed", torch.randn(1, 1, size, size, generator=torch.Generator().manual_seed(seed)))

    def forward(self, x):
        noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype) if self.training else self.fixed
        return x + self.weight * noise


class _SynthBlock(nn.Module):
    """Two conv-BN-GLU layers (after a bilinear x2 when `up`); in g2 a per-channel gate from the style
    between them, as FastGAN's skip-layer excitation does, but from the global code rather than a map.
    `noise_size`: add per-pixel noise after each conv (g2 only: F stays a function of the seed alone)."""

    def __init__(self, cin, cout, up=True, style_dim=0, noise_size=0):
        super().__init__()
        self.up = up
        self.conv1, self.conv2 = ConvGLU(cin, cout), ConvGLU(cout, cout)
        self.gate = nn.Sequential(nn.Linear(style_dim, cout), nn.SiLU(), nn.Linear(cout, cout), nn.Sigmoid()) if style_dim else None
        self.noise1 = NoiseInjection(cout, noise_size, 2 * noise_size) if noise_size else None
        self.noise2 = NoiseInjection(cout, noise_size, 2 * noise_size + 1) if noise_size else None

    def forward(self, x, style=None):
        x = self.conv1(up2(x) if self.up else x)
        if self.noise1 is not None:
            x = self.noise1(x)
        if self.gate is not None:
            x = x * self.gate(style)[:, :, None, None]
        x = self.conv2(x)
        return self.noise2(x) if self.noise2 is not None else x


class BlendGenerator(nn.Module):
    """FastGAN-style generator with room to blend after the split ("fastgan-blend").

    g1: w -> 4x4 -> two-conv blocks up to the split; F is the last block's output, ungated, so every
    sample's face parts live in one shared feature space (what k-means clusters and the rearranger moves).
    style = w: the whole per-sample code, applied only in g2, as per-channel gates in every g2 block.
    g2: a block at the split's own size (seams can blend over ~5 F cells before any upsampling), then
    one bilinear-up block per octave to the output, then RGB.
    """

    def __init__(self, cfg):
        super().__init__()
        self.res, self.split = cfg["resolution"], cfg["split"]
        self.z_dim = self.w_dim = self.style_dim = cfg["z_dim"]
        c4 = _channels(cfg, 4)
        self.init = nn.Sequential(nn.ConvTranspose2d(self.z_dim, c4 * 2, 4, bias=False), nn.BatchNorm2d(c4 * 2), nn.GLU(1))
        self.g1_blocks, self.g2_blocks = nn.ModuleList(), nn.ModuleList()
        cin, r = c4, 8
        while r <= self.split:
            self.g1_blocks.append(_SynthBlock(cin, _channels(cfg, r)))
            cin, r = _channels(cfg, r), r * 2
        self.feature_channels = cin
        noise = bool(cfg.get("noise", False))
        self.g2_blocks.append(_SynthBlock(cin, cin, up=False, style_dim=self.style_dim, noise_size=self.split if noise else 0))
        while r <= self.res:
            self.g2_blocks.append(_SynthBlock(cin, _channels(cfg, r), style_dim=self.style_dim, noise_size=r if noise else 0))
            cin, r = _channels(cfg, r), r * 2
        self.to_rgb = nn.Conv2d(cin, 3, 3, padding=1)
        self.register_buffer("w_avg", torch.zeros(self.z_dim))

    def mapping(self, z, psi=1.0):
        # As FastGAN-lite: no mapping network; truncation scales the normalised latent.
        return psi * z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)

    def g1(self, w):
        x = self.init(w[:, :, None, None])
        for b in self.g1_blocks:
            x = b(x)
        return x, w

    def g2(self, feats, style):
        x = feats
        for b in self.g2_blocks:
            x = b(x, style)
        return torch.tanh(self.to_rgb(x))

    def forward(self, z, psi=1.0):
        f, s = self.g1(self.mapping(z, psi))
        return self.g2(f, s)


def make_generator(cfg):
    arch = cfg.get("arch", "stylegan2")
    if arch == "stylegan2":
        return StyleGenerator(cfg)
    if arch == "fastgan":
        return FastGenerator(cfg)
    if arch == "fastgan-blend":
        return BlendGenerator(cfg)
    raise ValueError(f"unknown generator arch {arch}")
