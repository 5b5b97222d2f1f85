"""Measure one generator training step (G + D, stages/generator.py's recipe) under each CPU speed-up.

  .venv/bin/python -m phototype_train study bench-training [--configs faces64 faces128] [--steps 16] [--threads 2]
  .venv/bin/python -m phototype_train study bench-training --stability 200 [--configs faces64]

Speed: per config and variant, seconds per step (mean of --steps steps after warm-up; any 16 steps in a
row hold one lazy-R1 step, as training does), the ratio to fp32 eager, and images an hour. Random
images stand in for the data: a step's cost does not depend on what the pixels show.
Stability: the same seed trained twice on the real data, fp32 and bf16 autocast, loss trajectories side by side.
The machine's load average is printed with every table: numbers taken on a busy machine are slower.
"""
import argparse
import os
import time

import torch

from phototype_train.common import autocast_for, data_root, run_main, seed_everything
from phototype_train.config import Config
from phototype_train.data.dataset import training_images
from phototype_train.networks.discriminator import Discriminator
from phototype_train.networks.generator import make_generator
from phototype_train.stages.generator import gan_step, make_optimisers, real_batch

VARIANTS = {  # name: (autocast, channels_last, compile)
    "fp32 eager": ("none", False, False),
    "bf16 autocast": ("bf16", False, False),
    "fp32 channels_last": ("none", True, False),
    "bf16 + channels_last": ("bf16", True, False),
    "fp32 compile": ("none", False, True),
    "bf16 + compile": ("bf16", False, True),
    "bf16 + channels_last + compile": ("bf16", True, True),
}


def load():
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def setup(cfg, autocast, channels_last, compiled):
    gcfg, tc = cfg.generator.given(), cfg.gan.override(autocast=autocast)
    gen = seed_everything(tc.seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    G, D = make_generator(gcfg).to(memory_format=fmt), Discriminator(gcfg).to(memory_format=fmt)
    opt_g, opt_d = make_optimisers(G, D, tc)
    ctx = autocast_for(tc, torch.device("cpu"))
    Gs, Ds = (torch.compile(G), torch.compile(D)) if compiled else (G, D)
    return dict(G=Gs, D=Ds, D_r1=D, opt_g=opt_g, opt_d=opt_d, tc=tc, gen=gen, fmt=fmt, ctx=ctx)


def step(s, reals, i):
    real = real_batch(reals, s["tc"].batch, s["gen"], torch.device("cpu"), s["fmt"])
    return gan_step(s["G"], s["D"], s["opt_g"], s["opt_d"], real, s["gen"], s["tc"], i, s["ctx"], D_r1=s["D_r1"])


def bench(cfg, variants, steps, warmup):
    res = cfg.generator.resolution
    reals = torch.randint(0, 256, (64, 3, res, res), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    g = make_generator(cfg.generator.given())
    n_g, n_d = sum(p.numel() for p in g.parameters()), sum(p.numel() for p in Discriminator(cfg.generator.given()).parameters())
    batch = cfg.gan.batch
    print(f"\n{cfg.name}: {res} px, {cfg.generator.arch}, G {n_g / 1e6:.2f} M params, D {n_d / 1e6:.2f} M, "
          f"batch {batch}, {torch.get_num_threads()} threads, {load()}")
    print(f"{'variant':<32} {'warm-up s':>9} {'s/step':>7} {'x fp32':>7} {'images/h':>9}")
    base = None
    for name in variants:
        s = setup(cfg, *VARIANTS[name])
        t0 = time.perf_counter()
        for i in range(warmup):  # step 0 runs R1 too, so its path is warm (and compiled) before timing
            step(s, reals, i)
        t1 = time.perf_counter()
        for i in range(warmup, warmup + steps):
            out = step(s, reals, i)
        dt = (time.perf_counter() - t1) / steps
        assert torch.isfinite(out["loss_d"]) and torch.isfinite(out["loss_g"]), f"{name}: loss not finite"
        base = base or (dt if name == "fp32 eager" else None)
        ratio = f"{base / dt:.2f}" if base else "-"
        print(f"{name:<32} {t1 - t0:>9.1f} {dt:>7.3f} {ratio:>7} {batch * 3600 / dt:>9,.0f}", flush=True)
        torch._dynamo.reset()
    print(f"({load()} after)")


def stability(cfg, steps, every=25):
    """fp32 and bf16 from the same seed on the real data: window means of the losses, side by side."""
    reals = training_images(data_root(cfg), cfg.generator.resolution)
    curves = {}
    for mode in ("none", "bf16"):
        s = setup(cfg, mode, cfg.gan.channels_last, False)
        rows, acc = [], []
        t0 = time.perf_counter()
        for i in range(steps):
            out = step(s, reals, i)
            acc.append([out[k].item() for k in ("loss_d", "loss_g", "d_real", "d_fake")])
            if (i + 1) % every == 0:
                rows.append(torch.tensor(acc).mean(0))
                acc = []
        curves[mode] = torch.stack(rows)
        print(f"{mode}: {steps} steps in {time.perf_counter() - t0:.0f} s, all losses finite: {bool(torch.isfinite(curves[mode]).all())}")
    a, b = curves["none"], curves["bf16"]
    print(f"\n{cfg.name} stability, means over {every}-step windows, same seed ({load()})")
    print(f"{'steps':>9} | {'fp32 D':>7} {'G':>7} {'D(real)':>8} {'D(fake)':>8} | {'bf16 D':>7} {'G':>7} {'D(real)':>8} {'D(fake)':>8}")
    for j in range(len(a)):
        print(f"{j * every + 1:>4}-{(j + 1) * every:<4} | " + " ".join(f"{v:>7.3f}" if k < 2 else f"{v:>8.3f}" for k, v in enumerate(a[j]))
              + " | " + " ".join(f"{v:>7.3f}" if k < 2 else f"{v:>8.3f}" for k, v in enumerate(b[j])))
    d = (a - b).abs()
    print(f"largest window-mean difference: loss D {d[:, 0].max():.3f}, loss G {d[:, 1].max():.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=["faces64", "faces128"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="VARIANT")
    ap.add_argument("--steps", type=int, default=16, help="timed steps per variant")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--stability", type=int, metavar="STEPS", help="compare fp32 and bf16 training for this many steps instead")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    for name in args.configs:
        cfg = Config.load(name)
        if args.stability:
            stability(cfg, args.stability)
        else:
            bench(cfg, args.variants, args.steps, args.warmup)


if __name__ == "__main__":
    run_main(main)
