"""Every network Phototype trains, in one file.

Generator interface (every architecture): mapping(z, psi) -> w; g1(w) -> (F, style); g2(F, style) -> RGB.
The split at F is what the method rearranges; `style` is the global path g2 keeps from the source.
"""
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


def _up2(x):
    # Bilinear, not nearest: nearest doubling leaves a 2x2 block grid that a few 3x3 convs never fully hide.
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class _ConvGLU(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout * 2, 3, padding=1, bias=False), nn.BatchNorm2d(cout * 2), nn.GLU(1))


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
        self.conv1, self.conv2 = _ConvGLU(cin, cout), _ConvGLU(cout, cout)
        self.gate = nn.Sequential(nn.Linear(style_dim, cout), nn.SiLU(), nn.Linear(cout, cout), nn.Sigmoid()) if style_dim else None
        self.noise1 = NoiseInjection(cout, noise_size, 2 * noise_size) if noise_size else None
        self.noise2 = NoiseInjection(cout, noise_size, 2 * noise_size + 1) if noise_size else None

    def forward(self, x, style=None):
        x = self.conv1(_up2(x) if self.up else x)
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


class _Decoder(nn.Sequential):
    """FastGAN's simple decoder: nearest x2 + conv-BN-GLU per octave, then RGB. Its only job is to
    make the discriminator's features describe the whole image, not just one tell-tale cue."""

    def __init__(self, cin, octaves, ch=32):
        layers, c = [], cin
        for _ in range(octaves):
            layers += [nn.Upsample(scale_factor=2.0, mode="nearest"), _ConvGLU(c, ch)]
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


# ---------------------------------------------------------------- U-Net (face parser, semantic mapper)

def _block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Encoder-decoder with skips. `out_down` drops the last decoder levels: 1 gives output at half the input size."""

    def __init__(self, cin, cout, base=32, depth=4, out_down=0):
        super().__init__()
        chans = [base * min(2 ** i, 8) for i in range(depth + 1)]
        self.enc = nn.ModuleList([_block(cin, chans[0])] + [_block(chans[i], chans[i + 1]) for i in range(depth)])
        self.dec = nn.ModuleList()
        for i in reversed(range(out_down, depth)):
            self.dec.append(nn.ModuleDict({"up": nn.Conv2d(chans[i + 1], chans[i], 1), "block": _block(chans[i] * 2, chans[i])}))
        self.head = nn.Conv2d(chans[out_down], cout, 1)

    def features(self, x):
        """Deepest encoder map, pooled: a compact descriptor used for Fréchet distances."""
        for i, e in enumerate(self.enc):
            x = e(x if i == 0 else F.max_pool2d(x, 2))
        return x.mean([2, 3])

    def forward(self, x):
        skips = []
        for i, e in enumerate(self.enc):
            x = e(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        skips.pop()
        for d in self.dec:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = d["block"](torch.cat([d["up"](x), skips.pop()], 1))
        return self.head(x)


class FaceParser(nn.Module):
    """RGB in [-1, 1] -> 19 class logits at the same size."""

    def __init__(self, num_classes=19, base=32, depth=4):
        super().__init__()
        self.net = UNet(3, num_classes, base, depth)

    def forward(self, x):
        return self.net(x)


class SemanticMapper(nn.Module):
    """Condition -> proxy-mask logits at the feature map's size.

    kind "mask": class ids int64 [B,H,W], one-hot inside (ids outside 0..C-1, e.g. 255, mean "nothing drawn").
    kind "sketch" / "edges": float [B,1,H,W] in 0..1, 1 = stroke.
    """

    def __init__(self, kind, num_classes, k, base=32, depth=4, out_down=1):
        super().__init__()
        self.kind = kind
        cin = num_classes if kind in ("mask", "scribble") else 1
        self.register_buffer("class_ids", torch.arange(num_classes).view(1, -1, 1, 1))
        self.net = UNet(cin, k, base, depth, out_down)

    def encode_condition(self, cond):
        if self.kind in ("mask", "scribble"):
            return one_hot(cond, self.class_ids)
        return cond

    def forward(self, cond):
        return self.net(self.encode_condition(cond))


# ---------------------------------------------------------------- proxy masks

def per_sample_standardise(feats):
    """Each channel to zero mean, unit spread within its own sample: removes a sample's overall
    appearance (bright, dark) so what is left says where things are."""
    mu = feats.mean((2, 3), keepdim=True)
    sd = (feats - mu).square().mean((2, 3), keepdim=True).add(1e-6).sqrt()
    return (feats - mu) / sd


class ProxyAssign(nn.Module):
    """F -> nearest k-means centroid per pixel (cosine, after per-channel standardisation:
    over all samples, or first within each sample when `per_sample`)."""

    def __init__(self, centroids, mean, std, per_sample=False, raw_mean=None, raw_std=None):
        super().__init__()
        self.per_sample = bool(per_sample)
        self.register_buffer("centroids", F.normalize(centroids.float(), dim=1))
        self.register_buffer("mean", mean.float().view(1, -1, 1, 1))
        self.register_buffer("std", std.float().view(1, -1, 1, 1))
        # Raw F's own spread per channel, which the stages' feature losses divide by.
        self.register_buffer("raw_mean", (mean if raw_mean is None else raw_mean).float().view(1, -1, 1, 1))
        self.register_buffer("raw_std", (std if raw_std is None else raw_std).float().view(1, -1, 1, 1))

    @property
    def k(self):
        return self.centroids.shape[0]

    def prepare(self, feats):
        return per_sample_standardise(feats) if self.per_sample else feats

    def normalise(self, feats):
        return F.normalize((self.prepare(feats) - self.mean) / self.std, dim=1)

    def similarity(self, feats):
        return torch.einsum("bchw,kc->bkhw", self.normalise(feats), self.centroids)

    def forward(self, feats):
        return self.similarity(feats).argmax(1)


# ---------------------------------------------------------------- rearranger

class Rearranger(nn.Module):
    """Moves source features into a target proxy layout by attention.

    query = target cluster embedding + position, key = source cluster embedding + position,
    value = source features. So a target pixel of cluster k near (x, y) reads source pixels of
    cluster k, preferring nearby ones; a small conv refiner then cleans the seams.
    """

    def __init__(self, k, channels, height, width, dim=128, heads=4, refine=2):
        super().__init__()
        self.k, self.heads, self.dim = k, heads, dim
        # Sharp at the start (see _init_near_identity); learnable.
        self.log_scale = nn.Parameter(torch.tensor(math.log(32.0)))
        self.register_buffer("cluster_ids", torch.arange(k).view(1, k, 1, 1))
        self.q_embed = nn.Conv2d(k, dim, 1, bias=False)
        self.k_embed = nn.Conv2d(k, dim, 1, bias=False)
        self.pos = nn.Parameter(self._sincos(dim, height, width, heads))
        self.q_proj, self.k_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v_proj = nn.Conv2d(channels, channels, 1)
        self.out_proj = nn.Conv2d(channels, channels, 1)
        layers = []
        for i in range(refine):
            layers += [nn.Conv2d(channels + dim if i == 0 else channels, channels, 3, padding=1), nn.LeakyReLU(0.2)]
        self.refine = nn.Sequential(*layers[:-1]) if layers else None
        self._init_near_identity()

    def _init_near_identity(self):
        """Start as "copy the same-cluster source pixel nearest this position".

        Queries and keys share their initial embedding and projection, so a target pixel first
        attends to source pixels of its own cluster near its own position; values and output pass
        features through unchanged and the refiner adds nothing. Training then starts from a
        rearranger that already keeps the source's appearance instead of having to discover it.
        """
        with torch.no_grad():
            e = torch.randn(self.dim, self.k)
            e = e / e.norm(dim=0, keepdim=True) * math.sqrt(self.heads)  # unit length per head
            self.q_embed.weight.copy_(e[:, :, None, None])
            self.k_embed.weight.copy_(e[:, :, None, None])
            for proj in (self.q_proj, self.k_proj):
                proj.weight.copy_(torch.eye(self.dim))
                proj.bias.zero_()
            for proj in (self.v_proj, self.out_proj):
                proj.weight.copy_(torch.eye(proj.weight.shape[0])[:, :, None, None])
                proj.bias.zero_()
            if self.refine is not None:
                last = self.refine[-1]
                last.weight.zero_()
                last.bias.zero_()

    @staticmethod
    def _sincos(dim, h, w, heads):
        """2-D sine/cosine positions, laid out per head so every head sees both y and x.

        A trainable start: the net can sharpen or loosen locality."""
        q = dim // heads // 4
        freq = 1.0 / (64 ** (torch.arange(q) / max(q - 1, 1)))  # from 1 rad/px down to 1/64
        ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
        one = [torch.sin(ys[..., None] * freq), torch.cos(ys[..., None] * freq), torch.sin(xs[..., None] * freq), torch.cos(xs[..., None] * freq)]
        per_head = torch.cat(one, -1)
        return torch.cat([per_head] * heads, -1).permute(2, 0, 1)[None] / math.sqrt(2 * q)

    def forward(self, feats, proxy_src, proxy_tgt, with_attention=False):
        b, c, h, w = feats.shape
        tgt = self.q_embed(one_hot(proxy_tgt, self.cluster_ids))
        q = (tgt + self.pos).flatten(2).transpose(1, 2)
        kk = (self.k_embed(one_hot(proxy_src, self.cluster_ids)) + self.pos).flatten(2).transpose(1, 2)
        q = self.q_proj(q).view(b, h * w, self.heads, -1).transpose(1, 2)
        kk = self.k_proj(kk).view(b, h * w, self.heads, -1).transpose(1, 2)
        v = self.v_proj(feats).view(b, self.heads, c // self.heads, h * w).transpose(2, 3)
        attn = torch.softmax(q @ kk.transpose(2, 3) * self.log_scale.exp(), dim=-1)
        out = (attn @ v).transpose(2, 3).reshape(b, c, h, w)
        out = self.out_proj(out)
        if self.refine is not None:
            out = out + self.refine(torch.cat([out, tgt], 1))
        return (out, attn) if with_attention else out


class LayoutRearranger(Rearranger):
    """Rearranger v2 ("layout"): what the first one lacked, each part switchable for ablation.

    - content: keys also carry the source's own features (per-sample standardised, through a 1x1
      conv that starts at zero), so a target cell can prefer typical cells of a cluster over its edges;
    - memory: K extra key/value slots, one per cluster (key: that cluster's embedding; value: a
      learnt prototype feature, started at the cluster's mean F), so a target cluster the source
      lacks reads a plausible feature instead of whatever unrelated cell is closest;
    - locality: an explicit penalty on the squared distance between target and source positions
      (learnt strength) instead of learnt position codes, so cluster identity comes first and,
      within a cluster, neighbouring target cells read neighbouring source cells;
    - a wider refiner (a dilated conv in the middle) that sees ~11 cells and can blend seams.
    """

    def __init__(self, k, channels, height, width, dim=128, heads=4, refine=3, content=True, memory=True, locality=True,
                 prototypes=None):
        super().__init__(k, channels, height, width, dim=dim, heads=heads, refine=0)
        del self.pos  # locality replaces the learnt position codes
        self.use_content, self.use_memory, self.use_locality = content, memory, locality
        with torch.no_grad():  # per head, orthonormal cluster codes: a match scores 1, a mismatch 0
            e = torch.cat([torch.linalg.qr(torch.randn(dim // heads, max(k, dim // heads)))[0][:, :k] if k <= dim // heads
                           else F.normalize(torch.randn(dim // heads, k), dim=0) for _ in range(heads)])
            self.q_embed.weight.copy_(e[:, :, None, None])
            self.k_embed.weight.copy_(e[:, :, None, None])
        self.k_content = nn.Conv2d(channels, dim, 1, bias=False)
        nn.init.zeros_(self.k_content.weight)
        protos = torch.zeros(k, channels) if prototypes is None else prototypes.float()
        self.prototypes = nn.Parameter(protos.clone())
        # In units of a same-cluster match: a memory slot starts between a same-cluster source cell
        # (1) and another cluster's (0), so it wins only where the source lacks the cluster nearby.
        self.memory_bias = nn.Parameter(torch.tensor(-0.5))
        self.log_locality = nn.Parameter(torch.tensor(0.0))
        ys, xs = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
        xy = torch.stack([ys.flatten(), xs.flatten()], 1)
        self.register_buffer("dist2", torch.cdist(xy, xy).square()[None, None])
        layers, cin = [], channels + dim
        for i in range(refine):
            dil = 2 if i == 1 else 1
            layers += [nn.Conv2d(cin, channels, 3, padding=dil, dilation=dil), nn.LeakyReLU(0.2)]
            cin = channels
        self.refine = nn.Sequential(*layers[:-1]) if layers else None
        if self.refine is not None:
            nn.init.zeros_(self.refine[-1].weight)
            nn.init.zeros_(self.refine[-1].bias)

    def forward(self, feats, proxy_src, proxy_tgt, with_attention=False):
        b, c, h, w = feats.shape
        n, hd = h * w, self.heads
        tgt = self.q_embed(one_hot(proxy_tgt, self.cluster_ids))
        key = self.k_embed(one_hot(proxy_src, self.cluster_ids))
        if self.use_content:
            key = key + self.k_content(per_sample_standardise(feats))
        q = self.q_proj(tgt.flatten(2).transpose(1, 2)).view(b, n, hd, -1).transpose(1, 2)
        kk = self.k_proj(key.flatten(2).transpose(1, 2)).view(b, n, hd, -1).transpose(1, 2)
        v = self.v_proj(feats).view(b, hd, c // hd, n).transpose(2, 3)
        logits = q @ kk.transpose(2, 3) * self.log_scale.exp()
        if self.use_locality:
            logits = logits - self.log_locality.exp() * self.log_scale.exp() * self.dist2
        if self.use_memory:
            mem_k = self.k_proj(self.k_embed.weight[:, :, 0, 0].t()).view(1, self.k, hd, -1).permute(0, 2, 1, 3)
            mem_v = self.v_proj(self.prototypes.t()[None, :, :, None]).view(1, hd, c // hd, self.k).transpose(2, 3)
            mem_logits = q @ mem_k.transpose(2, 3) * self.log_scale.exp() + self.memory_bias * self.log_scale.exp()
            logits = torch.cat([logits, mem_logits], -1)
            v = torch.cat([v, mem_v.expand(b, -1, -1, -1)], 2)
        attn = torch.softmax(logits, dim=-1)
        out = self.out_proj((attn @ v).transpose(2, 3).reshape(b, c, h, w))
        if self.refine is not None:
            out = out + self.refine(torch.cat([out, tgt], 1))
        return (out, attn) if with_attention else out


def make_rearranger(arch):
    arch = dict(arch)
    kind = arch.pop("kind", "attention")
    return LayoutRearranger(**arch) if kind == "layout" else Rearranger(**arch)


# ---------------------------------------------------------------- inversion encoder

class Encoder(nn.Module):
    """Photo -> (F, style): inverts a photo straight into the split feature map and g2's style.

    A strided CNN down to F's size with a 1x1 head for F; the deepest map, pooled, gives the style.
    style_act "sigmoid" for FastGAN (its style is a gate in 0..1), "none" for StyleGAN's w.
    """

    def __init__(self, res, feat_res, feat_channels, style_dim, base=32, style_act="sigmoid"):
        super().__init__()
        down = int(round(math.log2(res // feat_res)))
        layers, c = [nn.Conv2d(3, base, 3, padding=1), nn.LeakyReLU(0.2)], base
        for _ in range(down):
            layers += [nn.Conv2d(c, c * 2, 4, stride=2, padding=1), nn.BatchNorm2d(c * 2), nn.LeakyReLU(0.2)]
            c *= 2
        layers += [nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.LeakyReLU(0.2)]
        self.stem = nn.Sequential(*layers)
        self.feat_head = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(c, feat_channels, 1))
        self.deep = nn.Sequential(nn.Conv2d(c, c * 2, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(c * 2, c * 2, 4, stride=2, padding=1), nn.LeakyReLU(0.2))
        self.style_head = nn.Linear(c * 2, style_dim)
        self.style_act = style_act

    def forward(self, x):
        h = self.stem(x)
        feats = self.feat_head(h)
        style = self.style_head(self.deep(h).mean([2, 3]))
        return feats, (torch.sigmoid(style) if self.style_act == "sigmoid" else style)
