"""Turning exact face masks into what a designer draws, for the semantic mapper's training pairs.

A parsed face mask is traced region by region: each class's outline is simplified to a polygon
(often its convex hull, as a designer draws an oval for a face), tiny bits are dropped, and the
shapes are painted back-to-front in the order a designer stacks layers.
"""
import cv2
import numpy as np

from phototype_train.data.classes import NAMES

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


# ---------------------------------------------------------------- sketch, scribble, edges

# Outlines a designer would draw with the pen tool: each group is traced as one shape.
SKETCH_GROUPS = [
    ("face", ("skin", "nose", "l_eye", "r_eye", "l_brow", "r_brow", "mouth", "u_lip", "l_lip", "eye_g")),
    ("hair", ("hair",)), ("hat", ("hat",)), ("l_ear", ("l_ear",)), ("r_ear", ("r_ear",)),
    ("neck", ("neck", "neck_l")), ("cloth", ("cloth",)),
    ("l_eye", ("l_eye",)), ("r_eye", ("r_eye",)), ("l_brow", ("l_brow",)), ("r_brow", ("r_brow",)),
    ("nose", ("nose",)), ("mouth", ("mouth", "u_lip", "l_lip")), ("glasses", ("eye_g",)),
]
NO_STROKE = 255  # scribble pixels nobody drew on


def sketch_from_mask(mask: np.ndarray, rng: np.random.Generator, drop_p=0.15, eps_px=(0.3, 1.5)) -> np.ndarray:
    """Black-on-white line drawing of a face mask: simplified outlines of face parts, 1-2 px strokes.

    Returns float32 HxW, 1 = stroke, 0 = paper. Some outlines are randomly left out, as people skip lines.
    """
    scale = mask.shape[0] / 64.0
    out = np.zeros(mask.shape, np.uint8)
    for _, names in SKETCH_GROUPS:
        region = np.isin(mask, [NAMES.index(n) for n in names]).astype(np.uint8)
        if region.sum() < 4 * scale * scale or rng.random() < drop_p:
            continue
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        polys = [cv2.approxPolyDP(c, rng.uniform(*eps_px) * scale, True) for c in contours if len(c) >= 3]
        thick = max(1, int(round(rng.choice([1, 1, 2]) * scale)))
        cv2.polylines(out, polys, True, 1, thickness=thick)
    return out.astype(np.float32)


def scribble_from_mask(mask: np.ndarray, rng: np.random.Generator, keep_p=0.8, strokes=(1, 3)) -> np.ndarray:
    """A few coloured strokes per face part, drawn inside each part: class ids where drawn, NO_STROKE elsewhere."""
    scale = mask.shape[0] / 64.0
    out = np.full(mask.shape, NO_STROKE, np.uint8)
    for c in PAINT_ORDER + [0]:
        region = mask == c
        n = int(region.sum())
        if n < 3 * scale * scale or rng.random() > keep_p:
            continue
        ys, xs = np.nonzero(region)
        thick = max(1, int(round(rng.choice([1, 2, 3]) * scale)))
        for _ in range(rng.integers(strokes[0], strokes[1] + 1)):
            # A stroke through a few random points of the part, ordered along its main axis.
            pts = rng.choice(n, size=min(n, int(rng.integers(2, 5))), replace=False)
            p = np.stack([xs[pts], ys[pts]], 1)
            axis = np.argmax(p.max(0) - p.min(0))
            p = p[np.argsort(p[:, axis])].astype(np.int32)
            layer = np.zeros(mask.shape, np.uint8)
            cv2.polylines(layer, [p[:, None, :]], False, 1, thickness=thick)
            out[(layer > 0) & region] = c  # keep strokes inside their part
    return out


def edges_from_image(rgb: np.ndarray, low_high=(0.66, 1.33)) -> np.ndarray:
    """Classical edge map (Canny on a lightly blurred grey image, thresholds from the median).

    No HED weights are available offline; the server computes the same thing from a user's photo.
    rgb: HxWx3 uint8. Returns float32 HxW, 1 = edge.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    grey = cv2.GaussianBlur(grey, (3, 3), 0.8)
    med = float(np.median(grey))
    lo, hi = int(max(0, low_high[0] * med)), int(min(255, low_high[1] * med))
    return (cv2.Canny(grey, lo, max(hi, lo + 1)) > 0).astype(np.float32)
