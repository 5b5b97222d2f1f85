"""Turning exact face masks into what a designer draws, for the semantic mapper's training pairs.

A parsed face mask is traced region by region: each class's outline is simplified to a polygon
(often its convex hull, as a designer draws an oval for a face), tiny bits are dropped, and the
shapes are painted back-to-front in the order a designer stacks layers.
"""
import cv2
import numpy as np

from classes import NAMES

# Back to front: hair behind the face, glasses under the eyes, hat and earrings on top.
PAINT_ORDER = [NAMES.index(n) for n in ("cloth", "neck", "neck_l", "hair", "l_ear", "r_ear", "skin", "eye_g", "nose",
                                        "l_brow", "r_brow", "l_eye", "r_eye", "u_lip", "l_lip", "mouth", "hat", "ear_r")]


def simplify_mask(mask: np.ndarray, rng: np.random.Generator, hull_p=0.5, eps_px=(0.5, 2.5), min_area=3.0) -> np.ndarray:
    """Flat, simplified shapes from an exact class mask (uint8/int HxW -> same shape, background 0)."""
    scale = mask.shape[0] / 64.0
    out = np.zeros(mask.shape, np.uint8)
    for c in PAINT_ORDER:
        region = (mask == c).astype(np.uint8)
        if not region.any():
            continue
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        shapes = []
        for cnt in contours:
            if cv2.contourArea(cnt) < min_area * scale * scale and len(cnt) < 6:
                continue
            if rng.random() < hull_p:
                cnt = cv2.convexHull(cnt)
            eps = rng.uniform(*eps_px) * scale
            shapes.append(cv2.approxPolyDP(cnt, eps, True))
        if shapes:
            cv2.fillPoly(out, shapes, int(c))
    return out


def designer_masks(masks: np.ndarray, rng: np.random.Generator, p_simplify=0.75) -> np.ndarray:
    """A batch of masks, most of them simplified (the rest kept exact so precise masks work too)."""
    out = masks.astype(np.uint8).copy()
    for i in range(len(out)):
        if rng.random() < p_simplify:
            out[i] = simplify_mask(out[i], rng)
    return out
