"""Metrics of the evaluation protocol (layout fidelity, realism, identity, rearranger agreement), as
pure functions of labels, features and embeddings: tests/test_metrics.py checks each by hand."""
import numpy as np
import torch

from phototype_train.data.classes import NUM_CLASSES
from phototype_train.evaluation.metrics import confusion, cosine_distance, frechet_distance, kernel_inception_distance, miou, pixel_accuracy, precision_recall


def layout_fidelity(parsed: torch.Tensor, masks: torch.Tensor) -> dict:
    """parsed, masks: [N,H,W] class ids. mIoU over the accumulated confusion matrix (classes absent
    from both prediction and input are skipped), and pixel accuracy."""
    conf = confusion(parsed, masks, NUM_CLASSES)
    m, per_class = miou(conf)
    return {"miou": m, "pixel_accuracy": pixel_accuracy(conf), "per_class_iou": per_class.tolist()}


def standardise_like(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """x with each dimension shifted and scaled by `ref`'s mean and sd."""
    return (x - ref.mean(0)) / np.maximum(ref.std(0), 1e-8)


def realism(fake: np.ndarray, real: np.ndarray) -> dict:
    """Fréchet distance, KID and improved precision/recall (k=3) of one feature set against another.

    KID's cubic kernel is computed on features standardised by the real set's per-dimension mean and
    sd: on raw ReLU6 features a few large dimensions dominate (x.y/d + 1)^3 and its variance."""
    p, r = precision_recall(real, fake)
    kid = kernel_inception_distance(standardise_like(real, real), standardise_like(fake, real))
    return {"fd": frechet_distance(real, fake), "kid": kid, "precision": p, "recall": r}


def identity(emb: np.ndarray) -> dict:
    """emb [M masks, S seeds, D]: face embeddings of every output (seeds shared across masks).

    same_seed: cosine distance between outputs of one seed under two different masks (mask i, i+1);
    different_seed: between two seeds (s, s+1) under one mask. "Same seed + new layout = same person"
    holds when same_seed is well below different_seed: margin = different - same, and
    score = 1 - same / different (1: a seed keeps its face across layouts; 0: no more than a new seed).
    """
    m, s = emb.shape[:2]
    same = cosine_distance(emb, np.roll(emb, -1, axis=0)) if m > 1 else np.zeros((0, s))
    diff = cosine_distance(emb, np.roll(emb, -1, axis=1)) if s > 1 else np.zeros((m, 0))
    if m == 2:
        same = same[:1]  # (0,1) and (1,0) are one pair
    if s == 2:
        diff = diff[:, :1]
    a, b = float(same.mean()), float(diff.mean())
    return {"same_seed_distance": a, "different_seed_distance": b, "margin": b - a, "identity_score": 1 - a / b if b > 0 else float("nan"),
            "pairs": [int(same.size), int(diff.size)]}


def reference_identity(emb: np.ndarray) -> dict:
    """emb [N photos, 2 views, D]: two views of one real photo (the same person) against view 0 of
    the next photo (another person): the distances a face-identity network gives real faces."""
    same = cosine_distance(emb[:, 0], emb[:, 1])
    other = cosine_distance(emb[:, 0], np.roll(emb[:, 0], -1, axis=0))
    return {"same_person_distance": float(same.mean()), "different_people_distance": float(other.mean()),
            "pairs": [len(same), len(other)]}


def pair_agreement(a: torch.Tensor, b: torch.Tensor) -> dict:
    """How far two label maps [N,H,W] agree (mIoU, pixel accuracy), b taken as the reference."""
    r = layout_fidelity(a, b)
    return {"miou": r["miou"], "pixel_accuracy": r["pixel_accuracy"]}
