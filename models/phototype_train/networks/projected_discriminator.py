"""A projected discriminator (Sauer et al., "Projected GANs Converge Faster", 2021) on frozen ImageNet features.

The features are MobileNetV2 blocks 2, 5 and 10 from nsfwjs (the same frozen ImageNet weights the realism
metric reads, see mobilenet_features.py), at strides 4, 8 and 16 of the image as it comes (no resize).
As in the paper: fixed random 1x1 projections mix channels (CCM), a fixed top-down path mixes scales
(CSM), and one small trainable discriminator per scale gives a map of logits. Nothing but those small
heads trains; G's gradient flows back through the frozen trunk.

Caution for measuring: a generator trained against these features can lower an FD measured in them
without looking better, so compare recipes in another feature space too (compare_projected.py).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from phototype_train.evaluation.mobilenet_features import MobileNetV2Trunk, load_weights

TAPS = (2, 5, 10)
TAP_CHANNELS = (24, 32, 96)


class _Head(nn.Module):
    """Strided convs from one scale down to 4x4, then a 4x4 logit map."""

    def __init__(self, cin, width, size):
        super().__init__()
        layers = []
        while size > 4:
            layers += [nn.Conv2d(cin, width, 4, 2, 1), nn.LeakyReLU(0.2)]
            cin, size = width, size // 2
        layers.append(nn.Conv2d(cin, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class ProjectedDiscriminator(nn.Module):
    def __init__(self, cfg, width=64, seed=0):
        super().__init__()
        self.trunk = MobileNetV2Trunk(*load_weights(), last=max(TAPS)).eval().requires_grad_(False)
        g = torch.Generator().manual_seed(seed)
        # Fixed random projections, as CCM/CSM in the paper (not trained: they spread features, not fit them).
        self.ccm = nn.ModuleList(nn.Conv2d(c, width, 1) for c in TAP_CHANNELS)
        for conv in self.ccm:
            nn.init.kaiming_normal_(conv.weight, generator=g)
            nn.init.zeros_(conv.bias)
            conv.requires_grad_(False)
        res = cfg["resolution"]
        sizes = [res // 4, res // 8, res // 16]
        self.heads = nn.ModuleList(_Head(width, width, s) for s in sizes)

    def train(self, mode=True):
        super().train(mode)
        self.trunk.eval()  # frozen: folded BN, never batch statistics
        return self

    def forward(self, x):
        taps = self.trunk(x.float(), taps=TAPS)
        p = [c(t) for c, t in zip(self.ccm, taps)]
        for i in range(len(p) - 2, -1, -1):  # CSM: each scale also sees the coarser ones
            p[i] = p[i] + F.interpolate(p[i + 1], size=p[i].shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([h(f).flatten(1) for h, f in zip(self.heads, p)], 1).mean(1, keepdim=True)
