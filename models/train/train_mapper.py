"""Stage: train the semantic mapper (face mask -> proxy-mask logits).

Training pairs come from generated samples: the face parser (trained on train/ only) labels each
sample's image, k-means labels its features; the mapper learns parsed mask -> proxy mask.
Conditions are mostly redrawn as flat, simplified shapes (conditions.py) so that what a designer
draws maps as well as an exact parsing does. test/ is never touched.

  /usr/bin/python3 models/train/train_mapper.py --config faces64
"""
import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from augment import random_theta, warp_mask
from classes import NUM_CLASSES
from common import (JsonLog, UserError, load_checkpoint, load_config, rng_state, run_dir, run_main, save_checkpoint,
                    seed_everything, set_rng_state, set_threads)
from conditions import designer_masks
from data import downsample_mask
from fit_proxy import load_proxy
from model import SemanticMapper
from sampling import latents, load_generator, synthesize
from train_parser import load_parser

PAIR_SEED, HELDOUT_SEED = 500_000, 888_000


def load_mapper(path):
    st = load_checkpoint(path, "mapper checkpoint")
    if st["kind"] != "mapper":
        raise UserError(f"{path} is a {st['kind']} checkpoint, not a mapper")
    m = SemanticMapper(**st["arch"])
    m.load_state_dict(st["model"])
    return m.eval(), st


@torch.no_grad()
def make_pairs(G, proxy, parser, n, seed, psi_range):
    """(parsed mask at image size, proxy mask at feature size) for n generated samples."""
    z = latents(n, G.z_dim, seed)
    lo, hi = psi_range
    psi = lo + (hi - lo) * torch.rand(n, 1, generator=torch.Generator().manual_seed(seed))
    masks, proxies = [], []
    for i in range(0, n, 64):
        f, _, rgb = synthesize(G, z[i:i + 64], psi[i:i + 64])
        masks.append(parser(rgb).argmax(1).to(torch.uint8))
        proxies.append(proxy(f).to(torch.uint8))
    return torch.cat(masks), torch.cat(proxies)


def augment(masks, proxies, gen, rng):
    """Designer-like redrawing of the condition, then one small affine moves condition and target alike."""
    cond = torch.from_numpy(designer_masks(masks.numpy(), rng)).long()
    theta = random_theta(len(cond), gen)
    size = cond.shape[-1]
    target = F.interpolate(proxies[:, None].float(), size=size, mode="nearest")[:, 0].long()
    moved = warp_mask(target, theta)
    return warp_mask(cond, theta), downsample_mask(moved, proxies.shape[-1], int(proxies.max()) + 1)


@torch.no_grad()
def evaluate(mapper, masks, proxies, rng):
    simple = torch.from_numpy(designer_masks(masks.numpy(), rng, p_simplify=1.0)).long()
    out = {}
    for name, cond in (("exact", masks.long()), ("simplified", simple)):
        pred = torch.cat([mapper(cond[i:i + 64]).argmax(1) for i in range(0, len(cond), 64)])
        out[f"agreement_{name}"] = round((pred == proxies.long()).float().mean().item(), 4)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--run-dir")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--restart", action="store_true")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    mc = dict(cfg["mapper"])
    if args.steps:
        mc["steps"] = args.steps
    set_threads()
    run = run_dir(cfg, args.run_dir)
    ckpt, pairs_file = run / "mapper.mask.pt", run / "mapper-pairs.pt"
    G, _ = load_generator(run / "generator.pt")
    proxy, _ = load_proxy(run / "proxy.pt")
    parser, _ = load_parser(run / "parser.pt")
    psi = cfg["gan"].get("truncation", 1.0)
    if pairs_file.is_file() and not args.restart:
        pairs = torch.load(pairs_file)
    else:
        t0 = time.time()
        m, p = make_pairs(G, proxy, parser, mc["samples"], PAIR_SEED, (min(psi, 0.6), 1.0))
        hm, hp = make_pairs(G, proxy, parser, max(64, mc["samples"] // 16), HELDOUT_SEED, (psi, psi))
        pairs = {"masks": m, "proxies": p, "heldout_masks": hm, "heldout_proxies": hp}
        torch.save(pairs, pairs_file)
        print(f"made {len(m)} training pairs in {time.time() - t0:.0f}s")
    arch = {"kind": "mask", "num_classes": NUM_CLASSES, "k": proxy.k, "base": mc["base"], "depth": mc["depth"],
            "out_down": int(round(np.log2(G.res // G.split)))}
    gen = seed_everything(mc["seed"])
    rng = np.random.default_rng(mc["seed"])
    mapper = SemanticMapper(**arch)
    opt = torch.optim.AdamW(mapper.parameters(), lr=mc["lr"], weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=mc["lr"], total_steps=mc["steps"], pct_start=0.1)
    step, seconds = 0, 0.0
    if ckpt.is_file() and not args.restart:
        st = load_checkpoint(ckpt, "mapper checkpoint")
        if st["arch"] != arch:
            raise UserError(f"{ckpt} was made for another shape; pass --restart")
        mapper.load_state_dict(st["model"]), opt.load_state_dict(st["opt"]), sched.load_state_dict(st["sched"])
        set_rng_state(gen, st["rng"])
        rng = st["np_rng"]
        step, seconds = st["step"], st["seconds"]
        print(f"resuming {ckpt} at step {step}")
    log = JsonLog(run / "mapper.mask.log.jsonl")

    def save(metrics=None):
        save_checkpoint(ckpt, {"kind": "mapper", "arch": arch, "mc": mc, "model": mapper.state_dict(), "opt": opt.state_dict(),
                               "sched": sched.state_dict(), "rng": rng_state(gen), "np_rng": rng, "step": step,
                               "seconds": seconds, "metrics": metrics})

    t_last = time.time()
    masks, proxies = pairs["masks"], pairs["proxies"]
    while step < mc["steps"]:
        idx = torch.randint(len(masks), (mc["batch"],), generator=gen)
        cond, target = augment(masks[idx], proxies[idx].long(), gen, rng)
        loss = F.cross_entropy(mapper(cond), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        seconds += time.time() - t_last
        t_last = time.time()
        if step % 25 == 0 or step == 1:
            log.write(step=step, loss=round(loss.item(), 4))
            print(f"mapper step {step}/{mc['steps']} loss {loss.item():.3f}", flush=True)
        if step % mc["ckpt_every"] == 0:
            save()
    metrics = evaluate(mapper.eval(), pairs["heldout_masks"], pairs["heldout_proxies"], np.random.default_rng(0))
    metrics["train_seconds"] = round(seconds, 1)
    log.write(step=step, **metrics)
    save(metrics)
    print(f"mapper: held-out proxy agreement {metrics['agreement_exact']:.3f} from exact masks, "
          f"{metrics['agreement_simplified']:.3f} from simplified shapes")


if __name__ == "__main__":
    run_main(main)
