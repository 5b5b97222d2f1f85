"""Stage: train the feature rearranger, self-supervised on random sample pairs.

For samples a, b (frozen G, frozen proxy):
  self   R(F_a, P_a, P_a) ~ F_a and its image ~ a's image       (rec, img)
  cross  F_ab = R(F_a, P_a, P_b): proxy(F_ab) follows P_b        (mask: cross-entropy on cosine logits)
         per-cluster mean features and mean colours of F_ab match a's   (style: keeps a's appearance)
  cycle  R(F_ab, P_b, P_a) ~ F_a                                  (cycle: nothing of a is lost)
  real   g2(F_ab) judged by a discriminator (started from the generator's) against unconditional samples
  parse  the run's face parser finds b's parts in g2(F_ab) where it finds them in b's own image

  .venv/bin/python -m phototype_train rearranger --config faces64
"""
import torch
import torch.nn.functional as F

from phototype_train.common import (StageState, UserError, autocast_for, load_stage, load_weights, optimiser_step, run_dir, run_main, seed_everything, set_threads,
                    stage_args)
from phototype_train.config import stage_config
from phototype_train.data.classes import NAMES, NUM_CLASSES, side_merge_lut
from phototype_train.data.layout_augment import DonorPool, PartIds, off_habit
from phototype_train.networks.proxy import PartProxyAssign
from phototype_train.stages.proxy import load_proxy, proxy_parser
from phototype_train.networks.discriminator import Discriminator
from phototype_train.networks.layers import one_hot
from phototype_train.networks.rearranger import make_rearranger
from phototype_train.stages.parser import load_parser
from phototype_train.sampling import latents, load_generator

HELDOUT_SEED = 777_000


def load_rearranger(path):
    st = load_stage(path, "rearranger")
    r = make_rearranger(st["arch"])
    load_weights(r, st["model"], path, "rearranger checkpoint")
    return r.eval(), st


def region_means(values, onehot):
    """values [B,C,N], onehot [B,K,N] -> per-cluster means [B,K,C] and counts [B,K]."""
    counts = onehot.sum(2)
    return onehot @ values.transpose(1, 2) / counts.clamp(min=1)[..., None], counts


def style_loss(src_vals, src_onehot, out_vals, out_onehot):
    """L1 between per-cluster means of source and output, over clusters present in both."""
    m_src, c_src = region_means(src_vals, src_onehot)
    m_out, c_out = region_means(out_vals, out_onehot)
    valid = ((c_src > 0) & (c_out > 0)).float()[..., None]
    return ((m_src - m_out).abs() * valid).sum() / (valid.sum() * m_src.shape[-1]).clamp(min=1)


class Pairs:
    """Random (a, b) sample pairs from the frozen generator, with their proxy masks."""

    def __init__(self, G, proxy, psi_range):
        self.G, self.proxy, self.psi_range = G, proxy, psi_range

    @torch.no_grad()
    def draw(self, n, gen=None, z=None):
        z = torch.randn(n, self.G.z_dim, generator=gen) if z is None else z
        lo, hi = self.psi_range
        psi = (lo + (hi - lo) * torch.rand(n, 1, generator=gen)) if gen is not None else (lo + hi) / 2
        f, s = self.G.g1(self.G.mapping(z, psi))
        return f, s, self.proxy(f)


def losses(R, G, proxy, fa, sa, pa, pb, tau, judges=None, parts_b=None):
    """judges: optional (discriminator, parser). The discriminator scores g2 of rearranged features
    against unconditional samples (realism after rearranging); the parser asks the rearranged image
    to show the target's parts (parts_b: the target sample's parsed classes, changed as its proxy was)."""
    std = lambda f: (f - proxy.raw_mean) / proxy.raw_std
    oh = lambda p: one_hot(p, proxy.k)
    with torch.no_grad():
        img_a = G.g2(fa, sa)
    f_aa = R(fa, pa, pa)
    f_ab = R(fa, pa, pb)
    f_aba = R(f_ab, pb, pa)
    img_aa, img_ab = G.g2(f_aa, sa), G.g2(f_ab, sa)
    out = {
        "rec": (std(f_aa) - std(fa)).abs().mean(),
        "img": (img_aa - img_a).abs().mean(),
        "mask": F.cross_entropy(proxy.cluster_logits(f_ab, tau), pb),
        "cycle": (std(f_aba) - std(fa)).abs().mean(),
    }
    oa, ob = oh(pa).flatten(2), oh(pb).flatten(2)
    feat_style = style_loss(std(fa).flatten(2), oa, std(f_ab).flatten(2), ob)
    up = lambda o: F.interpolate(o, size=img_a.shape[-2:], mode="nearest").flatten(2)
    color_style = style_loss(img_a.flatten(2), up(oh(pa)), img_ab.flatten(2), up(oh(pb)))
    out["style"] = feat_style + color_style
    if judges is not None:
        D, parser = judges
        out["real"] = F.softplus(-D(img_ab)).mean()
        out["parse"] = F.cross_entropy(parser(img_ab), parts_b)
    return out, img_ab


def part_ids(proxy, merged_sides):
    """PartIds for the proxy's clusters and for the parser's classes (data/layout_augment.py)."""
    lent = [NAMES.index(n) for n in ("l_ear", "r_ear", "hat", "eye_g", "ear_r")]
    owner = proxy.centroid_part.tolist()
    first = lambda part: owner.index(part) if part in owner else -1  # noqa: E731
    lut = side_merge_lut() if merged_sides else list(range(NUM_CLASSES))
    clusters = PartIds(first(0), first(NAMES.index("hair")), tuple(j for j, p in enumerate(owner) if p in {lut[c] for c in lent}))
    return clusters, PartIds(0, NAMES.index("hair"), tuple(lent))


@torch.no_grad()
def donor_pool(pairs, parser, ids, n=1024, seed=HELDOUT_SEED + 11):
    """Samples with ears, hats, glasses or earrings to lend (their proxy and, with a parser, their classes)."""
    maps = [[], []]
    z = latents(n, pairs.G.z_dim, seed)
    for i in range(0, n, 64):
        f, s, p = pairs.draw(0, z=z[i:i + 64])
        maps[0].append(p)
        if parser is not None:
            maps[1].append(parser(pairs.G.g2(f, s).clamp(-1, 1)).argmax(1))
    maps = [torch.cat(m) for m in maps if m]
    return DonorPool(maps, list(ids[:len(maps)]), min_share=0.005)


def prototypes(pairs, n=256, seed=HELDOUT_SEED + 7):
    """Mean raw F of each proxy cluster over n samples: where the rearranger's memory slots start."""
    f, _, p = pairs.draw(0, z=latents(n, pairs.G.z_dim, seed))
    oh = one_hot(p, pairs.proxy.k).flatten(2)
    means, _ = region_means(f.flatten(2), oh)
    counts = oh.sum((0, 2))[:, None]
    return (means * oh.sum(2)[..., None]).sum(0) / counts.clamp(min=1)


def far_neighbour_share(attn, side, far=3):
    """Share of neighbouring target cells (right, below) whose most-attended source cells are more
    than `far` cells apart (Chebyshev): how often copying tears the source apart. attn [B,H,N,N(+K)],
    head 0; a memory slot counts as its own place, far from every cell."""
    n = side * side
    top = attn[:, 0].argmax(-1)  # [B, N]
    y, x = top // side, top % side
    mem = top >= n
    grid = lambda t: t.view(-1, side, side)
    y, x, mem = grid(y), grid(x), grid(mem)
    shares = []
    for dy, dx in ((0, 1), (1, 0)):
        a = (slice(None), slice(0, side - dy), slice(0, side - dx))
        b = (slice(None), slice(dy, side), slice(dx, side))
        apart = torch.maximum((y[a] - y[b]).abs(), (x[a] - x[b]).abs()) > far
        apart = apart | (mem[a] != mem[b])
        shares.append(apart.float().mean())
    return float(sum(shares) / 2)


@torch.no_grad()
def evaluate(R, pairs, n, batch=16, parser=None, eval_parser=None):
    """On held-out pairs: does the output follow the target layout, and does it keep the source's look?

    agreement_*: share of pixels whose proxy label equals the target's (cross), the source's own (self),
    and, as the floor, how often two samples' proxy masks agree without any rearranging.
    appearance_kept: 1 - d(source, rearranged) / d(source, other sample), with d the mean distance of
    per-cluster mean colours (clusters present in both images): 1 = looks like the source, 0 = like the other.
    self_rec_error: mean |R(F, P, P) - F| in per-channel standard deviations.
    parts_agreement: share of pixels where the run's parser labels g2(F_ab) as it labels b's own image
    (and, as the floor, a's image unmoved); the parse loss trains against that parser, so with
    --eval-parser the same is measured by the fixed evaluation parser too. far_neighbour_share: see
    far_neighbour_share.
    """
    G, proxy = pairs.G, pairs.proxy
    za = latents(n, G.z_dim, HELDOUT_SEED)
    zb = latents(n, G.z_dim, HELDOUT_SEED + 1)
    sums = dict(cross=0.0, self=0.0, base=0.0, rec=0.0, d_kept=0.0, d_other=0.0, parts=0.0, parts_base=0.0, far=0.0, parts_eval=0.0,
                parts_eval_base=0.0)
    oh = lambda p, size: F.interpolate(one_hot(p, proxy.k), size=size, mode="nearest").flatten(2)
    for i in range(0, n, batch):
        fa, sa, pa = pairs.draw(0, z=za[i:i + batch])
        fb, sb, pb = pairs.draw(0, z=zb[i:i + batch])
        (f_ab, attn), f_aa = R(fa, pa, pb, with_attention=True), R(fa, pa, pa)
        m = len(fa)
        sums["cross"] += (proxy(f_ab) == pb).float().mean().item() * m
        sums["self"] += (proxy(f_aa) == pa).float().mean().item() * m
        sums["base"] += (pa == pb).float().mean().item() * m
        sums["rec"] += ((f_aa - fa) / proxy.raw_std).abs().mean().item() * m
        img_a, img_ab, img_b = G.g2(fa, sa), G.g2(f_ab, sa), G.g2(fb, sb)
        size = img_a.shape[-2:]
        sums["d_kept"] += style_loss(img_a.flatten(2), oh(pa, size), img_ab.flatten(2), oh(pb, size)).item() * m
        sums["d_other"] += style_loss(img_a.flatten(2), oh(pa, size), img_b.flatten(2), oh(pb, size)).item() * m
        if eval_parser is not None:  # the fixed evaluation parser: no training term ever saw it
            parts_b = eval_parser.labels(img_b)
            sums["parts_eval"] += (eval_parser.labels(img_ab) == parts_b).float().mean().item() * m
            sums["parts_eval_base"] += (eval_parser.labels(img_a) == parts_b).float().mean().item() * m
        if parser is not None:
            parts_b = parser(img_b).argmax(1)
            sums["parts"] += (parser(img_ab).argmax(1) == parts_b).float().mean().item() * m
            sums["parts_base"] += (parser(img_a).argmax(1) == parts_b).float().mean().item() * m
        sums["far"] += far_neighbour_share(attn, fa.shape[-1]) * m
    r = lambda x: round(x / n, 4)
    return {"agreement_cross": r(sums["cross"]), "agreement_self": r(sums["self"]), "agreement_no_rearrange": r(sums["base"]),
            "self_rec_error": r(sums["rec"]), "appearance_kept": round(1 - sums["d_kept"] / max(sums["d_other"], 1e-8), 4),
            "heldout_pairs": n,
            **({"parts_agreement": r(sums["parts"]), "parts_agreement_no_rearrange": r(sums["parts_base"])} if parser is not None else {}),
            "far_neighbour_share": r(sums["far"]),
            **({"parts_agreement_eval_parser": r(sums["parts_eval"]), "parts_agreement_eval_parser_no_rearrange": r(sums["parts_eval_base"])}
               if eval_parser is not None else {})}


def main(argv=None):
    ap = stage_args(__doc__, "rearranger", data=False)
    ap.add_argument("--eval-parser", action="store_true",
                    help="also score parts with the fixed evaluation parser (models/eval), which no loss here sees")
    args = ap.parse_args(argv)
    cfg, rc = stage_config(args, "rearranger")
    set_threads()
    run = run_dir(cfg, args.run_dir)
    G, gst = load_generator(run / "generator.pt")
    proxy, pst = load_proxy(run / "proxy.pt")
    c, h = G.feature_channels, G.split
    arch = {"k": proxy.k, "channels": c, "height": h, "width": h, "dim": rc.dim, "heads": rc.heads, "refine": rc.refine}
    if rc.kind == "layout":
        arch.update(kind="layout", content=rc.content, memory=rc.memory, locality=rc.locality)
    gen = seed_everything(rc.seed)
    psi = cfg.gan.truncation
    pairs = Pairs(G, proxy, (min(psi, 0.6), 1.0))
    R = make_rearranger(arch)
    if rc.kind == "layout":
        with torch.no_grad():
            R.prototypes.copy_(prototypes(pairs))
    opt = torch.optim.Adam(R.parameters(), lr=rc.lr, betas=(0.9, 0.99))
    parts = {"model": R, "opt": opt}
    judges = None
    if rc.w_real or rc.w_parse:
        # Realism after rearranging: a discriminator started from the generator's own, trained to tell
        # rearranged images from unconditional samples (what conditioning must not cost).
        D = Discriminator(gst["gcfg"])
        load_weights(D, gst["d"], run / "generator.pt", "generator checkpoint")
        opt_d = torch.optim.Adam(D.parameters(), lr=rc.d_lr, betas=(0.0, 0.99))
        parser, _ = load_parser(run / "parser.pt")
        parser.requires_grad_(False)
        judges = (D, parser)
        parts.update(disc=D, opt_d=opt_d)
    state = StageState(run / "rearranger.pt", "rearranger", arch, gen, **parts)
    state.resume(args.restart)
    weights = {k: getattr(rc, f"w_{k}") for k in ("rec", "img", "mask", "style", "cycle", "real", "parse")}
    autocast = autocast_for(rc, torch.device("cpu"))
    ids, donors = None, None
    if rc.off_habit:
        if not isinstance(proxy, PartProxyAssign):
            raise UserError("off_habit targets need a part-aware proxy (proxy kind \"parts\"): k-means clusters name no parts")
        ids = part_ids(proxy, pst.get("sides") == "merged")
        donors = donor_pool(pairs, judges[1] if judges else None, ids)
        print(f"off-habit targets in {rc.off_habit:.0%} of batches; {len(donors)} donor samples with ears, hats, glasses or earrings")

    def train_step():
        fa, sa, pa = pairs.draw(rc.batch, gen)
        fb, sb, pb = pairs.draw(rc.batch, gen)
        img_b, parts_b = None, None
        if judges:
            with torch.no_grad():
                img_b = G.g2(fb, sb)
                parts_b = judges[1](img_b).argmax(1)
        if ids is not None and float(torch.rand(1, generator=gen)) < rc.off_habit:
            changed = off_habit([pb] + ([parts_b] if judges else []), list(ids), gen, donors)
            pb, parts_b = changed[0], (changed[1] if judges else None)
        with autocast():
            terms, img_ab = losses(R, G, proxy, fa, sa, pa, pb, rc.tau, judges, parts_b)
            total = sum(weights[k] * v for k, v in terms.items())
        optimiser_step(opt, total)
        if judges:
            D = judges[0]
            with autocast():
                d_loss = F.softplus(D(img_ab.detach())).mean() + F.softplus(-D(img_b)).mean()
            optimiser_step(opt_d, d_loss)
            terms["d"] = d_loss.detach()
        return {"total": total, **terms}

    saved = {"rc": rc.given()}
    state.train("rearranger", rc.steps, train_step, rc.ckpt_every, saved)
    judge = None
    if args.eval_parser:
        from phototype_train.evaluation import eval_parser
        judge = eval_parser.load()
    metrics = evaluate(R.eval(), pairs, rc.heldout_pairs, parser=judges[1] if judges else proxy_parser(cfg.proxy, run, pst),
                       eval_parser=judge)
    metrics = state.finish(metrics, saved)
    print(f"rearranger: held-out agreement with target {metrics['agreement_cross']:.3f} "
          f"(self {metrics['agreement_self']:.3f}, without rearranging {metrics['agreement_no_rearrange']:.3f}), "
          f"appearance kept {metrics['appearance_kept']:.3f}, self reconstruction error {metrics['self_rec_error']:.3f} sd")


if __name__ == "__main__":
    run_main(main)
