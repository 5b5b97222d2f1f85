"""Geometric and colour augmentation for images with their class masks (parser, mapper)."""
import math

import torch
import torch.nn.functional as F

from phototype_train.data.dataset import flip_batch


def random_theta(b, gen, max_rot=10.0, max_scale=0.1, max_shift=0.06):
    """One random similarity transform per item, as affine_grid matrices [B,2,3]."""
    r = lambda: torch.rand(b, generator=gen) * 2 - 1
    ang = r() * math.radians(max_rot)
    sc = 1 + r() * max_scale
    tx, ty = r() * max_shift * 2, r() * max_shift * 2
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    return torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)


def warp_image(images, theta):
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def warp_mask(masks, theta):
    """Nearest sampling; edge pixels extend outward (background, or cloth at the bottom)."""
    grid = F.affine_grid(theta, [masks.shape[0], 1, *masks.shape[-2:]], align_corners=False)
    return F.grid_sample(masks[:, None].float(), grid, mode="nearest", padding_mode="border", align_corners=False)[:, 0].long()


def random_affine(images, masks, gen):
    theta = random_theta(images.shape[0], gen)
    return warp_image(images, theta), (warp_mask(masks, theta) if masks is not None else None)


def color_jitter(images, gen, strength=0.2):
    b = images.shape[0]
    r = lambda: (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * strength
    x = images + r()
    m = x.mean(1, keepdim=True)
    x = (x - m) * (1 + r()) + m
    m = x.mean([1, 2, 3], keepdim=True)
    return ((x - m) * (1 + r()) + m).clamp(-1, 1)


def augment_pair(images, masks, gen):
    """Flip (with left/right class swap), small affine, colour jitter. images float in [-1, 1]."""
    images, masks = flip_batch(images, masks, torch.rand(images.shape[0], generator=gen) < 0.5)
    images, masks = random_affine(images, masks, gen)
    return color_jitter(images, gen), masks


def resolution_jitter(images, gen, p=0.5, min_res=32):
    """With probability p, shrink an image to a random size in [min_res, res) and scale it back
    (bilinear): a parser trained so reads 64-px outputs upsampled to its input like native ones."""
    res = images.shape[-1]
    out = images.clone()
    for i in torch.nonzero(torch.rand(images.shape[0], generator=gen) < p).flatten().tolist():
        r = int(torch.randint(min_res, res, (1,), generator=gen))
        small = F.interpolate(images[i:i + 1], size=(r, r), mode="bilinear", align_corners=False, antialias=True)
        out[i:i + 1] = F.interpolate(small, size=(res, res), mode="bilinear", align_corners=False)
    return out
