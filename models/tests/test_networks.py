"""Shapes of every network, and that a few optimisation steps lower each loss."""
import torch
import torch.nn.functional as F

from phototype_train.config import load_config
from phototype_train.networks.discriminator import Discriminator, diff_augment
from phototype_train.networks.encoder import Encoder
from phototype_train.networks.generator import make_generator
from phototype_train.networks.mapper import SemanticMapper
from phototype_train.networks.parser import FaceParser
from phototype_train.networks.proxy import ProxyAssign
from phototype_train.networks.rearranger import Rearranger, make_rearranger
from phototype_train.stages.rearranger import losses as rearranger_losses

CFG = load_config("tiny")


def test_generator_split_shapes_both_archs():
    for arch in ("stylegan2", "fastgan"):
        g = make_generator({**CFG["generator"], "arch": arch}).eval()
        z = torch.randn(3, g.z_dim)
        w = g.mapping(z, 0.7)
        f, s = g.g1(w)
        img = g.g2(f, s)
        assert f.shape == (3, g.feature_channels, g.split, g.split)
        assert s.shape == (3, g.style_dim)
        assert img.shape == (3, 3, g.res, g.res)
        assert torch.allclose(img, g(z, 0.7), atol=1e-5)


def test_truncation_zero_collapses_to_average_w():
    g = make_generator(CFG["generator"])
    g.w_avg.normal_()
    w = g.mapping(torch.randn(4, g.z_dim), 0.0)
    assert torch.allclose(w, g.w_avg.expand_as(w))


def test_discriminator_and_augment_shapes():
    d = Discriminator(CFG["generator"])
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    assert d(x).shape == (4, 1)
    assert diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(0)).shape == x.shape


def test_parser_mapper_rearranger_shapes():
    assert FaceParser(19, 8, 3)(torch.randn(2, 3, 32, 32)).shape == (2, 19, 32, 32)
    e = Encoder(32, 16, 24, 12, base=8, style_act="sigmoid")
    f, st = e(torch.randn(2, 3, 32, 32))
    assert f.shape == (2, 24, 16, 16) and st.shape == (2, 12) and (st >= 0).all() and (st <= 1).all()
    for kind in ("sketch", "edges"):
        assert SemanticMapper(kind, 19, 8, base=8, depth=3, out_down=1)(torch.rand(2, 1, 32, 32)).shape == (2, 8, 16, 16)
    m = SemanticMapper("mask", 19, 8, base=8, depth=3, out_down=1)
    cond = torch.randint(0, 19, (2, 32, 32))
    cond[0, 0, 0] = 255  # "nothing drawn" is all-zero one-hot, not an error
    assert m(cond).shape == (2, 8, 16, 16)
    p = torch.randint(0, 8, (2, 16, 16))
    for refine in (0, 1, 3):
        r = Rearranger(8, 24, 16, 16, dim=32, heads=2, refine=refine)
        assert r(torch.randn(2, 24, 16, 16), p, p.flip(0)).shape == (2, 24, 16, 16)


def _steps(params, loss_fn, n=15, lr=1e-2):
    opt = torch.optim.Adam(params, lr=lr)
    first = loss_fn().item()
    for _ in range(n):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    return first, loss_fn().item()


def test_a_few_steps_lower_each_loss():
    torch.manual_seed(0)
    g, d = make_generator(CFG["generator"]), Discriminator(CFG["generator"])
    real, z = torch.rand(8, 3, 32, 32) * 2 - 1, torch.randn(8, g.z_dim)
    fake = g(z).detach()
    a, b = _steps(d.parameters(), lambda: F.softplus(d(fake)).mean() + F.softplus(-d(real)).mean(), lr=2e-3)
    assert b < a, f"discriminator loss {a} -> {b}"
    a, b = _steps(g.parameters(), lambda: F.softplus(-d(g(z))).mean(), lr=2e-3)
    assert b < a, f"generator loss {a} -> {b}"

    parser, img, lab = FaceParser(19, 8, 3), torch.randn(4, 3, 32, 32), torch.randint(0, 19, (4, 32, 32))
    a, b = _steps(parser.parameters(), lambda: F.cross_entropy(parser(img), lab))
    assert b < a, f"parser loss {a} -> {b}"

    mapper, cond, tgt = SemanticMapper("mask", 19, 8, 8, 3, 1), torch.randint(0, 19, (4, 32, 32)), torch.randint(0, 8, (4, 16, 16))
    a, b = _steps(mapper.parameters(), lambda: F.cross_entropy(mapper(cond), tgt))
    assert b < a, f"mapper loss {a} -> {b}"

    enc, photos = Encoder(32, 16, g.feature_channels, g.style_dim, base=8, style_act="none"), torch.rand(4, 3, 32, 32) * 2 - 1
    g.eval().requires_grad_(False)
    a, b = _steps(enc.parameters(), lambda: (g.g2(*enc(photos)) - photos).abs().mean(), lr=2e-3)
    assert b < a, f"encoder reconstruction loss {a} -> {b}"
    with torch.no_grad():
        f, s = g.g1(g.mapping(torch.randn(64, g.z_dim)))
    flat = f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])
    proxy = ProxyAssign(flat[torch.randperm(len(flat))[:8]], flat.mean(0), flat.std(0))
    pa = proxy(f[:4])
    pb = proxy(f[4:8])
    judges = (Discriminator(CFG["generator"]), FaceParser(base=8, depth=2).eval().requires_grad_(False))
    with torch.no_grad():
        parts_b = judges[1](g.g2(f[4:8], s[4:8])).argmax(1)  # the parse target: b's parts
    for kind in ("attention", "layout"):
        for name in ("rec", "img", "mask", "style", "cycle", "real", "parse"):
            torch.manual_seed(1)
            r = make_rearranger({"kind": kind, "k": 8, "channels": f.shape[1], "height": 16, "width": 16, "dim": 32, "heads": 2, "refine": 1})
            loss = lambda: rearranger_losses(r, g, proxy, f[:4], s[:4], pa, pb, 0.1, judges, parts_b)[0][name]
            a, b = _steps(r.parameters(), loss, n=10, lr=5e-4)
            assert b < a, f"{kind} rearranger {name} loss {a} -> {b}"


def test_condition_renderers_look_like_user_input():
    import numpy as np
    from phototype_train.data.conditions import NO_STROKE, edges_from_image, scribble_from_mask, simplify_mask, sketch_from_mask
    from phototype_train.data.synthetic import face
    rng = np.random.default_rng(0)
    img, mask = face(rng)
    simple = simplify_mask(mask, rng)
    assert simple.shape == mask.shape and (simple == mask).mean() > 0.8  # same layout, flatter shapes
    sk = sketch_from_mask(mask, rng, drop_p=0.0)
    assert set(np.unique(sk)) <= {0.0, 1.0} and 0.02 < sk.mean() < 0.4  # thin lines, mostly paper
    sc = scribble_from_mask(mask, rng, keep_p=1.0)
    drawn = sc != NO_STROKE
    assert 0.01 < drawn.mean() < 0.6 and (sc[drawn] == mask[drawn]).all()  # strokes stay inside their part
    ed = edges_from_image(img)
    assert set(np.unique(ed)) <= {0.0, 1.0} and 0.01 < ed.mean() < 0.5
