"""Stage: train the inversion encoder (photo -> F, style) on generated samples and real train/ photos.

Generated samples give exact targets (their F and style) and the image; real photos give only the
image. Losses: F and style regression (generated), pixel L1 and a perceptual L1 on the face parser's
encoder features (both), through the frozen g2. test/ photos are used only to report reconstruction.
Optional refinement (Python only): a few Adam steps on F and style per photo against the same losses.

  .venv/bin/python -m phototype_train encoder --config faces64
"""
import torch
import torch.nn.functional as F

from phototype_train.common import (StageState, autocast_for, data_root, load_stage, load_weights, optimiser_step, run_dir, run_main, seed_everything,
                    set_threads, stage_args)
from phototype_train.config import stage_config
from phototype_train.data.dataset import flip_batch, load_split, to_float
from phototype_train.stages.proxy import load_proxy
from phototype_train.networks.encoder import Encoder
from phototype_train.sampling import load_generator
from phototype_train.stages.parser import load_parser


def load_encoder(path):
    st = load_stage(path, "encoder")
    e = Encoder(**st["arch"])
    load_weights(e, st["model"], path, "encoder checkpoint")
    return e.eval(), st


def perceptual(parser, a, b):
    """L1 between the parser's encoder maps (all levels) of two image batches."""
    loss, xa, xb = 0.0, a, b
    for i, enc in enumerate(parser.net.enc[:3]):
        xa = enc(xa if i == 0 else F.max_pool2d(xa, 2))
        xb = enc(xb if i == 0 else F.max_pool2d(xb, 2))
        loss = loss + (xa - xb).abs().mean()
    return loss


def reconstruction_losses(E, G, parser, proxy, x, target=None):
    f, s = E(x)
    rec = G.g2(f, s)
    out = {"pix": (rec - x).abs().mean(), "perc": perceptual(parser, rec, x)}
    if target is not None:
        tf, ts = target
        out["feat"] = ((f - tf) / proxy.raw_std).abs().mean()
        out["style"] = (s - ts).abs().mean()
    return out


def psnr(a, b):
    mse = ((a - b) / 2).square().mean([1, 2, 3])  # images in [-1, 1] -> [0, 1] scale
    return (10 * torch.log10(1 / mse.clamp(min=1e-10))).mean().item()


def refine(G, parser, x, f, s, steps=50, lr=0.05):
    """Per-photo optimisation of (F, style) from the encoder's guess."""
    f, s = f.detach().clone().requires_grad_(True), s.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([f, s], lr=lr)
    for _ in range(steps):
        rec = G.g2(f, s.clamp(0, 1) if G.__class__.__name__ == "FastGenerator" else s)
        loss = (rec - x).abs().mean() + perceptual(parser, rec, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return f.detach(), s.detach()


def report(E, G, parser, images, refine_steps=0, refine_images=None):
    """Reconstruction of photos: pixel L1, PSNR, perceptual distance (mean over photos); the refinement
    runs on the first `refine_images` of them, and its rows are compared on those same photos."""
    x = to_float(images)
    with torch.no_grad():
        f, s = E(x)
        rec = G.g2(f, s).clamp(-1, 1)
        out = {"l1": (rec - x).abs().mean().item(), "psnr": psnr(rec, x), "perceptual": perceptual(parser, rec, x).item()}
    if refine_steps:
        n = len(x) if refine_images is None else min(refine_images, len(x))
        x, f, s, rec = x[:n], f[:n], s[:n], rec[:n]
        f2, s2 = refine(G, parser, x, f, s, refine_steps)
        with torch.no_grad():
            rec2 = G.g2(f2, s2).clamp(-1, 1)
            out.update({"refined_l1": (rec2 - x).abs().mean().item(), "refined_psnr": psnr(rec2, x),
                        "refined_perceptual": perceptual(parser, rec2, x).item(), "refine_steps": refine_steps,
                        "refined_images": n, "unrefined_psnr_same_images": psnr(rec, x)})
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def main(argv=None):
    args = stage_args(__doc__, "encoder").parse_args(argv)
    cfg, ec = stage_config(args, "encoder")
    set_threads()
    run = run_dir(cfg, args.run_dir)
    G, _ = load_generator(run / "generator.pt")
    proxy, _ = load_proxy(run / "proxy.pt")
    parser, _ = load_parser(run / "parser.pt")
    parser.requires_grad_(False)
    root = data_root(cfg, args.data)
    real, _, _ = load_split(root, "train", G.res, with_masks=False)
    arch = {"res": G.res, "feat_res": G.split, "feat_channels": G.feature_channels, "style_dim": G.style_dim,
            "base": ec.base, "style_act": "sigmoid" if G.__class__.__name__ == "FastGenerator" else "none"}
    gen = seed_everything(ec.seed)
    E = Encoder(**arch)
    opt = torch.optim.Adam(E.parameters(), lr=ec.lr, betas=(0.9, 0.99))
    state = StageState(run / "encoder.pt", "encoder", arch, gen, model=E, opt=opt)
    state.resume(args.restart)
    w = {"pix": 1.0, "perc": 1.0, "feat": 1.0, "style": 1.0}
    psi = cfg.gan.truncation
    half = ec.batch // 2
    autocast = autocast_for(ec, torch.device("cpu"))

    def train_step():
        with torch.no_grad():
            z = torch.randn(half, G.z_dim, generator=gen)
            f, s = G.g1(G.mapping(z, psi + (1 - psi) * torch.rand(half, 1, generator=gen)))
            fake = G.g2(f, s).clamp(-1, 1)
        idx = torch.randint(len(real), (ec.batch - half,), generator=gen)
        photo, _ = flip_batch(to_float(real[idx]), None, torch.rand(len(idx), generator=gen) < 0.5)
        with autocast():
            lf = reconstruction_losses(E, G, parser, proxy, fake, (f, s))
            lr_ = reconstruction_losses(E, G, parser, proxy, photo)
            total = sum(w[k] * v for k, v in lf.items()) + ec.real_weight * sum(w[k] * v for k, v in lr_.items())
        optimiser_step(opt, total)
        return {f"gen_{k}": v for k, v in lf.items()} | {f"real_{k}": v for k, v in lr_.items()}

    saved = {"ec": ec.given()}
    state.train("encoder", ec.steps, train_step, ec.ckpt_every, saved)
    E.eval()
    test, _, _ = load_split(root, "test", G.res, with_masks=False, evaluation=True)
    metrics = state.finish({"test": report(E, G, parser, test[: ec.report_images], ec.refine_steps, ec.refine_images)}, saved)
    t = metrics["test"]
    print(f"encoder: test photos reconstructed with L1 {t['l1']:.3f}, PSNR {t['psnr']:.2f} dB"
          + (f"; {t['refined_images']} of them refined ({t['refine_steps']} steps) L1 {t['refined_l1']:.3f}, PSNR {t['refined_psnr']:.2f} dB" if "refined_l1" in t else ""))


if __name__ == "__main__":
    run_main(main)
