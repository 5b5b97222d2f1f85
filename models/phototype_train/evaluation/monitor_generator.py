"""Watch a generator: realism, coverage and structure diversity of EMA samples against the training faces.

Realism: Fréchet distance, precision and recall (k=3) in the MobileNetV2 space of the evaluation.
Structure: the committed evaluation parser labels samples and real faces at 128 px; pairwise layout
mIoU (high: every sample has one layout), the spread of part areas and of hair height.
The reference is the training images (train/ + unlabeled/): a training run never looks at test/.

  .venv/bin/python -m phototype_train eval monitor runs/faces128/generator.pt [more.pt ...] [--psi 0.8] [--samples 1000]
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch

from phototype_train.evaluation import eval_parser
from phototype_train.evaluation import mobilenet_features
from phototype_train.data.classes import NAMES, NUM_CLASSES
from phototype_train.common import REPO, UserError, data_root, run_main, save_image_grid, set_threads
from phototype_train.config import Config
from phototype_train.data.dataset import to_float, training_images
from phototype_train.evaluation.metrics import area_spread, frechet_distance, pairwise_layout_miou, precision_recall, vertical_extent
from phototype_train.sampling import latents, load_generator, recalibrate_batchnorm, synthesize

MOUTH = [NAMES.index(n) for n in ("mouth", "u_lip", "l_lip")]
HAIR = NAMES.index("hair")


def structure(labels: torch.Tensor) -> dict:
    """Structure diversity of a set of label maps [N,H,W]: pairwise layout mIoU, mouth-area and
    hair-height spreads, and the mean spread of every part's area."""
    mouth = torch.isin(labels, torch.tensor(MOUTH)).flatten(1).double().mean(1)
    return {"pairwise_miou": pairwise_layout_miou(labels, NUM_CLASSES),
            "mouth_area_sd": float(mouth.std(unbiased=False)),
            "hair_height_sd": float(vertical_extent(labels, HAIR).std()),
            "part_area_sd": float(area_spread(labels, NUM_CLASSES).mean())}


class Reference:
    """The training faces' features and structure, computed once per resolution and cached in .cache/
    (keyed by the evaluation parser's sha256, so a new parser recomputes it)."""

    def __init__(self, cfg, parser):
        res = cfg.generator.resolution
        path = REPO / ".cache" / f"monitor-reference-{res}-{parser.sha256[:12]}.npz"
        path.parent.mkdir(exist_ok=True)
        if path.is_file():
            z = np.load(path, allow_pickle=False)
            self.feats, self.structure = z["feats"], json.loads(str(z["structure"]))
        else:
            real = to_float(training_images(data_root(cfg), res))
            self.feats = mobilenet_features.features(real)
            self.structure = structure(parser.labels(real))
            np.savez(path, feats=self.feats, structure=json.dumps(self.structure))


@torch.no_grad()
def measure(G, ref: Reference, parser, samples: int = 1000, psi: float = 1.0, seed: int = 2024, recalibrate=True) -> dict:
    """Every monitor number for the generator G (BatchNorm statistics recalibrated first, unless told not to)."""
    if recalibrate:
        recalibrate_batchnorm(G, G.z_dim)
    _, _, rgb = synthesize(G, latents(samples, G.z_dim, seed), psi)
    fake = mobilenet_features.features(rgb)
    p, r = precision_recall(ref.feats, fake)
    st = structure(parser.labels(rgb))
    return {"fd_mobilenet": frechet_distance(ref.feats, fake), "precision": p, "recall": r, **st,
            "recalibrated": recalibrate, "real": ref.structure}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--config", default="faces128")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--psi", type=float, nargs="+", help="truncations to measure (default: the config's)")
    ap.add_argument("--grid", help="also write a PNG: 16 fixed-latent samples per checkpoint, two rows each")
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--grid-only", action="store_true", help="only write --grid (no measurement)")
    ap.add_argument("--no-recalibrate", action="store_true", help="keep the checkpoint's BatchNorm statistics (as the old recipe sampled)")
    args = ap.parse_args(argv)
    if args.grid_only and not args.grid:
        raise UserError("--grid-only needs --grid FILE")
    cfg = Config.load(args.config)
    set_threads()
    parser = None if args.grid_only else eval_parser.load()
    ref = None if args.grid_only else Reference(cfg, parser)
    rows, shown = [], []
    for path in args.checkpoints:
        G, st = load_generator(path)
        if not args.no_recalibrate:
            recalibrate_batchnorm(G, G.z_dim)
        for psi in [] if args.grid_only else args.psi or [cfg.gan.truncation]:
            row = {"checkpoint": path, "psi": psi, "images_seen": st["seen"], "minutes": round(st["seconds"] / 60, 1),
                   **measure(G, ref, parser, args.samples, psi, recalibrate=not args.no_recalibrate)}
            rows.append(row)
            print(json.dumps(row), flush=True)
        _, _, rgb = synthesize(G, latents(16, G.z_dim, 1234), args.psi[0] if args.psi else cfg.gan.truncation)
        shown.append(rgb)
    if args.grid:
        save_image_grid(torch.cat(shown) * 0.5 + 0.5, args.grid, nrow=8)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    run_main(main)
