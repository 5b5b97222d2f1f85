"""The U-Net the face parser and the semantic mappers are made of."""
import torch
import torch.nn as nn
import torch.nn.functional as F


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
