"""Stage: fit the proxy masks: k-means on normalised g1 features of many random samples.

Features are standardised per channel (over all pixels of all samples; with "normalise": "sample"
first within each sample, so a sample's overall appearance cannot pick its clusters), then each
pixel's vector is scaled to unit length, so k-means groups pixels by direction (what part they are),
not by activation strength. A pixel's proxy label is its nearest centroid by cosine.
Cluster purity is measured against the face parser's labels on other (held-out) samples.

  .venv/bin/python -m phototype_train proxy --config faces64
"""
import time

import torch
from sklearn.cluster import KMeans

from phototype_train.data.classes import NUM_CLASSES
from phototype_train.common import load_stage, run_dir, run_main, save_checkpoint, set_threads, stage_args
from phototype_train.config import stage_config
from phototype_train.data.dataset import downsample_mask
from phototype_train.evaluation.metrics import conditional_entropy, missing_cluster_rate, purity
from phototype_train.networks.proxy import ProxyAssign, per_sample_standardise
from phototype_train.sampling import latents, load_generator, synthesize
from phototype_train.stages.parser import load_parser

HELDOUT_SEED = 999_000  # seeds for measurement, never used to fit


def load_proxy(path) -> ProxyAssign:
    st = load_stage(path, "proxy")
    extra = {"per_sample": st.get("normalise") == "sample", "raw_mean": st.get("raw_mean"), "raw_std": st.get("raw_std")}
    return ProxyAssign(st["centroids"], st["mean"], st["std"], **extra), st


@torch.no_grad()
def label(parser, rgb, res):
    """Parser labels of generated images, majority-pooled to the feature map's size."""
    out = torch.cat([parser(rgb[i:i + 64]).argmax(1) for i in range(0, len(rgb), 64)])
    return downsample_mask(out, res)


def fit_features(feats, k, normalise, seed, fit_pixels, n_init=4):
    """k-means (cosine) on F's pixels; `normalise` is "global" or "sample" (see ProxyAssign)."""
    c = feats.shape[1]
    raw = feats.permute(0, 2, 3, 1).reshape(-1, c)
    prepared = per_sample_standardise(feats) if normalise == "sample" else feats
    flat = prepared.permute(0, 2, 3, 1).reshape(-1, c)
    mean, std = flat.mean(0), flat.std(0).clamp(min=1e-6)
    unit = torch.nn.functional.normalize((flat - mean) / std, dim=1)
    g = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(unit), generator=g)[:fit_pixels]
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(unit[pick].numpy())
    return ProxyAssign(torch.from_numpy(km.cluster_centers_), mean, std, per_sample=normalise == "sample",
                       raw_mean=raw.mean(0), raw_std=raw.std(0).clamp(min=1e-6))


def fit(cfg, run, samples=None):
    pc = cfg.proxy
    G, _ = load_generator(run / "generator.pt")
    n = samples or pc.samples
    t0 = time.time()
    z = latents(n, G.z_dim, pc.seed)
    feats, _, _ = synthesize(G, z, cfg.gan.truncation, images=False)
    proxy = fit_features(feats, pc.k, pc.normalise, pc.seed, pc.fit_pixels)
    return proxy, {"fit_seconds": round(time.time() - t0, 1), "samples": n, "pixels": min(pc.fit_pixels, feats[:, 0].numel())}


def brightness_tertile(rgb, res):
    """Each sample's mean brightness in thirds of the batch (0 dark .. 2 bright), per feature cell."""
    lum = rgb.mean((1, 2, 3))
    cuts = torch.quantile(lum, torch.tensor([1 / 3, 2 / 3]))
    t = torch.bucketize(lum, cuts)
    return t.view(-1, 1, 1).expand(-1, res, res)


def structure(clusters, labels, rgb, k):
    """What a proxy clustering encodes: parts (want) or appearance (don't), and whether a random
    source sample has the clusters a random target layout asks for."""
    tert = brightness_tertile(rgb, clusters.shape[-1])
    h = conditional_entropy(clusters, torch.zeros_like(clusters))
    src, tgt = clusters, clusters.roll(1, 0)  # sample i's layout asked of sample i-1
    return {
        "cluster_purity": round(purity(clusters, labels, k, NUM_CLASSES), 4),
        "entropy_bits": round(h, 3),
        "entropy_given_part_bits": round(conditional_entropy(clusters, labels), 3),
        "entropy_given_brightness_bits": round(conditional_entropy(clusters, tert), 3),
        "part_entropy_given_cluster_bits": round(conditional_entropy(labels, clusters), 3),
        "missing_cluster_rate": round(missing_cluster_rate(src, tgt, k), 4),
        "clusters_per_sample": round(float(torch.tensor([len(torch.unique(c)) for c in clusters]).float().mean()), 2),
    }


@torch.no_grad()
def heldout(G, parser, psi, n=256):
    z = latents(n, G.z_dim, HELDOUT_SEED)
    feats, _, rgb = synthesize(G, z, psi)
    return feats, rgb, label(parser, rgb, feats.shape[-1])


@torch.no_grad()
def measure_purity(G, proxy, parser, psi, n=256, held=None):
    feats, rgb, labels = held or heldout(G, parser, psi, n)
    clusters = proxy(feats)
    # Baseline: every pixel in one cluster scores the most frequent class's share.
    base = float(torch.bincount(labels.flatten(), minlength=NUM_CLASSES).max() / labels.numel())
    used = int(torch.unique(clusters).numel())
    return {**structure(clusters, labels, rgb, proxy.k), "purity_one_cluster_baseline": round(base, 4),
            "clusters_used": used, "heldout_samples": len(feats)}


def proxy_state(proxy, normalise, info):
    return {"kind": "proxy", "k": proxy.k, "normalise": normalise, "centroids": proxy.centroids, "mean": proxy.mean.flatten(),
            "std": proxy.std.flatten(), "raw_mean": proxy.raw_mean.flatten(), "raw_std": proxy.raw_std.flatten(), "metrics": info}


def main(argv=None):
    args = stage_args(__doc__, "proxy", data=False, steps=False, restart=False).parse_args(argv)
    cfg, pc = stage_config(args, "proxy")
    set_threads()
    run = run_dir(cfg, args.run_dir)
    proxy, info = fit(cfg, run)
    G, _ = load_generator(run / "generator.pt")
    parser, _ = load_parser(run / "parser.pt")
    info.update(measure_purity(G, proxy, parser, cfg.gan.truncation))
    save_checkpoint(run / "proxy.pt", proxy_state(proxy, pc.normalise, info))
    print(f"proxy: K={proxy.k}, purity {info['cluster_purity']:.3f} (one-cluster baseline {info['purity_one_cluster_baseline']:.3f}), "
          f"H(cluster|part) {info['entropy_given_part_bits']} of {info['entropy_bits']} bits, H(cluster|brightness) "
          f"{info['entropy_given_brightness_bits']}, target cells whose cluster the source lacks {info['missing_cluster_rate']:.1%}, "
          f"{info['clusters_used']} clusters used, fitted in {info['fit_seconds']}s")


if __name__ == "__main__":
    run_main(main)
