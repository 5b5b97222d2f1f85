"""A celebamask-mini-shaped folder of synthetic faces, for tests that must not need the real data.

  .venv/bin/python -m phototype_train data synthetic OUT_DIR [--train 60]
"""
import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from phototype_train.data.classes import CLASSES, hex_rgb


def face(rng, size=64):
    """A crude face: hair, skin oval, eyes, brows, nose, lips; image = palette colours + noise."""
    yy, xx = np.mgrid[:size, :size] / size
    cx, cy = 0.5 + rng.uniform(-0.05, 0.05), 0.52 + rng.uniform(-0.05, 0.05)
    m = np.zeros((size, size), np.uint8)
    m[(yy > 0.85)] = 18
    m[((xx - cx) ** 2 / 0.16 + (yy - cy + 0.08) ** 2 / 0.2) < 1] = 13
    m[((xx - cx) ** 2 / 0.08 + (yy - cy) ** 2 / 0.13) < 1] = 1
    for side, cls, brow in ((-1, 5, 7), (1, 4, 6)):
        ex = cx + side * 0.12
        m[((xx - ex) ** 2 / 0.003 + (yy - cy + 0.05) ** 2 / 0.001) < 1] = cls
        m[(abs(xx - ex) < 0.07) & (abs(yy - cy + 0.12) < 0.015)] = brow
    m[(abs(xx - cx) < 0.03) & (abs(yy - cy - 0.04) < 0.05)] = 2
    m[(abs(xx - cx) < 0.09) & (abs(yy - cy - 0.16) < 0.015)] = 11
    m[(abs(xx - cx) < 0.09) & (abs(yy - cy - 0.19) < 0.015)] = 12
    pal = np.array([hex_rgb(c) for _, c in CLASSES], np.float32)
    img = pal[m] + rng.normal(0, 12, (size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8), m


def write_dataset(root: Path, train=60, unlabeled=8, test=8, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    for split, n, masks in (("train", train, True), ("unlabeled", unlabeled, False), ("test", test, True)):
        (root / split / "images").mkdir(parents=True, exist_ok=True)
        if masks:
            (root / split / "masks").mkdir(exist_ok=True)
        for i in range(n):
            img, m = face(rng)
            Image.fromarray(img).save(root / split / "images" / f"{split}{i:03d}.jpg", quality=95)
            if masks:
                Image.fromarray(m).save(root / split / "masks" / f"{split}{i:03d}.png")
    return root


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=60)
    a = ap.parse_args(argv)
    print(write_dataset(Path(a.out), train=a.train))


if __name__ == "__main__":
    main()
