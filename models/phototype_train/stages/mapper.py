"""Stage: train a semantic mapper (condition -> proxy-mask logits), one per condition kind.

Training pairs come from generated samples: the face parser (trained on train/ only) labels each
sample's image, k-means labels its features. The condition is made from the sample (conditions.py):
  mask      parsed mask, mostly redrawn as flat simplified shapes, as a designer draws them
  sketch    black outlines of the face parts (pen-tool strokes)
  scribble  a few coloured strokes inside each part
  edges     a classical (Canny) edge map of the sample's image
test/ is never touched.

  .venv/bin/python -m phototype_train mapper --config faces64 [--kind sketch]
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from phototype_train.data.augment import random_theta, warp_mask
from phototype_train.data.classes import NUM_CLASSES, side_merge_lut
from phototype_train.common import (StageState, UserError, autocast_for, load_stage, load_weights, optimiser_step, run_dir, run_main, seed_everything,
                    set_threads, stage_args)
from phototype_train.config import stage_config
from phototype_train.data.conditions import designer_masks, edges_from_image, scribble_from_mask, sketch_from_mask
from phototype_train.data.dataset import downsample_mask
from phototype_train.data.layout_augment import DonorPool, off_habit
from phototype_train.networks.proxy import PartProxyAssign
from phototype_train.stages.rearranger import part_ids
from phototype_train.stages.proxy import load_proxy, proxy_parser
from phototype_train.networks.mapper import SemanticMapper
from phototype_train.sampling import latents, load_generator, synthesize

PAIR_SEED, HELDOUT_SEED = 500_000, 888_000


def load_mapper(path):
    st = load_stage(path, "mapper")
    m = SemanticMapper(**st["arch"])
    load_weights(m, st["model"], path, "mapper checkpoint")
    return m.eval(), st


KINDS = ("mask", "sketch", "scribble", "edges")


def upsampled(proxies, size):
    return F.interpolate(proxies[:, None].float(), size=size, mode="nearest")[:, 0].long()


def drawing_rule(proxy, pst):
    """A part-aware proxy's cluster parts, for mask mappers that follow the drawn parts (networks/mapper.py)."""
    if not isinstance(proxy, PartProxyAssign):
        return {}
    lut = side_merge_lut() if pst.get("sides") == "merged" else list(range(NUM_CLASSES))
    return {"cluster_part": proxy.centroid_part.tolist(), "part_of_class": lut}


@torch.no_grad()
def make_pairs(G, proxy, parser, n, seed, psi_range):
    """(parsed mask at image size, proxy mask at feature size, image uint8 HxWx3) for n generated samples."""
    z = latents(n, G.z_dim, seed)
    lo, hi = psi_range
    psi = lo + (hi - lo) * torch.rand(n, 1, generator=torch.Generator().manual_seed(seed))
    masks, proxies, images = [], [], []
    for i in range(0, n, 64):
        f, _, rgb = synthesize(G, z[i:i + 64], psi[i:i + 64])
        masks.append(parser(rgb).argmax(1).to(torch.uint8))
        proxies.append(proxy(f).to(torch.uint8))
        images.append(((rgb + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1))
    return torch.cat(masks), torch.cat(proxies), torch.cat(images)


def make_conditions(kind, masks: np.ndarray, images: np.ndarray, rng, exact=False) -> torch.Tensor:
    """The condition a user would give for these samples: int64 ids [B,H,W] or float [B,1,H,W]."""
    if kind == "mask":
        return torch.from_numpy(masks if exact else designer_masks(masks, rng)).long()
    if kind == "scribble":
        return torch.from_numpy(np.stack([scribble_from_mask(m, rng) for m in masks])).long()
    if kind == "sketch":
        src = masks if exact else designer_masks(masks, rng, p_simplify=0.5)
        return torch.from_numpy(np.stack([sketch_from_mask(m, rng) for m in src]))[:, None]
    if kind == "edges":
        return torch.from_numpy(np.stack([edges_from_image(im) for im in images]))[:, None]
    raise UserError(f"unknown condition kind {kind}; known: {', '.join(KINDS)}")


def augment(kind, masks, proxies, images, gen, rng):
    """A user-like condition for each sample, then one small affine moves condition and target alike."""
    cond = make_conditions(kind, masks.numpy(), images.numpy(), rng)
    theta = random_theta(len(cond), gen)
    size = masks.shape[-1]
    target = F.interpolate(proxies[:, None].float(), size=size, mode="nearest")[:, 0].long()
    moved = warp_mask(target, theta)
    if cond.dim() == 4:  # binary stroke / edge maps: nearest warp keeps them binary
        cond = warp_mask(cond[:, 0].long(), theta)[:, None].float()
    else:
        cond = warp_mask(cond, theta)
    return cond, downsample_mask(moved, proxies.shape[-1], int(proxies.max()) + 1)


@torch.no_grad()
def evaluate(mapper, pairs, rng):
    """Held-out proxy agreement: from exact conditions and from user-like (simplified / drawn) ones."""
    masks, proxies, images = pairs["heldout_masks"].numpy(), pairs["heldout_proxies"].long(), pairs["heldout_images"].numpy()
    out = {}
    for name, exact in (("exact", True), ("simplified", False)):
        cond = make_conditions(mapper.kind, masks, images, rng, exact=exact)
        pred = torch.cat([mapper(cond[i:i + 64]).argmax(1) for i in range(0, len(cond), 64)])
        out[f"agreement_{name}"] = round((pred == proxies).float().mean().item(), 4)
    return out


def main(argv=None):
    ap = stage_args(__doc__, "mapper", data=False)
    ap.add_argument("--kind", default="mask", choices=KINDS)
    ap.add_argument("--samples", type=int, help="generated training pairs (rehearsals: fewer)")
    args = ap.parse_args(argv)
    # The mapper section, then the kind's own overrides ("mapper.sketch": fewer steps, say).
    cfg, mc = stage_config(args, f"mapper.{args.kind}", samples=args.samples or None)
    set_threads()
    run = run_dir(cfg, args.run_dir)
    ckpt, pairs_file = run / f"mapper.{args.kind}.pt", run / "mapper-pairs.pt"
    G, gst = load_generator(run / "generator.pt")
    proxy, pst = load_proxy(run / "proxy.pt")
    parser = proxy_parser(cfg.proxy, run, pst)
    psi = cfg.gan.truncation
    # Pairs are made once per (generator, proxy) and shared by every kind's mapper.
    made_from = {"generator_step": gst["step"], "proxy_centroids": float(proxy.centroids.sum()), "samples": mc.samples}
    pairs = torch.load(pairs_file) if pairs_file.is_file() else None
    if pairs is None or pairs.get("made_from") != made_from:
        t0 = time.time()
        m, p, im = make_pairs(G, proxy, parser, mc.samples, PAIR_SEED, (min(psi, 0.6), 1.0))
        hm, hp, him = make_pairs(G, proxy, parser, max(64, mc.samples // 16), HELDOUT_SEED, (psi, psi))
        pairs = {"masks": m, "proxies": p, "images": im, "heldout_masks": hm, "heldout_proxies": hp, "heldout_images": him,
                 "made_from": made_from}
        torch.save(pairs, pairs_file)
        print(f"made {len(m)} training pairs in {time.time() - t0:.0f}s")
    arch = {"kind": args.kind, "num_classes": NUM_CLASSES, "k": proxy.k, "base": mc.base, "depth": mc.depth,
            "out_down": int(round(np.log2(G.res // G.split))), **drawing_rule(proxy, pst)}
    gen = seed_everything(mc.seed)
    rng = np.random.default_rng(mc.seed)
    mapper = SemanticMapper(**arch)
    opt = torch.optim.AdamW(mapper.parameters(), lr=mc.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=mc.lr, total_steps=mc.steps, pct_start=0.1)
    state = StageState(ckpt, "mapper", arch, gen, model=mapper, opt=opt, sched=sched)
    if state.resume(args.restart):
        rng = state.loaded["np_rng"]
    masks, proxies, images = pairs["masks"], pairs["proxies"], pairs["images"]
    autocast = autocast_for(mc, torch.device("cpu"))
    ids, donors = None, None
    if mc.off_habit and args.kind != "edges":  # an edge map comes from the image, which these do not change
        if not isinstance(proxy, PartProxyAssign):
            raise UserError("off_habit layouts need a part-aware proxy (proxy kind \"parts\"): k-means clusters name no parts")
        ids = list(reversed(part_ids(proxy, pst.get("sides") == "merged")))  # [classes, clusters]
        donors = DonorPool([masks.long(), upsampled(proxies.long(), masks.shape[-1])], ids, min_share=0.005)
        print(f"off-habit layouts in {mc.off_habit:.0%} of batches; {len(donors)} donor samples with ears, hats, glasses or earrings")

    def train_step():
        idx = torch.randint(len(masks), (mc.batch,), generator=gen)
        m, p = masks[idx].long(), proxies[idx].long()
        if ids is not None and float(torch.rand(1, generator=gen)) < mc.off_habit:
            m, up = off_habit([m, upsampled(p, m.shape[-1])], ids, gen, donors)
            p = downsample_mask(up, p.shape[-1], proxy.k)
        cond, target = augment(args.kind, m.to(torch.uint8), p, images[idx], gen, rng)
        with autocast():
            loss = F.cross_entropy(mapper(cond), target)
        optimiser_step(opt, loss)
        sched.step()
        return {"loss": loss}

    saved = {"mc": mc.given(), "np_rng": rng}
    state.train(f"mapper.{args.kind}", mc.steps, train_step, mc.ckpt_every, saved)
    metrics = state.finish(evaluate(mapper.eval(), pairs, np.random.default_rng(0)), saved)
    print(f"mapper.{args.kind}: held-out proxy agreement {metrics['agreement_exact']:.3f} from exact conditions, "
          f"{metrics['agreement_simplified']:.3f} from user-like ones")


if __name__ == "__main__":
    run_main(main)
