"""Drawing from a trained generator: the frozen EMA copy, features and images in batches."""
import torch

from phototype_train.common import load_stage, load_weights
from phototype_train.networks.generator import make_generator


def load_generator(path, ema=True):
    """The EMA generator from a checkpoint, frozen and in eval mode."""
    st = load_stage(path, "generator")
    g = make_generator(st["gcfg"])
    load_weights(g, st["g_ema" if ema else "g"], path, "generator checkpoint")
    g.eval().requires_grad_(False)
    return g, st


def latents(n, z_dim, seed):
    return torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def synthesize(G, z, psi=1.0, batch=64, images=True):
    """Returns (F, style, rgb-or-None) for every latent, computed in batches."""
    feats, styles, rgbs = [], [], []
    for i in range(0, len(z), batch):
        f, s = G.g1(G.mapping(z[i:i + batch], psi))
        feats.append(f)
        styles.append(s)
        if images:
            rgbs.append(G.g2(f, s).clamp(-1, 1))
    return torch.cat(feats), torch.cat(styles), (torch.cat(rgbs) if images else None)


@torch.no_grad()
def recalibrate_batchnorm(G, z_dim, batches=8, batch=64, seed=99):
    """Set G's BatchNorm statistics to their average over fresh samples at psi 1 (the training
    distribution), then eval mode. An EMA copy's weights are an average, so statistics copied from
    the live net do not match them; these do. The global RNG (g2's training noise) is left as it was."""
    bns = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return G.eval()
    momenta = [m.momentum for m in bns]
    gen = torch.Generator().manual_seed(seed)
    dev = next(G.parameters()).device
    with torch.random.fork_rng(devices=[]):
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches below
        G.train()
        for _ in range(batches):
            G(torch.randn(batch, z_dim, generator=gen).to(dev))
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    return G.eval()
