"""The inversion encoder: photo -> (F, style)."""
import math

import torch
import torch.nn as nn


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
