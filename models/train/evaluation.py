"""Metrics of the evaluation protocol (layout fidelity, realism, identity), as pure functions."""
import numpy as np
import torch

from classes import NUM_CLASSES
from metrics import confusion, frechet_distance, miou, pixel_accuracy, precision_recall

MIN_REGION_PX = 12  # a class region smaller than this has no reliable mean colour


def layout_fidelity(parsed: torch.Tensor, masks: torch.Tensor) -> dict:
    """parsed, masks: [N,H,W] class ids. mIoU over the accumulated confusion matrix (classes absent
    from both prediction and input are skipped), and pixel accuracy."""
    conf = confusion(parsed, masks, NUM_CLASSES)
    m, per_class = miou(conf)
    return {"miou": m, "pixel_accuracy": pixel_accuracy(conf), "per_class_iou": per_class.tolist()}


def region_colors(images: torch.Tensor, labels: torch.Tensor):
    """images [N,3,H,W] in [-1,1], labels [N,H,W] -> mean colour [N,C,3] and pixel counts [N,C]."""
    onehot = torch.nn.functional.one_hot(labels.long(), NUM_CLASSES).flatten(1, 2).float()  # N,HW,C
    rgb = images.flatten(2).transpose(1, 2)  # N,HW,3
    counts = onehot.sum(1)
    means = onehot.transpose(1, 2) @ rgb / counts.clamp(min=1)[..., None]
    return means, counts


def _pair_distance(ma, ca, mb, cb):
    valid = (ca >= MIN_REGION_PX) & (cb >= MIN_REGION_PX)
    valid[0] = False  # background says little about the person
    if not valid.any():
        return None
    return float((ma[valid] - mb[valid]).norm(dim=-1).mean())


def identity(images: torch.Tensor, labels: torch.Tensor) -> dict:
    """images [M masks, S seeds, 3,H,W], labels (parsed outputs) [M,S,H,W].

    Appearance distance of two outputs = mean over face-part classes present in both of the
    distance between the parts' mean colours (RGB in [-1,1]). "Same person, new layout" means
    same-seed pairs (different masks) are much closer than different-seed pairs (same mask).
    identity_score = 1 - same_seed / different_seed: 1 = appearance fully kept, 0 = no better than a new seed.
    """
    m, s = images.shape[:2]
    means, counts = region_colors(images.flatten(0, 1), labels.flatten(0, 1))
    means, counts = means.view(m, s, NUM_CLASSES, 3), counts.view(m, s, NUM_CLASSES)
    same_seed, diff_seed = [], []
    for seed in range(s):
        for i in range(m):
            j = (i + 1) % m
            if j != i:
                d = _pair_distance(means[i, seed], counts[i, seed], means[j, seed], counts[j, seed])
                if d is not None:
                    same_seed.append(d)
    for i in range(m):
        for seed in range(s):
            t = (seed + 1) % s
            if t != seed:
                d = _pair_distance(means[i, seed], counts[i, seed], means[i, t], counts[i, t])
                if d is not None:
                    diff_seed.append(d)
    a, b = float(np.mean(same_seed)), float(np.mean(diff_seed))
    return {"same_seed_distance": a, "different_seed_distance": b, "identity_score": 1 - a / b,
            "pairs": [len(same_seed), len(diff_seed)]}


def realism(fake_feats: np.ndarray, real_feats: np.ndarray, floor_a: np.ndarray, floor_b: np.ndarray) -> dict:
    p, r = precision_recall(real_feats, fake_feats)
    fp, fr = precision_recall(floor_b, floor_a)
    return {"fd": frechet_distance(real_feats, fake_feats), "precision": p, "recall": r,
            "floor_fd": frechet_distance(floor_b, floor_a), "floor_precision": fp, "floor_recall": fr}
