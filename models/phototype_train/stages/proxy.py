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

from phototype_train.data.classes import NUM_CLASSES, sides_merged
from phototype_train.common import REPO, load_stage, run_dir, run_main, save_checkpoint, set_threads, stage_args
from phototype_train.config import stage_config
from phototype_train.data.dataset import downsample_mask
from phototype_train.evaluation.metrics import conditional_entropy, missing_cluster_rate, purity
from phototype_train.networks.proxy import PartProxyAssign, ProxyAssign, part_head_module, per_sample_standardise
from phototype_train.sampling import latents, load_generator, synthesize
from phototype_train.stages.parser import load_parser

HELDOUT_SEED = 999_000  # seeds for measurement, never used to fit


def load_proxy(path) -> ProxyAssign:
    st = load_stage(path, "proxy")
    if st.get("proxy_kind") == "parts":
        head = part_head_module(st["mean"].numel(), st["parts"], st["head_hidden"])
        head.load_state_dict(st["head"])
        return PartProxyAssign(st["centroids"], st["mean"], st["std"], head, st["centroid_part"], per_sample=st.get("normalise") == "sample",
                               raw_mean=st["raw_mean"], raw_std=st["raw_std"]), st
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


def part_head(x, labels, parts, seed, hidden=0, steps=None):
    """Fit the part head (networks/proxy.py::part_head_module) on standardised F [N,C,H,W] ->
    part labels [N,H,W] by cross-entropy. Parts weighted by 1/sqrt(frequency), so eyes and brows
    count without letting a part seen a dozen times dominate. Linear: full-batch L-BFGS on a
    subset of cells; conv: Adam on whole maps."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    freq = torch.bincount(labels.flatten(), minlength=parts).float()
    weight = torch.where(freq > 0, (freq.sum() / freq.clamp(min=1)).sqrt(), torch.zeros_like(freq))
    weight = weight / (weight[labels.flatten()].mean())
    head = part_head_module(x.shape[1], parts, hidden)
    loss_of = lambda xb, yb: torch.nn.functional.cross_entropy(head(xb), yb, weight=weight)  # noqa: E731
    with torch.enable_grad():
        if not hidden:
            flat_x = x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
            pick = torch.randperm(len(flat_x), generator=g)[:400_000]
            xb, yb = flat_x[pick][:, :, None, None], labels.flatten()[pick][:, None, None]
            opt = torch.optim.LBFGS(head.parameters(), lr=1, max_iter=steps or 60, history_size=20, line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                loss = loss_of(xb, yb) + 1e-4 * head.weight.square().sum()
                loss.backward()
                return loss
            opt.step(closure)
        else:
            opt = torch.optim.Adam(head.parameters(), lr=3e-3, weight_decay=1e-5)
            for _ in range(steps or 1500):
                i = torch.randint(len(x), (32,), generator=g)
                opt.zero_grad()
                loss_of(x[i], labels[i]).backward()
                opt.step()
    return head.eval().requires_grad_(False)


def variants_per_part(counts, rule=((0.10, 3), (0.03, 2), (0.0, 1)), min_cells=50):
    """How many clusters each part owns from its cell count: big parts keep appearance variants
    apart (light/dark hair), small ones get one; a part seen in fewer than `min_cells` cells none."""
    total = max(int(counts.sum()), 1)
    out = []
    for c in counts.tolist():
        share = c / total
        out.append(0 if c < min_cells else next(m for floor, m in rule if share >= floor))
    return out


def fit_part_features(feats, labels, normalise, seed, fit_pixels, rule=((0.10, 3), (0.03, 2), (0.0, 1)), n_init=4, hidden=0,
                      parts=NUM_CLASSES):
    """The part-aware proxy (PartProxyAssign): a part head fitted on F -> parser labels, then
    k-means (cosine) within each part's cells as the head names them."""
    c = feats.shape[1]
    raw = feats.permute(0, 2, 3, 1).reshape(-1, c)
    prepared = per_sample_standardise(feats) if normalise == "sample" else feats
    mean = prepared.mean((0, 2, 3))
    std = prepared.std((0, 2, 3)).clamp(min=1e-6)
    xmap = (prepared - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    head = part_head(xmap, labels, parts, seed, hidden)
    with torch.no_grad():
        named = torch.cat([head(xmap[i:i + 256]).argmax(1) for i in range(0, len(xmap), 256)]).flatten()
    counts = torch.bincount(named, minlength=parts)
    unit = torch.nn.functional.normalize(xmap.permute(0, 2, 3, 1).reshape(-1, c), dim=1)
    g = torch.Generator().manual_seed(seed)
    centroids, owner = [], []
    for part, m in enumerate(variants_per_part(counts, rule)):
        if m == 0:
            continue
        cells = unit[named == part]
        cells = cells[torch.randperm(len(cells), generator=g)[:max(fit_pixels // parts, 5_000)]]
        if m == 1:
            centroids.append(torch.nn.functional.normalize(cells.mean(0, keepdim=True), dim=1))
        else:
            km = KMeans(n_clusters=m, n_init=n_init, random_state=seed).fit(cells.numpy())
            centroids.append(torch.from_numpy(km.cluster_centers_).float())
        owner += [part] * m
    return PartProxyAssign(torch.cat(centroids), mean, std, head, torch.tensor(owner), per_sample=normalise == "sample",
                           raw_mean=raw.mean(0), raw_std=raw.std(0).clamp(min=1e-6))


def fit(cfg, run, samples=None):
    pc = cfg.proxy
    G, _ = load_generator(run / "generator.pt")
    n = samples or pc.samples
    t0 = time.time()
    z = latents(n, G.z_dim, pc.seed)
    if pc.kind == "parts":
        feats, _, rgb = synthesize(G, z, cfg.gan.truncation)
        labels = label(proxy_parser(pc, run), rgb, feats.shape[-1])
        if pc.sides == "merged":
            labels = sides_merged(labels)
        proxy = fit_part_features(feats, labels, pc.normalise, pc.seed, pc.fit_pixels, [tuple(v) for v in pc.variants], hidden=pc.head_hidden)
        return proxy, {"fit_seconds": round(time.time() - t0, 1), "samples": n}
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


def proxy_parser(pc, run, pst=None):
    """The parser that labels samples: the config's, else the one the proxy was fitted with, else the run's parser.pt."""
    path = pc.parser or (pst or {}).get("parser")
    return load_parser(REPO / path if path else run / "parser.pt")[0]


def proxy_state(proxy, normalise, info, pc=None):
    st = {"kind": "proxy", "k": proxy.k, "normalise": normalise, "centroids": proxy.centroids, "mean": proxy.mean.flatten(),
          "std": proxy.std.flatten(), "raw_mean": proxy.raw_mean.flatten(), "raw_std": proxy.raw_std.flatten(), "metrics": info}
    if pc is not None and pc.parser:
        st["parser"] = pc.parser
    if isinstance(proxy, PartProxyAssign):
        st.update({"proxy_kind": "parts", "parts": proxy.parts, "head_hidden": pc.head_hidden, "head": proxy.head.state_dict(),
                   "centroid_part": proxy.centroid_part, "sides": pc.sides})
    return st


def main(argv=None):
    args = stage_args(__doc__, "proxy", data=False, steps=False, restart=False).parse_args(argv)
    cfg, pc = stage_config(args, "proxy")
    set_threads()
    run = run_dir(cfg, args.run_dir)
    proxy, info = fit(cfg, run)
    G, _ = load_generator(run / "generator.pt")
    parser = proxy_parser(pc, run)
    info.update(measure_purity(G, proxy, parser, cfg.gan.truncation))
    save_checkpoint(run / "proxy.pt", proxy_state(proxy, pc.normalise, info, pc))
    print(f"proxy: K={proxy.k}, purity {info['cluster_purity']:.3f} (one-cluster baseline {info['purity_one_cluster_baseline']:.3f}), "
          f"H(cluster|part) {info['entropy_given_part_bits']} of {info['entropy_bits']} bits, H(cluster|brightness) "
          f"{info['entropy_given_brightness_bits']}, target cells whose cluster the source lacks {info['missing_cluster_rate']:.1%}, "
          f"{info['clusters_used']} clusters used, fitted in {info['fit_seconds']}s")


if __name__ == "__main__":
    run_main(main)
