"""Pictures of a trained run for docs/: samples, proxy masks, rearrangement, mapping.

  .venv/bin/python -m phototype_train study figures --config faces64 --out docs/training

Writes samples.png (8x8 random faces), proxy-masks.png (faces beside their proxy masks),
rearranged.png (sources moved into four other samples' layouts), mapped-masks.png
(train/ face masks -> mapper -> proxy mask -> faces for three seeds). test/ is never used.
"""
import argparse
import colorsys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from phototype_train.data.classes import CLASSES, hex_rgb
from phototype_train.common import REPO, data_root, run_dir, run_main, set_threads
from phototype_train.config import Config
from phototype_train.data.dataset import load_split
from phototype_train.stages.proxy import load_proxy
from phototype_train.sampling import latents, load_generator, synthesize
from phototype_train.stages.mapper import load_mapper
from phototype_train.stages.rearranger import load_rearranger

VIEW = 128  # small images are upscaled to this for viewing (nearest)


def cluster_colors(k):
    return np.array([[int(255 * c) for c in colorsys.hsv_to_rgb((i * 0.618034) % 1, 0.55 + 0.4 * (i % 2), 0.95 - 0.3 * (i % 3 == 0))]
                     for i in range(k)], np.uint8)


def rgb_tile(x: torch.Tensor, size: int) -> np.ndarray:
    img = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    return np.asarray(Image.fromarray(img).resize((size, size), Image.NEAREST))


def label_tile(labels: torch.Tensor, colors: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(colors[labels.numpy()]).resize((size, size), Image.NEAREST))


def grid(rows, pad=2, header=None):
    """rows: list of lists of HxWx3 uint8 tiles (same size)."""
    h, w = rows[0][0].shape[:2]
    top = 14 if header else 0
    ncol = max(len(r) for r in rows)
    out = np.full((top + len(rows) * (h + pad) + pad, ncol * (w + pad) + pad, 3), 255, np.uint8)
    for i, r in enumerate(rows):
        for j, t in enumerate(r):
            y, x = top + pad + i * (h + pad), pad + j * (w + pad)
            out[y:y + h, x:x + w] = t
    im = Image.fromarray(out)
    if header:
        d = ImageDraw.Draw(im)
        for j, text in enumerate(header):
            d.text((pad + j * (w + pad) + 2, 1), text, fill=(0, 0, 0))
    return im


@torch.no_grad()
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--run-dir")
    ap.add_argument("--data")
    ap.add_argument("--out", help="the folder for the pictures (default: docs/training/<the config's pack name>)")
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    set_threads()
    run = run_dir(cfg, args.run_dir)
    out = Path(args.out) if args.out else REPO / "docs" / "training" / (cfg.pack_name or cfg.name)
    out.mkdir(parents=True, exist_ok=True)
    G, _ = load_generator(run / "generator.pt")
    proxy, _ = load_proxy(run / "proxy.pt")
    R, _ = load_rearranger(run / "rearranger.pt")
    mapper, _ = load_mapper(run / "mapper.mask.pt")
    psi = cfg.gan.pack_truncation  # the product's samples
    size = max(G.res, VIEW)
    colors = cluster_colors(proxy.k)
    class_colors = np.array([hex_rgb(c) for _, c in CLASSES], np.uint8)

    f, s, rgb = synthesize(G, latents(64, G.z_dim, 7), psi)
    grid([[rgb_tile(rgb[i * 8 + j], size) for j in range(8)] for i in range(8)]).save(out / "samples.png")

    p = proxy(f)
    rows = [[t for i in range(r * 4, r * 4 + 4) for t in (rgb_tile(rgb[i], size), label_tile(p[i], colors, size))] for r in range(4)]
    grid(rows).save(out / "proxy-masks.png")

    rows = []
    for src in range(4):
        row = [rgb_tile(rgb[src], size), label_tile(p[src], colors, size)]
        for tgt in (10, 11, 12, 13):
            moved = R(f[src:src + 1], p[src:src + 1], p[tgt:tgt + 1])
            row += [label_tile(p[tgt], colors, size), rgb_tile(G.g2(moved, s[src:src + 1])[0], size)]
        rows.append(row)
    grid(rows, header=["source", "its proxy"] + [t for i in range(1, 5) for t in (f"target {i}", "result")]).save(out / "rearranged.png")

    _, masks, _ = load_split(data_root(cfg, args.data), "train", G.res, with_masks=True)
    masks = masks[:6]
    proxies = mapper(masks).argmax(1)
    seeds = latents(3, G.z_dim, 11)
    fs, ss, _ = synthesize(G, seeds, psi, images=False)
    rows = []
    for i in range(len(masks)):
        row = [label_tile(masks[i], class_colors, size), label_tile(proxies[i], colors, size)]
        for j in range(3):
            moved = R(fs[j:j + 1], proxy(fs[j:j + 1]), proxies[i:i + 1])
            row.append(rgb_tile(G.g2(moved, ss[j:j + 1])[0], size))
        rows.append(row)
    grid(rows, header=["train mask", "proxy", "seed A", "seed B", "seed C"]).save(out / "mapped-masks.png")
    print(f"wrote samples.png, proxy-masks.png, rearranged.png, mapped-masks.png to {out}")


if __name__ == "__main__":
    run_main(main)
