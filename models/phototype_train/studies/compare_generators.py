"""Compare generator checkpoints trained for the same wall time: a realism measure without Inception.

Fréchet distance and precision/recall in the face parser's feature space (its deepest encoder map,
average-pooled) between generated samples and the real training images. This is NOT FID: the
feature extractor is the run's own parser, so only compare numbers made with the same parser.
Also FD in the MobileNetV2 space of the realism metric: a projected discriminator trains against
those very features, so there it can look better than it is; read the parser column first.

  .venv/bin/python -m phototype_train study compare-generators --config faces64 runs/compare/stylegan2.pt runs/compare/fastgan.pt
"""
import argparse
import json

import torch

from phototype_train.common import data_root, run_dir, run_main, save_image_grid, set_threads
from phototype_train.config import Config
from phototype_train.data.dataset import load_split, to_float, training_images
from phototype_train.evaluation import mobilenet_features
from phototype_train.evaluation.metrics import frechet_distance, precision_recall
from phototype_train.sampling import latents, load_generator, synthesize
from phototype_train.stages.parser import load_parser


@torch.no_grad()
def parser_features(parser, images_float, batch=100):
    return torch.cat([parser.net.features(images_float[i:i + batch]) for i in range(0, len(images_float), batch)]).numpy()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--config", default="faces64")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--psi", type=float, default=1.0)
    ap.add_argument("--grid", help="also write a PNG: 16 samples per checkpoint, one pair of rows each, in order")
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    set_threads()
    parser, _ = load_parser(run_dir(cfg) / "parser.pt")
    res = cfg.generator.resolution
    real = parser_features(parser, to_float(training_images(data_root(cfg), res)))
    test, _, _ = load_split(data_root(cfg), "test", res, with_masks=False, evaluation=True)
    floor = frechet_distance(real, parser_features(parser, to_float(test)))
    train_float = to_float(training_images(data_root(cfg), res))
    real_m = mobilenet_features.features(train_float)
    rows = {"real_train_vs_real_test": {"fd": round(floor, 3),
                                        "fd_mobilenet": round(frechet_distance(real_m, mobilenet_features.features(to_float(test))), 3)}}
    shown = []
    for path in args.checkpoints:
        G, st = load_generator(path)
        _, _, rgb = synthesize(G, latents(args.samples, G.z_dim, 2024), args.psi)
        shown.append(rgb[:16])
        fake = parser_features(parser, rgb)
        p, r = precision_recall(real, fake)
        rows[path] = {"arch": st["gcfg"].get("arch"), "d_arch": st["gcfg"].get("d_arch", "resnet"), "images_seen": st["seen"],
                      "minutes": round(st["seconds"] / 60, 1), "fd": round(frechet_distance(real, fake), 3), "precision": round(p, 3),
                      "recall": round(r, 3), "fd_mobilenet": round(frechet_distance(real_m, mobilenet_features.features(rgb)), 3)}
    print(json.dumps(rows, indent=2))
    if args.grid:
        save_image_grid(torch.cat(shown) * 0.5 + 0.5, args.grid, nrow=8)


if __name__ == "__main__":
    run_main(main)
