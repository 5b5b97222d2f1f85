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

    def forward(self, feats):
        return self.similarity(feats).argmax(1)
