"""Stage: train the unconditional face generator (mapping, g1, g2) with a small-data recipe.

Recipe: non-saturating logistic loss, DiffAugment (colour, translation, cutout) on real and fake,
lazy R1 on reals, x-flips of the data, an EMA copy of G (the one every later stage uses).
Stops after --steps or --minutes and resumes exactly where it stopped (RNG state included).

  .venv/bin/python -m phototype_train generator --config faces64 [--minutes 60]
"""
import contextlib
import copy
import os
import signal
import time

import torch
import torch.nn.functional as F

from phototype_train.sampling import recalibrate_batchnorm
from phototype_train.common import (JsonLog, UserError, autocast_for, data_root, load_checkpoint, optimiser_step, rng_state, run_dir, run_main,
                    save_checkpoint, save_image_grid, seed_everything, set_rng_state, set_threads, stage_args)
from phototype_train.config import stage_config
from phototype_train.data.dataset import flip_batch, to_float, training_images
from phototype_train.networks.discriminator import Discriminator, diff_augment, quarter_of
from phototype_train.networks.generator import make_generator


def device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def ema_update(g_ema, g, beta):
    with torch.no_grad():
        for pe, p in zip(g_ema.parameters(), g.parameters()):
            pe.lerp_(p, 1 - beta)
        for be, b in zip(g_ema.buffers(), g.buffers()):
            be.copy_(b)


class StopFlag:
    """SIGTERM/SIGINT finish the current step and save, so a killed run resumes cleanly."""

    def __init__(self):
        self.stop = False
        signal.signal(signal.SIGTERM, self._set)
        signal.signal(signal.SIGINT, self._set)

    def _set(self, *_):
        self.stop = True


def memory_format(tc):
    return torch.channels_last if tc.channels_last else torch.contiguous_format


def real_batch(reals, batch, gen, dev, fmt=torch.contiguous_format):
    idx = torch.randint(len(reals), (batch,), generator=gen)
    real, _ = flip_batch(to_float(reals[idx]), None, torch.rand(batch, generator=gen) < 0.5)
    return real.to(dev, memory_format=fmt)


@contextlib.contextmanager
def frozen(net):
    """No weight gradients for `net` inside (its trainable parameters only: frozen parts stay frozen)."""
    params = [p for p in net.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _resize(x, side):
    return x if x.shape[-1] == side else F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)


def selfsup_loss(D, real_aug, gen):
    """FastGAN's self-supervision on reals: L1 between D's two rebuilds and the (augmented) real image.
    L1 rather than FastGAN's LPIPS: no pretrained VGG can be had here. Returns (logits, loss)."""
    quarter = int(torch.randint(4, (1,), generator=gen))
    logits, whole, part = D.reconstruct(real_aug, quarter)
    target_part = _resize(quarter_of(real_aug, quarter), part.shape[-1])
    loss = (whole.float() - _resize(real_aug, whole.shape[-1])).abs().mean() + (part.float() - target_part).abs().mean()
    return logits, loss


def gan_step(G, D, opt_g, opt_d, real, gen, tc, step, autocast, D_r1=None):
    """One step of the recipe: one G forward whose fakes serve both updates (as FastGAN does); D on
    augmented real vs fake (+ self-supervised rebuilds, lazy R1 every r1_every steps), then G with D's
    weights frozen, so no D weight gradients are computed and thrown away.

    D_r1: the plain D for the R1 penalty when D is compiled (compiled graphs have no double backward).
    R1 stays fp32: it runs one step in r1_every, so bf16 would save little there. Losses are fp32.
    """
    policy, batch, z_dim, dev = tc.diffaug, real.shape[0], G.z_dim, real.device
    z = torch.randn(batch, z_dim, generator=gen).to(dev)
    with autocast():
        if hasattr(G, "mapping_net"):
            w = G.mapping(z)
            with torch.no_grad():
                G.w_avg.lerp_(w.detach().mean(0).float(), 0.005)
            f, s = G.g1(w)
            fake = G.g2(f, s)
        else:
            fake = G(z)
        fake_aug = diff_augment(fake.float(), policy, gen)
        real_aug = diff_augment(real, policy, gen)
        d_fake = D(fake_aug.detach())
        rec = None
        if getattr(D, "selfsup", False):
            d_real, rec = selfsup_loss(D, real_aug, gen)
        else:
            d_real = D(real_aug)
    loss_d = F.softplus(d_fake.float()).mean() + F.softplus(-d_real.float()).mean()
    optimiser_step(opt_d, loss_d + (rec if rec is not None else 0))
    r1 = None
    if tc.r1_gamma > 0 and step % tc.r1_every == 0:
        real_r = real.detach().requires_grad_(True)
        out = (D_r1 or D)(diff_augment(real_r, policy, gen))
        (grad,) = torch.autograd.grad(out.sum(), real_r, create_graph=True)
        r1 = grad.square().sum([1, 2, 3]).mean()
        optimiser_step(opt_d, r1 * tc.r1_gamma / 2 * tc.r1_every)
    with frozen(D):
        with autocast():
            d_g = D(fake_aug)
        loss_g = F.softplus(-d_g.float()).mean()
        optimiser_step(opt_g, loss_g)
    return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "r1": None if r1 is None else r1.detach(),
            "rec": None if rec is None else rec.detach(), "d_real": d_real.detach().float().mean(), "d_fake": d_fake.detach().float().mean()}


def make_discriminator(gcfg):
    if gcfg.d_arch == "projected":
        from phototype_train.networks.projected_discriminator import ProjectedDiscriminator  # reads nsfwjs's MobileNetV2 from node_modules
        return ProjectedDiscriminator(gcfg.given())
    return Discriminator(gcfg.given())


def make_optimisers(G, D, tc):
    r1_ratio = tc.r1_every / (tc.r1_every + 1)
    # FastGAN's plain convs want a far smaller step than StyleGAN's equalized-lr layers (its paper: 2e-4, betas 0.5/0.999).
    g_lr, g_betas = tc.lr if tc.g_lr is None else tc.g_lr, tuple(tc.betas if tc.g_betas is None else tc.g_betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=g_lr, betas=g_betas)
    opt_d = torch.optim.Adam([p for p in D.parameters() if p.requires_grad], lr=(tc.lr if tc.d_lr is None else tc.d_lr) * r1_ratio,
                             betas=tuple(b ** r1_ratio for b in (tc.betas if tc.d_betas is None else tc.d_betas)))
    return opt_g, opt_d


def relative_update(before: torch.Tensor, net) -> float:
    """||delta theta|| / ||theta|| of one step: how fast a network moves (G and D should move alike)."""
    after = flat_params(net)
    return float((after - before).norm() / before.norm().clamp(min=1e-12))


def flat_params(net) -> torch.Tensor:
    # reshape, not view: channels_last weights are not contiguous
    return torch.cat([p.detach().reshape(-1).float() for p in net.parameters() if p.requires_grad])


def train(cfg, tc, args):
    gcfg = cfg.generator
    if args.arch:
        gcfg = gcfg.override(arch=args.arch)
    if args.d_arch:
        gcfg = gcfg.override(d_arch=args.d_arch)
    if gcfg.d_arch == "projected":
        # The paper's settings: plain convs at Adam 2e-4, no R1 (the frozen features keep D smooth).
        tc = tc.override(d_lr=0.0002 if tc.d_lr is None else tc.d_lr, r1_gamma=0.0)
    if args.r1_gamma is not None:
        tc = tc.override(r1_gamma=args.r1_gamma)
    dev = device()
    out_dir = run_dir(cfg, args.run_dir)
    name = args.out or "generator"
    ckpt, sample_dir = out_dir / f"{name}.pt", out_dir / f"{name}-samples"
    sample_dir.mkdir(exist_ok=True)
    reals = training_images(data_root(cfg, args.data), gcfg.resolution)
    print(f"{len(reals)} training images at {gcfg.resolution} px (train + unlabeled; test never), device {dev}, "
          f"autocast {tc.autocast or 'none'}, channels_last {tc.channels_last}")

    gen = seed_everything(tc.seed)
    fmt = memory_format(tc)
    # channels_last before anything loads, so a resumed run has the same layouts (and kernels) as an uninterrupted one.
    G, D = make_generator(gcfg.given()).to(dev, memory_format=fmt), make_discriminator(gcfg).to(dev, memory_format=fmt)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g, opt_d = make_optimisers(G, D, tc)
    steps_from_config = [(opt, [(g["lr"], g["betas"]) for g in opt.param_groups]) for opt in (opt_g, opt_d)]
    fixed_z = torch.randn(64, gcfg.z_dim, generator=torch.Generator().manual_seed(1234))
    step, seen, seconds = 0, 0, 0.0
    if ckpt.is_file() and not args.restart:
        st = load_checkpoint(ckpt, "generator checkpoint")
        if st["kind"] != "generator" or st["gcfg"] != gcfg.given():
            raise UserError(f"{ckpt} was made with another generator config; pass --restart to start over")
        G.load_state_dict(st["g"]), D.load_state_dict(st["d"]), G_ema.load_state_dict(st["g_ema"])
        opt_g.load_state_dict(st["opt_g"]), opt_d.load_state_dict(st["opt_d"])
        for opt, hyper in steps_from_config:  # the config's step sizes win over the checkpoint's, for G and D alike
            for group, (lr, betas) in zip(opt.param_groups, hyper):
                group["lr"], group["betas"] = lr, betas
        set_rng_state(gen, st["rng"])
        step, seen, seconds = st["step"], st["seen"], st["seconds"]
        print(f"resuming {ckpt} at step {step} ({seen} images seen, {seconds / 60:.1f} min trained)")

    def save():
        """Call after recalibrate(): the EMA copy's statistics are what later stages sample and export."""
        save_checkpoint(ckpt, {"kind": "generator", "gcfg": gcfg.given(), "tc": tc.given(), "g": G.state_dict(), "d": D.state_dict(),
                               "g_ema": G_ema.state_dict(), "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                               "rng": rng_state(gen), "step": step, "seen": seen, "seconds": seconds})

    log = JsonLog(out_dir / f"{name}.log.jsonl")  # own loop, not StageState.train: time budget, EMA, sample grids
    flag = StopFlag()
    autocast = autocast_for(tc, dev)
    batch = tc.batch
    budget = args.minutes * 60 if args.minutes else None
    monitor = Monitor(cfg, tc, out_dir, name) if tc.monitor_every else None
    t_start, t_last = time.time(), time.time()
    r1, window, window_steps = torch.zeros(()), 0.0, 0  # last lazy-R1 value (for the log); time and steps since the last print

    def recalibrate():
        recalibrate_batchnorm(G_ema, gcfg.z_dim)

    def ema_snapshot(path):
        with torch.no_grad():
            save_image_grid(G_ema(fixed_z.to(dev)).float().clamp(-1, 1) * 0.5 + 0.5, path, nrow=8)

    while step < tc.steps and not flag.stop and not (budget and time.time() - t_start > budget):
        real = real_batch(reals, batch, gen, dev, fmt)
        logging = (step + 1) % 25 == 0 or step == 0
        before = (flat_params(G), flat_params(D)) if logging else None
        out = gan_step(G, D, opt_g, opt_d, real, gen, tc, step, autocast)
        r1 = out["r1"] if out["r1"] is not None else r1
        seen += batch
        ema_imgs = min(tc.ema_kimg * 1000, seen * 0.05)
        ema_update(G_ema, G, 0.5 ** (batch / max(ema_imgs, 1e-8)))
        step += 1
        now = time.time()
        seconds, window, window_steps, t_last = seconds + now - t_last, window + now - t_last, window_steps + 1, now
        if logging:
            # Relative step sizes show whether G and D move alike; load average shows contention beside s/step.
            log.write(step=step, seen=seen, seconds=round(seconds, 1), loss_d=round(out["loss_d"].item(), 4),
                      loss_g=round(out["loss_g"].item(), 4), r1=round(r1.item(), 4),
                      rec=None if out["rec"] is None else round(out["rec"].item(), 4),
                      d_real=round(out["d_real"].item(), 3), d_fake=round(out["d_fake"].item(), 3),
                      g_update=round(relative_update(before[0], G), 6), d_update=round(relative_update(before[1], D), 6),
                      load1=round(os.getloadavg()[0], 2))
        if step % 100 == 0:
            print(f"step {step} seen {seen} {seconds / 60:.1f} min  D {out['loss_d'].item():.3f} G {out['loss_g'].item():.3f} "
                  f"R1 {r1.item():.3f}  {window / window_steps:.3f} s/step, {window_steps * batch / window * 3600:,.0f} images/h, "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
            window, window_steps = 0.0, 0
        sample, watch = step % tc.sample_every == 0, monitor and seen // tc.monitor_every > (seen - batch) // tc.monitor_every
        keep = watch or step % tc.ckpt_every == 0
        if sample or keep:
            recalibrate()  # once for whatever this step samples, measures and saves
        if sample:
            ema_snapshot(sample_dir / f"step-{step:06d}.png")
        if keep:
            save()
        if watch:
            monitor.run(G_ema, step, seen, seconds)
            t_last = time.time()  # the monitor's own time is not training time
    recalibrate()
    save()
    ema_snapshot(sample_dir / "latest.png")
    print(f"saved {ckpt} at step {step} ({seen} images seen, {seconds / 60:.1f} min trained)")
    return G_ema


class Monitor:
    """Every monitor_every images: FD, recall, precision and structure diversity of EMA samples at the
    product's truncation (monitor_generator.py), a row in <name>.monitor.jsonl and a fixed-latent grid."""

    def __init__(self, cfg, tc, out_dir, name):
        from phototype_train.evaluation import eval_parser
        from phototype_train.evaluation.monitor_generator import Reference
        self.parser = eval_parser.load()
        self.ref = Reference(cfg, self.parser)
        self.tc, self.log = tc, JsonLog(out_dir / f"{name}.monitor.jsonl")
        self.grids = out_dir / f"{name}-monitor"
        self.grids.mkdir(exist_ok=True)

    def run(self, G_ema, step, seen, seconds):
        from phototype_train.evaluation.monitor_generator import measure
        t0 = time.time()
        # G_ema's statistics were just recalibrated for the checkpoint this row describes.
        row = measure(G_ema, self.ref, self.parser, self.tc.monitor_samples, self.tc.truncation, recalibrate=False)
        row["recalibrated"] = True  # by the loop, just before this row
        with torch.no_grad():
            z = torch.randn(32, G_ema.z_dim, generator=torch.Generator().manual_seed(1234))
            save_image_grid(G_ema(z, self.tc.truncation).float().clamp(-1, 1) * 0.5 + 0.5, self.grids / f"seen-{seen:07d}.png", nrow=8)
        row.pop("real")
        self.log.write(step=step, seen=seen, seconds=round(seconds, 1), psi=self.tc.truncation, monitor_seconds=round(time.time() - t0, 1),
                       **{k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
        print(f"monitor at {seen} images: FD-MobileNetV2 {row['fd_mobilenet']:.1f}, precision {row['precision']:.3f}, "
              f"recall {row['recall']:.3f}, pairwise layout mIoU {row['pairwise_miou']:.3f} ({time.time() - t0:.0f} s)", flush=True)


def main(argv=None):
    ap = stage_args(__doc__, "gan")
    ap.add_argument("--out", help="checkpoint name (default generator)")
    ap.add_argument("--arch", choices=["stylegan2", "fastgan", "fastgan-blend"], help="overrides the config's architecture")
    ap.add_argument("--d-arch", choices=["resnet", "projected"], help="overrides the config's discriminator")
    ap.add_argument("--r1-gamma", type=float, help="overrides the config's R1 weight (0: none, as projected GANs train)")
    ap.add_argument("--minutes", type=float, help="stop (and save) after this much wall time")
    args = ap.parse_args(argv)
    cfg, tc = stage_config(args, "gan")
    set_threads()
    train(cfg, tc, args)


if __name__ == "__main__":
    run_main(main)
