"""Can a proxy mask name every face part? Read-outs of parts from each candidate representation.

For each representation of a generated sample's layout at the F grid (32 x 32), fitted on one set of
samples and measured on held-out ones, labelled by a parser (a run's parser.pt or a pack's
parser.onnx, never the evaluation parser):
- the part read-out: parts predicted from the representation alone, held-out mIoU and per-part IoU
  (position: each cell's most common part; a clustering: each cluster's most common part; F: a
  linear head on standardised F);
- which parts own a cluster (some cluster's most common part is that part);
- how often a target layout asks for a cluster its source sample lacks.
Writes runs/<config>/proxy_parts.json (or --out) and prints a table.

  .venv/bin/python -m phototype_train study proxy-parts --config faces128 --parser models/packs/faces-128/parser.onnx
"""
import argparse
import json
import time
from pathlib import Path

import torch

from phototype_train.common import run_dir, run_main, set_threads
from phototype_train.config import Config
from phototype_train.data.classes import NAMES, NUM_CLASSES, sides_merged
from phototype_train.evaluation.metrics import confusion, miou, missing_cluster_rate
from phototype_train.networks.proxy import per_sample_standardise
from phototype_train.sampling import latents, load_generator, synthesize
from phototype_train.stages.parser import load_parser
from phototype_train.stages.proxy import HELDOUT_SEED, fit_features, fit_part_features, label, part_head


def majority_table(groups, labels, k):
    """[k] most common label per group id (groups never seen: background, 0)."""
    table = torch.bincount(groups.flatten() * NUM_CLASSES + labels.flatten(), minlength=k * NUM_CLASSES).view(k, NUM_CLASSES)
    return table.argmax(1)


def readout(pred, labels):
    m, iou = miou(confusion(pred, labels, NUM_CLASSES))
    return round(100 * m, 1), {NAMES[i]: round(100 * float(v), 1) for i, v in enumerate(iou)}


def owned_parts(clusters, labels, k):
    return sorted({NAMES[int(p)] for p in majority_table(clusters, labels, k)[torch.bincount(clusters.flatten(), minlength=k) > 0]})


def standardised(feats, normalise, other):
    """Both sets standardised per channel with the first set's statistics (after within-sample
    standardisation when normalise is "sample")."""
    prep = (lambda f: per_sample_standardise(f)) if normalise == "sample" else (lambda f: f)
    a, b = prep(feats), prep(other)
    mean, std = a.mean((0, 2, 3), keepdim=True), a.std((0, 2, 3), keepdim=True).clamp(min=1e-6)
    return (a - mean) / std, (b - mean) / std


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="faces128")
    ap.add_argument("--run-dir")
    ap.add_argument("--generator", help="generator checkpoint (default: the run's generator.pt)")
    ap.add_argument("--parser", help="parser.pt or a pack's parser.onnx (default: the run's parser.pt)")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--heldout", type=int, default=256)
    ap.add_argument("--kmeans", type=int, nargs="+", default=[16, 48])
    ap.add_argument("--heads", type=int, nargs="+", default=[0, 64], help="part heads: 0 linear, N a 3x3 conv of N channels first")
    ap.add_argument("--sides", choices=["kept", "merged"], default="kept", help="merged: l_/r_ eye, brow, ear as one part each")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    set_threads()
    run = run_dir(cfg, args.run_dir)
    G, gst = load_generator(args.generator or run / "generator.pt")
    parser, _ = load_parser(args.parser or run / "parser.pt")
    psi, seed, pixels = cfg.gan.truncation, cfg.proxy.seed, cfg.proxy.fit_pixels
    t0 = time.time()
    feats, _, rgb = synthesize(G, latents(args.samples, G.z_dim, seed), psi)
    merge = sides_merged if args.sides == "merged" else (lambda t: t)
    labels = merge(label(parser, rgb, feats.shape[-1]))
    del rgb
    hfeats, _, hrgb = synthesize(G, latents(args.heldout, G.z_dim, HELDOUT_SEED), psi)
    hlabels = merge(label(parser, hrgb, hfeats.shape[-1]))
    print(f"{args.samples} + {args.heldout} samples labelled in {time.time() - t0:.0f}s", flush=True)
    rows = []

    def add(name, pred, clusters=None, k=None, extra=None):
        m, per = readout(pred, hlabels)
        row = {"representation": name, "readout_miou": m, "per_part_iou": per, **(extra or {})}
        if clusters is not None:
            row["parts_owning_a_cluster"] = owned_parts(clusters, hlabels, k)
            row["source_lacks_cluster"] = round(missing_cluster_rate(clusters, clusters.roll(1, 0), k), 4)
            row["k"] = k
        rows.append(row)
        owned = f"  owns {len(row.get('parts_owning_a_cluster', []))} parts" if clusters is not None else ""
        print(f"{name:34s} read-out mIoU {m:5.1f}{owned}  eye {per['l_eye']}/{per['r_eye']} brow {per['l_brow']}/{per['r_brow']} "
              f"ear {per['l_ear']}/{per['r_ear']} mouth {per['mouth']} u_lip {per['u_lip']} hat {per['hat']}", flush=True)

    n, h, w = labels.shape
    cells = torch.arange(h * w).view(1, h, w)
    add("cell position alone", majority_table(cells.expand(n, -1, -1), labels, h * w)[cells.expand(len(hlabels), -1, -1)])
    for norm in ("global", "sample"):
        for hidden in args.heads:
            x, hx = standardised(feats, norm, hfeats)
            head = part_head(x, labels, NUM_CLASSES, seed, hidden)
            with torch.no_grad():
                pred = head(hx).argmax(1)
            add(f"F, {'linear' if not hidden else f'conv {hidden}'} head ({norm})", pred)
    for k in args.kmeans:
        proxy = fit_features(feats, k, "sample", seed, pixels, n_init=2)
        clusters, hclusters = proxy(feats), proxy(hfeats)
        add(f"k-means K={k} (within-sample)", majority_table(clusters, labels, k)[hclusters], hclusters, k)
    for norm in ("global", "sample"):
        for hidden in args.heads:
            for rule_name, rule in (("1 per part", ((0.0, 1),)), ("1-3 per part", ((0.10, 3), (0.03, 2), (0.0, 1)))):
                t1 = time.time()
                proxy = fit_part_features(feats, labels, norm, seed, pixels, rule, n_init=2, hidden=hidden)
                hclusters = proxy(hfeats)
                add(f"parts, {rule_name}, {'linear' if not hidden else f'conv {hidden}'} ({norm})", proxy.centroid_part[hclusters],
                    hclusters, proxy.k, {"fit_seconds": round(time.time() - t1, 1),
                                         "parts_with_clusters": sorted({NAMES[int(p)] for p in proxy.centroid_part})})
    out = Path(args.out) if args.out else run / "proxy_parts.json"
    out.write_text(json.dumps({"generator_images_seen": gst.get("seen"), "fit_samples": args.samples, "sides": args.sides,
                               "heldout_samples": args.heldout, "psi": psi, "rows": rows}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    run_main(main)
