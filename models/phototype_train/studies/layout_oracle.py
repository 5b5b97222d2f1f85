"""How well a run's proxy + rearranger can follow a layout the generator can make (the oracle).

Held-out sample pairs (a, b): a's features moved into b's layout, g2 renders them with a's style,
and the fixed evaluation parser (which no training term sees) compares the result with b's own
image. Targets:
- true proxy: b's proxy mask (what a perfect mapper would give);
- drawn parts (part-aware proxies only): b's image parsed by the run's parser, each cell given its
  drawn part's cluster, as a mask mapper that follows the drawing does (cells whose part owns no
  cluster keep b's proxy);
- off-habit drawn parts (part-aware proxies only): the same drawing made wider or narrower, shifted,
  without hair or with more, or with ears, hats and glasses of other samples pasted in
  (data/layout_augment.py), judged against b's evaluation-parser classes changed the same way;
- unmoved: a's own image, the layout-ignoring reference.
Reports mIoU over the pairs (one confusion matrix) and per-part IoU. Writes JSON with --out.

  .venv/bin/python -m phototype_train study layout-oracle --config faces128 --run-dir runs/study23
"""
import argparse
import json
from pathlib import Path

import torch

from phototype_train.common import run_dir, run_main, set_threads
from phototype_train.config import Config
from phototype_train.data.classes import NAMES, NUM_CLASSES, side_merge_lut
from phototype_train.data.dataset import downsample_mask
from phototype_train.data.layout_augment import DonorPool, PartIds, off_habit
from phototype_train.evaluation import eval_parser
from phototype_train.evaluation.metrics import confusion, miou
from phototype_train.networks.proxy import PartProxyAssign
from phototype_train.sampling import latents, load_generator
from phototype_train.stages.proxy import load_proxy, proxy_parser
from phototype_train.stages.rearranger import load_rearranger

SEED_A, SEED_B = 606_000, 707_000
SHOWN = ("skin", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear", "nose", "mouth", "u_lip", "l_lip", "hair", "hat")


def drawn_target(proxy: PartProxyAssign, parsed, fallback, merged):
    """Each cell's cluster from the drawn part (majority of its pixels); fallback where that part owns none."""
    lut = torch.tensor(side_merge_lut() if merged else list(range(NUM_CLASSES)))
    parts = downsample_mask(lut[parsed], fallback.shape[-1])
    cluster_of_part = torch.full((NUM_CLASSES,), -1, dtype=torch.long)
    for j, p in enumerate(proxy.centroid_part.tolist()):
        if cluster_of_part[p] < 0:  # the part's first cluster (one per part in the configs that use this)
            cluster_of_part[p] = j
    target = cluster_of_part[parts]
    return torch.where(target >= 0, target, fallback)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="faces128")
    ap.add_argument("--run-dir")
    ap.add_argument("--pairs", type=int, default=256)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    set_threads()
    run = run_dir(cfg, args.run_dir)
    G, gst = load_generator(run / "generator.pt")
    proxy, pst = load_proxy(run / "proxy.pt")
    R, _ = load_rearranger(run / "rearranger.pt")
    judge = eval_parser.load()
    parts = isinstance(proxy, PartProxyAssign)
    parser = proxy_parser(cfg.proxy, run, pst) if parts else None
    psi = cfg.gan.truncation
    conf = {name: torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.long)
            for name in ("unmoved", "true proxy", "drawn parts", "off-habit drawn parts", "off-habit unmoved")}
    lent = tuple(NAMES.index(n) for n in ("l_ear", "r_ear", "hat", "eye_g", "ear_r"))
    ids = [PartIds(0, NAMES.index("hair"), lent)] * 2
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        donors = None
        if parts:
            pool = [[], []]
            for z in latents(512, G.z_dim, SEED_B + 1).split(64):
                img = G.g2(*G.g1(G.mapping(z, psi))).clamp(-1, 1)
                pool[0].append(parser(img).argmax(1))
                pool[1].append(judge.labels(img))
            donors = DonorPool([torch.cat(m) for m in pool], ids, min_share=0.005)
            print(f"{len(donors)} of 512 samples lend ears, hats, glasses or earrings", flush=True)
        za, zb = latents(args.pairs, G.z_dim, SEED_A), latents(args.pairs, G.z_dim, SEED_B)
        for i in range(0, args.pairs, 32):
            fa, sa = G.g1(G.mapping(za[i:i + 32], psi))
            fb, sb = G.g1(G.mapping(zb[i:i + 32], psi))
            pa, pb = proxy(fa), proxy(fb)
            img_a, img_b = G.g2(fa, sa).clamp(-1, 1), G.g2(fb, sb).clamp(-1, 1)
            truth = judge.labels(img_b)
            conf["unmoved"] += confusion(judge.labels(img_a), truth, NUM_CLASSES)
            conf["true proxy"] += confusion(judge.labels(G.g2(R(fa, pa, pb), sa).clamp(-1, 1)), truth, NUM_CLASSES)
            if parts:
                merged = pst.get("sides") == "merged"
                drawn = parser(img_b).argmax(1)
                target = drawn_target(proxy, drawn, pb, merged)
                conf["drawn parts"] += confusion(judge.labels(G.g2(R(fa, pa, target), sa).clamp(-1, 1)), truth, NUM_CLASSES)
                drawn, moved_truth = off_habit([drawn, truth], ids, gen, donors, p_stretch=0.7, p_hair=0.5, p_paste=0.5)
                target = drawn_target(proxy, drawn, pb, merged)
                conf["off-habit drawn parts"] += confusion(judge.labels(G.g2(R(fa, pa, target), sa).clamp(-1, 1)), moved_truth, NUM_CLASSES)
                conf["off-habit unmoved"] += confusion(judge.labels(img_a), moved_truth, NUM_CLASSES)
    rows = []
    for name, c in conf.items():
        if c.sum() == 0:
            continue
        m, iou = miou(c)
        rows.append({"target": name, "miou": round(100 * m, 1), "per_part_iou": {NAMES[j]: round(100 * float(v), 1) for j, v in enumerate(iou)}})
        per = rows[-1]["per_part_iou"]
        print(f"{name:12s} mIoU {100 * m:5.1f}  " + " ".join(f"{n} {per[n]}" for n in SHOWN), flush=True)
    out = {"run": str(run), "proxy": pst.get("proxy_kind", "kmeans"), "k": proxy.k, "generator_images_seen": gst.get("seen"),
           "pairs": args.pairs, "psi": psi, "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    run_main(main)
