"""Layouts beyond the generator's habits, made from its own samples' layouts.

A generated sample almost never has big ears, a hat, a wide face or no hair, so stages trained only
on its layouts learn to pull a drawing back to the usual face. These transforms change a layout
given as several aligned label maps at once (a proxy mask and the parsed classes of the same sample,
each with its own ids for the parts), so every map keeps describing the same changed face:

- stretch: a wider or narrower, shifted face (an anisotropic affine about the image centre);
- hair: all hair made background, or hair grown into the background around it;
- donor parts: ears, hats, glasses and earrings pasted from other samples that have them.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from phototype_train.data.augment import warp_mask


@dataclass
class PartIds:
    """The ids one label map uses for the parts the transforms touch (-1: the map has no such part)."""
    background: int
    hair: int
    pasted: tuple  # ids of parts that donors lend (ears, hat, glasses, earrings)


def stretch_theta(b, gen, widen=0.25, shift=0.15, tall=0.1):
    """affine_grid matrices [B,2,3] drawing a layout wider by up to `widen` (or narrower by as much),
    taller by up to `tall`, and shifted by up to `shift` of the image size each way."""
    r = lambda: torch.rand(b, generator=gen) * 2 - 1  # noqa: E731
    sx = torch.exp(r() * math.log(1 + widen))
    sy = torch.exp(r() * math.log(1 + tall))
    tx, ty = r() * shift * 2, r() * shift * 2  # affine_grid's coordinates span 2 per image side
    zero = torch.zeros(b)
    # output (x, y) samples input (x / sx - tx, y / sy - ty): the content grows by sx and moves by tx
    return torch.stack([torch.stack([1 / sx, zero, -tx / sx], 1), torch.stack([zero, 1 / sy, -ty / sy], 1)], 1)


def stretch(maps, theta):
    """Each map [B,H,W] (any size) warped by the same theta, nearest sampling."""
    return [warp_mask(m, theta) for m in maps]


def remove_hair(maps, ids):
    """Hair becomes background in every map."""
    return [torch.where(m == i.hair, torch.full_like(m, i.background), m) if i.hair >= 0 else m for m, i in zip(maps, ids)]


def grow_hair(maps, ids, reach):
    """Background within `reach` (a fraction of the image side) of hair becomes hair in every map."""
    out = []
    for m, i in zip(maps, ids):
        if i.hair < 0:
            out.append(m)
            continue
        r = max(1, int(round(reach * m.shape[-1])))
        near = F.max_pool2d((m == i.hair).float()[:, None], 2 * r + 1, stride=1, padding=r)[:, 0] > 0
        out.append(torch.where(near & (m == i.background), torch.full_like(m, i.hair), m))
    return out


def paste(maps, donor_maps, ids):
    """Each donor's lent parts (ids.pasted) written over the layout, in every map; the donors are
    aligned with the layouts item by item and each map's part ids are its own."""
    out = []
    first = maps[0].shape[-1]
    lent = None
    for m, d, i in zip(maps, donor_maps, ids):
        here = torch.isin(d, torch.tensor([p for p in i.pasted if p >= 0], dtype=d.dtype))
        if lent is None:  # the first map decides where, so every map pastes the same places
            lent = here
        where = lent if m.shape[-1] == first else F.interpolate(lent[:, None].float(), size=m.shape[-2:], mode="nearest")[:, 0] > 0
        out.append(torch.where(where & here, d, m))
    return out


class DonorPool:
    """Samples that have some lent part (ears, hat, glasses, earrings) over a minimum area: their
    label maps, kept so a batch can borrow them. `maps`: aligned lists of [N,H,W]."""

    def __init__(self, maps, ids, min_share=0.01):
        first, i = maps[0], ids[0]
        lent = torch.isin(first, torch.tensor([p for p in i.pasted if p >= 0], dtype=first.dtype)).float().mean((1, 2))
        keep = lent >= min_share
        self.maps = [m[keep] for m in maps]

    def __len__(self):
        return len(self.maps[0])

    def draw(self, n, gen):
        idx = torch.randint(len(self), (n,), generator=gen)
        return [m[idx] for m in self.maps]


def off_habit(maps, ids, gen, donors: DonorPool | None = None, p_stretch=0.5, p_hair=0.3, p_paste=0.3):
    """Some of the transforms, each with its probability, chosen per batch (the same for every item)."""
    u = torch.rand(4, generator=gen)
    if u[0] < p_stretch:
        maps = stretch(maps, stretch_theta(len(maps[0]), gen))
    if u[1] < p_hair:
        maps = remove_hair(maps, ids) if u[2] < 0.5 else grow_hair(maps, ids, 0.03 + 0.07 * float(torch.rand(1, generator=gen)))
    if donors is not None and len(donors) and u[3] < p_paste:
        maps = paste(maps, donors.draw(len(maps[0]), gen), ids)
    return maps
