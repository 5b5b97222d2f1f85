"""Off-habit layouts: test/ masks changed the way a designer asks for what the generator rarely makes,
and the measures that say whether the output followed.

Four kinds, each made from the full-size (256 px) test mask so a designer's shapes stay clean:

- wide:    the whole layout stretched sideways about the face so the face is 40/64 of the image wide;
- ears:    a large ellipse ear on each side of the face, from eye to nose height, over what is not face;
- hat:     the crown of the head above the brows made a hat, with a brim wider than the head;
- no-hair: all hair made background.

The shapes are drawn geometrically, not pasted from training samples, so the test does not reward a
model for having seen these very shapes in its own augmentation.
"""
import numpy as np
import torch

from phototype_train.data.classes import NAMES

BACKGROUND, SKIN, NOSE, L_EAR, R_EAR, HAIR, HAT = (NAMES.index(n) for n in ("background", "skin", "nose", "l_ear", "r_ear", "hair", "hat"))
FACE = [NAMES.index(n) for n in ("skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "mouth", "u_lip", "l_lip")]
EYES = [NAMES.index(n) for n in ("l_eye", "r_eye")]
BROWS = [NAMES.index(n) for n in ("l_brow", "r_brow")]
KINDS = ("wide", "ears", "hat", "no-hair")
WIDE_SHARE = 40 / 64  # the face width the "wide" kind draws, as a share of the image width
EAR_RY, EAR_RX = 0.11, 0.055  # ear ellipse semi-axes, shares of the image side


def _isin(m: np.ndarray, ids) -> np.ndarray:
    return np.isin(m, np.asarray(ids))


def face_width(mask: np.ndarray) -> float:
    """The face's width in pixels: the 90th percentile, over rows that hold face pixels, of each
    row's span from its leftmost to its rightmost face pixel (robust to a stray pixel row)."""
    face = _isin(mask, FACE)
    rows = np.flatnonzero(face.any(1))
    if len(rows) == 0:
        return 0.0
    spans = [np.flatnonzero(face[r])[-1] - np.flatnonzero(face[r])[0] + 1 for r in rows]
    return float(np.percentile(spans, 90))


def usable(mask: np.ndarray) -> bool:
    """A layout the transforms can work from: skin, a nose, eyes and hair or skin reaching the top half."""
    return bool((mask == SKIN).any() and (mask == NOSE).any() and _isin(mask, EYES).any())


def widen(mask: np.ndarray, share: float = WIDE_SHARE) -> np.ndarray:
    """The layout scaled sideways about the face's centre column so its face_width is `share` of the
    image width (nearest columns; columns beyond the edge repeat the edge)."""
    W = mask.shape[1]
    cols = np.flatnonzero(_isin(mask, FACE).any(0))
    c = (cols[0] + cols[-1]) / 2
    s = share * W / face_width(mask)
    src = np.clip(np.round(c + (np.arange(W) - c) / s), 0, W - 1).astype(int)
    return mask[:, src]


def _row_extent(region: np.ndarray, y: int):
    xs = np.flatnonzero(region[y])
    return (xs[0], xs[-1]) if len(xs) else None


def add_ears(mask: np.ndarray) -> np.ndarray:
    """An ellipse ear on each side of the face at eye-to-nose height, drawn only over pixels that are
    not face; the one on the image's left is r_ear (the person's right), the other l_ear."""
    H, W = mask.shape
    out = mask.copy()
    eye_y = np.flatnonzero(_isin(mask, EYES).any(1)).mean()
    nose_bottom = np.flatnonzero((mask == NOSE).any(1))[-1]
    cy = int(round((eye_y + nose_bottom) / 2))
    face = _isin(mask, FACE)
    left, right = _row_extent(face, cy) or (W // 4, 3 * W // 4)
    ry, rx = EAR_RY * H, EAR_RX * W
    yy, xx = np.mgrid[:H, :W]
    for cx, cls in ((left - 0.5 * rx, R_EAR), (right + 0.5 * rx, L_EAR)):
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        out[inside & ~face] = cls
    return out


def add_hat(mask: np.ndarray) -> np.ndarray:
    """The crown made a hat: head pixels (hair, skin) above a cut line 55 % of the way from the top of
    the head to the brows, and a brim 3 % of the image tall reaching 6 % past the head on each side."""
    H, W = mask.shape
    out = mask.copy()
    head = _isin(mask, [HAIR, SKIN])
    top = np.flatnonzero(head.any(1))[0]
    marks = _isin(mask, BROWS) if _isin(mask, BROWS).any() else _isin(mask, EYES)
    brow = np.flatnonzero(marks.any(1))[0]
    cut = int(top + 0.55 * (brow - top))
    crown = np.zeros_like(head)
    crown[:cut] = head[:cut]
    out[crown] = HAT
    ext = _row_extent(head, cut) or (W // 4, 3 * W // 4)
    pad, brim = int(0.06 * W), max(1, int(0.03 * H))
    out[max(0, cut - brim):cut, max(0, ext[0] - pad):min(W, ext[1] + pad + 1)] = HAT
    return out


def remove_hair(mask: np.ndarray) -> np.ndarray:
    return np.where(mask == HAIR, BACKGROUND, mask)


TRANSFORMS = {"wide": widen, "ears": add_ears, "hat": add_hat, "no-hair": remove_hair}


def make_layouts(masks: np.ndarray, per_kind: int):
    """[kinds * per_kind, H, W] layouts (kind-major) from the first `per_kind` usable masks, and the
    indices of the masks used."""
    chosen = [i for i, m in enumerate(masks) if usable(m)][:per_kind]
    out = [TRANSFORMS[k](masks[i]) for k in KINDS for i in chosen]
    return (np.stack(out) if out else np.zeros((0, *masks.shape[1:]), masks.dtype)), chosen


def pooled_iou(pred: np.ndarray, target: np.ndarray, ids) -> float:
    """IoU of the union of classes `ids`, pooled over the whole set (sum of intersections over sum of unions)."""
    p, t = _isin(pred, ids), _isin(target, ids)
    union = (p | t).sum()
    return float((p & t).sum() / union) if union else 0.0


def share(labels: np.ndarray, ids) -> float:
    """Mean share of each image's pixels that are among `ids`."""
    return float(_isin(labels, ids).mean())


def score_kind(kind: str, drawn: np.ndarray, parsed: np.ndarray) -> dict:
    """drawn: [N,H,W] layouts; parsed: [N,S,H,W] the outputs' labels (the same size). The kind's own
    measure of what was drawn and of what came out."""
    n, s = parsed.shape[:2]
    rep = np.repeat(drawn, s, 0)
    flat = parsed.reshape(n * s, *parsed.shape[2:])
    W = drawn.shape[-1]
    if kind == "wide":
        d = np.mean([face_width(m) for m in drawn]) / W
        o = np.mean([face_width(m) for m in flat]) / W
        return {"measure": "face width (share of the image width)", "drawn": d, "out": o}
    if kind in ("ears", "hat"):
        ids = [L_EAR, R_EAR] if kind == "ears" else [HAT]
        return {"measure": f"{'ear' if kind == 'ears' else 'hat'} area share", "drawn": share(drawn, ids),
                "out": share(flat, ids), "iou": pooled_iou(flat, rep, ids)}
    if kind == "no-hair":
        return {"measure": "hair area share", "drawn": share(drawn, [HAIR]), "out": share(flat, [HAIR])}
    raise ValueError(kind)


def score(drawn: np.ndarray, parsed: np.ndarray, per_kind: int, unchanged_drawn: np.ndarray, unchanged_parsed: np.ndarray) -> dict:
    """Every kind scored on its layouts (kind-major, `per_kind` each), beside the same measure on the
    unchanged layouts they were made from and those layouts' own outputs."""
    rows = {}
    for j, kind in enumerate(KINDS):
        sl = slice(j * per_kind, (j + 1) * per_kind)
        rows[kind] = {**score_kind(kind, drawn[sl], parsed[sl]), "unchanged": score_kind(kind, unchanged_drawn, unchanged_parsed)}
    return rows


def as_tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x)).long()
