import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from classes import CLASSES, hex_rgb  # noqa: E402


def _face(rng, size=64):
    """A crude synthetic face: hair, skin oval, eyes, brows, lips; image = palette colours + noise."""
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


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """A celebamask-mini-shaped folder of synthetic faces (the real data is not needed to test the code)."""
    root = tmp_path_factory.mktemp("data") / "celebamask-mini"
    rng = np.random.default_rng(0)
    for split, n, masks in (("train", 60, True), ("unlabeled", 8, False), ("test", 8, True)):
        (root / split / "images").mkdir(parents=True)
        if masks:
            (root / split / "masks").mkdir()
        for i in range(n):
            img, m = _face(rng)
            Image.fromarray(img).save(root / split / "images" / f"{split}{i:03d}.jpg", quality=95)
            if masks:
                Image.fromarray(m).save(root / split / "masks" / f"{split}{i:03d}.png")
    return root


@pytest.fixture(scope="session")
def tiny_run(dataset, tmp_path_factory):
    """Every stage of the tiny config, end to end, in a temporary run folder."""
    import fit_proxy
    import train_generator
    import train_mapper
    import train_parser
    import train_rearranger

    run = tmp_path_factory.mktemp("run")
    common = ["--config", "tiny", "--run-dir", str(run)]
    train_parser.main(common + ["--data", str(dataset)])
    train_generator.main(common + ["--data", str(dataset), "--steps", "8"])
    fit_proxy.main(common)
    train_rearranger.main(common + ["--steps", "4"])
    train_mapper.main(common + ["--steps", "4"])
    return run
