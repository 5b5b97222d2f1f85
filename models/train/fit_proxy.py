"""Stage: fit the proxy masks: k-means on normalised g1 features of many random samples.

Features are standardised per channel (over all pixels of all samples), then each pixel's
vector is scaled to unit length, so k-means groups pixels by direction (what part they are),
not by activation strength. A pixel's proxy label is its nearest centroid by cosine.
Cluster purity is measured against the face parser's labels on other (held-out) samples.

  .venv/bin/python models/train/fit_proxy.py --config faces64
"""
import argparse
import time

import torch
from sklearn.cluster import KMeans

from classes import NUM_CLASSES
from common import load_config, load_stage, run_dir, run_main, save_checkpoint, set_threads
from data import downsample_mask
from metrics import purity
from model import ProxyAssign
from sampling import latents, load_generator, synthesize
from train_parser import load_parser

HELDOUT_SEED = 999_000  # seeds for measurement, never used to fit


def load_proxy(path) -> ProxyAssign:
    st = load_stage(path, "proxy")
    return ProxyAssign(st["centroids"], st["mean"], st["std"]), st


@torch.no_grad()
def label(parser, rgb, res):
    """Parser labels of generated images, majority-pooled to the feature map's size."""
    out = torch.cat([parser(rgb[i:i + 64]).argmax(1) for i in range(0, len(rgb), 64)])
    return downsample_mask(out, res)


def fit(cfg, run, samples=None):
    pc = cfg["proxy"]
    G, _ = load_generator(run / "generator.pt")
    n = samples or pc["samples"]
    t0 = time.time()
    z = latents(n, G.z_dim, pc["seed"])
    feats, _, _ = synthesize(G, z, cfg["gan"].get("truncation", 1.0), images=False)
    c = feats.shape[1]
    flat = feats.permute(0, 2, 3, 1).reshape(-1, c)
    mean, std = flat.mean(0), flat.std(0).clamp(min=1e-6)
    unit = torch.nn.functional.normalize((flat - mean) / std, dim=1)
    g = torch.Generator().manual_seed(pc["seed"])
    pick = torch.randperm(len(unit), generator=g)[: pc["fit_pixels"]]
    km = KMeans(n_clusters=pc["k"], n_init=4, random_state=pc["seed"]).fit(unit[pick].numpy())
    proxy = ProxyAssign(torch.from_numpy(km.cluster_centers_), mean, std)
    return proxy, {"fit_seconds": round(time.time() - t0, 1), "samples": n, "pixels": int(len(pick))}


@torch.no_grad()
def measure_purity(G, proxy, parser, psi, n=256):
    z = latents(n, G.z_dim, HELDOUT_SEED)
    feats, _, rgb = synthesize(G, z, psi)
    clusters = proxy(feats)
    labels = label(parser, rgb, feats.shape[-1])
    p = purity(clusters, labels, proxy.k, NUM_CLASSES)
    # Baseline: every pixel in one cluster scores the most frequent class's share.
    base = float(torch.bincount(labels.flatten(), minlength=NUM_CLASSES).max() / labels.numel())
    used = int(torch.unique(clusters).numel())
    return {"cluster_purity": round(p, 4), "purity_one_cluster_baseline": round(base, 4), "clusters_used": used, "heldout_samples": n}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--run-dir")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    set_threads()
    run = run_dir(cfg, args.run_dir)
    proxy, info = fit(cfg, run)
    G, _ = load_generator(run / "generator.pt")
    parser, _ = load_parser(run / "parser.pt")
    info.update(measure_purity(G, proxy, parser, cfg["gan"].get("truncation", 1.0)))
    save_checkpoint(run / "proxy.pt", {"kind": "proxy", "k": proxy.k, "centroids": proxy.centroids, "mean": proxy.mean.flatten(),
                                       "std": proxy.std.flatten(), "metrics": info})
    print(f"proxy: K={proxy.k}, purity {info['cluster_purity']:.3f} (one-cluster baseline {info['purity_one_cluster_baseline']:.3f}), "
          f"{info['clusters_used']} clusters used, fitted in {info['fit_seconds']}s")


if __name__ == "__main__":
    run_main(main)
