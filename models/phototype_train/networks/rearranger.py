"""The rearrangers: source features moved into a target proxy layout (attention, or the layout kind)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from phototype_train.networks.layers import one_hot
from phototype_train.networks.proxy import per_sample_standardise


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
