"""Proxy masks: the generator's features F -> the nearest k-means cluster per pixel."""
import torch
import torch.nn as nn
import torch.nn.functional as F


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

    def cluster_logits(self, feats, tau):
        """Differentiable scores whose argmax is the proxy label (training losses use them)."""
        return self.similarity(feats) / tau

    def forward(self, feats):
        return self.similarity(feats).argmax(1)


def part_head_module(channels, parts, hidden=0):
    """F (standardised) -> part logits: linear (1x1 conv) when hidden = 0, else a 3x3 conv of
    `hidden` channels first, so a cell's neighbours help name it (an eye is 2 x 1 cells)."""
    if not hidden:
        return nn.Conv2d(channels, parts, 1)
    return nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(hidden, parts, 1))


class PartProxyAssign(ProxyAssign):
    """F -> a (part, variant) cluster per pixel, so a layout can ask for any part by name.

    A part head names each pixel's face part from F; the pixel then takes the nearest (cosine) of
    that part's own centroids. k-means over all of F found position codes instead (clusters of
    "upper-left hair", "centre skin"), and no cluster was an eye, a brow or an ear. Here every part
    with enough pixels in the fitting samples owns 1-3 clusters, which keep appearance variants
    (light or dark hair, lit or shaded skin) apart within it. `centroid_part[j]` is cluster j's part.
    """

    def __init__(self, centroids, mean, std, head, centroid_part, per_sample=True, raw_mean=None, raw_std=None):
        super().__init__(centroids, mean, std, per_sample=per_sample, raw_mean=raw_mean, raw_std=raw_std)
        self.head = head.eval().requires_grad_(False)
        self.register_buffer("centroid_part", centroid_part.long())
        parts = self.head_out_channels(head)
        owned = torch.zeros(parts, dtype=torch.bool)
        owned[centroid_part.long()] = True
        # a part without clusters is never named
        self.register_buffer("unowned", torch.where(owned, 0.0, -1e4).view(1, -1, 1, 1))

    @property
    def parts(self):
        return self.unowned.shape[1]

    @staticmethod
    def head_out_channels(head):
        return (head if isinstance(head, nn.Conv2d) else head[-1]).out_channels

    def part_logits(self, feats):
        return self.head((self.prepare(feats) - self.mean) / self.std) + self.unowned

    def cluster_logits(self, feats, tau):
        """The part's log-probability plus the within-part cosine: right part first, then right variant."""
        part = torch.log_softmax(self.part_logits(feats), 1)
        return part[:, self.centroid_part] + self.similarity(feats) / tau

    def forward(self, feats):
        part = self.part_logits(feats).argmax(1, keepdim=True)
        allowed = (part == self.centroid_part.view(1, -1, 1, 1)).float()
        # cosine lies in [-1, 1]: minus 4 outside the part puts every other part's cluster below it
        return (self.similarity(feats) - 4.0 * (1.0 - allowed)).argmax(1)
