"""Left and right by position, for training masks: the rule the server applies to every drawn layout
(server/pipeline/sides.ts), so a parser trained on these masks names sides as the server does.

About 7 % of the data's masks label a pair mirrored (scripts/measure-sides.ts: 69 of 1,000 train
masks), which teaches a parser that either eye may be either class. Here each 8-connected region of
a pair's two classes goes to the side of the face's midline its mean column lies on (l_ = the
person's left = the image's right). The midline: the nose's mean column, else the skin's, else
halfway between the outermost paired regions, else the image centre. A region exactly on the
midline keeps its classes; no other pixel changes.
"""
import numpy as np
import torch
from scipy import ndimage

from phototype_train.data.classes import NAMES

# (class on the image's left, class on the image's right) per pair
PAIRS = [(NAMES.index(f"r_{p}"), NAMES.index(f"l_{p}")) for p in ("eye", "brow", "ear")]
ANCHORS = [NAMES.index("nose"), NAMES.index("skin")]
EIGHT = np.ones((3, 3), bool)


def _regions(m: np.ndarray, ids):
    labels, n = ndimage.label(np.isin(m, ids), structure=EIGHT)
    return [labels == k for k in range(1, n + 1)]


def midline(m: np.ndarray, regions) -> float:
    for a in ANCHORS:
        xs = np.nonzero(m == a)[1]
        if len(xs):
            return float(xs.mean())
    if len(regions) >= 2:
        means = [np.nonzero(r)[1].mean() for r in regions]
        return float((min(means) + max(means)) / 2)
    return (m.shape[1] - 1) / 2


def place_sides(m: np.ndarray) -> np.ndarray:
    """One [H,W] class map with every paired region given the class of its side."""
    out = m.copy()
    every = [r for left, right in PAIRS for r in _regions(m, [left, right])]
    mid = midline(m, every)
    for left, right in PAIRS:
        for r in _regions(m, [left, right]):
            x = np.nonzero(r)[1].mean()
            if x != mid:
                out[r] = left if x < mid else right
    return out


def sides_by_position(masks: torch.Tensor) -> torch.Tensor:
    """[N,H,W] class maps, each through place_sides."""
    return torch.from_numpy(np.stack([place_sides(m) for m in masks.numpy()])).to(masks.dtype)
