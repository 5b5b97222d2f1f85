"""The evaluation's second layout set: test masks redrawn as a designer would draw them in Figma.

Each part becomes one flat, simple shape: small parts (eyes, nose, mouth, lips, ears, earrings,
brows) a filled ellipse fitted to the part, large parts (face, hair, hat, neck, clothes, glasses)
a coarse polygon of the outline (the face its convex hull, an oval), fine detail dropped, and thin
parts thickened to a width a pen stroke would have. Shapes are stacked back to front as layers.

Deliberately not the simplifier the mappers train on (conditions.simplify_mask: random polygon
tolerances and hulls): this set tests shapes the mappers never saw in that form.

  .venv/bin/python -m phototype_train data designer-shapes OUT_DIR [--data DIR] [--masks 100]
writes OUT_DIR/ID.png (class ids, 256 px) and OUT_DIR/preview.png (palette colours).
"""
import argparse
from pathlib import Path

import cv2
import numpy as np

from phototype_train.data.classes import NAMES

# Back to front, as a designer stacks layers: hair behind the face, eyes on the face, hat on top.
LAYERS = ("cloth", "neck", "neck_l", "hair", "l_ear", "r_ear", "skin", "eye_g", "nose", "l_brow", "r_brow",
          "l_eye", "r_eye", "mouth", "u_lip", "l_lip", "hat", "ear_r")
ELLIPSES = {"l_eye", "r_eye", "nose", "mouth", "u_lip", "l_lip", "l_ear", "r_ear", "ear_r", "l_brow", "r_brow"}
HULLS = {"skin"}
MIN_AREA = 1e-3    # of the image: smaller bits are detail a designer would not draw
MIN_WIDTH = 1 / 32  # of the image (8 px at 256, 2 px at 64): a thin part is drawn at least this wide
POLY_EPS = 0.012    # polygon tolerance, of the contour's perimeter: a few corners, no wiggles


def _ellipse(cnt, shape, min_axis):
    """The ellipse with the part's area, centre and second moments (robust where fitEllipse,
    a least-squares fit to the outline, blows up on crescents such as a lower lip)."""
    region = np.zeros(shape, np.uint8)
    cv2.drawContours(region, [cnt], -1, 1, thickness=-1)
    m = cv2.moments(region, binaryImage=True)
    cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
    vals, vecs = np.linalg.eigh(cov)
    # A uniform ellipse with semi-axis a has variance a^2/4 along it: full length 4*sqrt(var).
    minor, major = (max(4 * np.sqrt(max(v, 0)), min_axis) for v in vals)
    ang = float(np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1])))
    return (cx, cy), (major, minor), ang


def designer_shapes(mask: np.ndarray) -> np.ndarray:
    """Exact class mask [H,W] -> the same layout as flat simple shapes (uint8 class ids)."""
    size = mask.shape[0]
    min_area, min_axis = MIN_AREA * size * size, MIN_WIDTH * size
    out = np.zeros(mask.shape, np.uint8)
    for name in LAYERS:
        c = NAMES.index(name)
        region = (mask == c).astype(np.uint8)
        if not region.any():
            continue
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for cnt in sorted(contours, key=cv2.contourArea, reverse=True):
            if cv2.contourArea(cnt) < min_area:
                continue
            if name in ELLIPSES:
                cv2.ellipse(out, _ellipse(cnt, mask.shape, min_axis), int(c), thickness=-1)
                continue
            if name in HULLS:
                cnt = cv2.convexHull(cnt)
            poly = cv2.approxPolyDP(cnt, POLY_EPS * cv2.arcLength(cnt, True), True)
            cv2.fillPoly(out, [poly], int(c))
            # A polygon thinner than a stroke (a strand of hair, a thin frame) is drawn with a pen width.
            cv2.polylines(out, [poly], True, int(c), thickness=max(1, int(round(min_axis / 2))))
    return out


def main(argv=None):
    from PIL import Image

    from phototype_train.data.classes import palette_tensor
    from phototype_train.common import data_root, run_main
    from phototype_train.config import Config
    from phototype_train.data.dataset import read_mask

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--data")
    ap.add_argument("--masks", type=int, default=100)

    def run():
        args = ap.parse_args(argv)
        root = data_root(Config.load("evaluation"), args.data)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        pal = palette_tensor().numpy()
        tiles, n = [], 0
        for p in sorted((root / "test" / "masks").glob("*.png"))[: args.masks]:
            d = designer_shapes(read_mask(p).astype(np.uint8))
            Image.fromarray(d).save(out / p.name)
            n += 1
            if len(tiles) < 16:
                tiles.append(np.concatenate([pal[read_mask(p)], pal[d]], 1))
        if tiles:
            Image.fromarray(np.concatenate(tiles[:8], 0)).resize((256, 512), Image.NEAREST).save(out / "preview.png")
        print(f"wrote designer shapes for {n} test masks to {out}")

    run_main(run)


if __name__ == "__main__":
    main()
