"""The 128-px generator ("fastgan-blend"): its split, its g2, bf16/channels_last training, resume and export."""
import json
import os
import shutil
import subprocess

import pytest
import torch
import torch.nn as nn

from phototype_train.export import pack as export_pack
from phototype_train.stages import proxy as fit_proxy
from phototype_train.stages import generator as train_generator
from phototype_train.stages import mapper as train_mapper
from phototype_train.stages import parser as train_parser
from phototype_train.stages import rearranger as train_rearranger
from phototype_train.common import REPO, load_checkpoint
from phototype_train.config import load_config
from phototype_train.networks.generator import BlendGenerator, FastGenerator, _SynthBlock, make_generator

TINY = load_config("tiny")


def tiny_blend_config(tmp_path, generator=None, **gan):
    """The tiny config with the blend generator and the given training switches, as a config file."""
    cfg = json.loads(json.dumps(TINY))
    cfg["generator"]["arch"] = "fastgan-blend"
    cfg["generator"].update(generator or {})
    cfg["gan"].update(gan)
    path = tmp_path / "tiny-blend.json"
    path.write_text(json.dumps(cfg))
    return str(path)


@torch.no_grad()
def calibrated_blend():
    """A fresh tiny blend generator in eval mode, its BatchNorm statistics taken from one batch
    (an untrained net's default running statistics shrink every layer's output to almost nothing)."""
    g = make_generator({**TINY["generator"], "arch": "fastgan-blend"})
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average: after one batch, that batch's statistics
    g.train()(torch.randn(64, g.z_dim))
    return g.eval()


@torch.no_grad()
def test_blend_split_shapes_and_g2_blocks():
    torch.manual_seed(0)
    g = calibrated_blend()
    assert isinstance(g, BlendGenerator)
    z = torch.randn(3, g.z_dim)
    f, s = g.g1(g.mapping(z, 0.7))
    img = g.g2(f, s)
    assert f.shape == (3, g.feature_channels, g.split, g.split) and s.shape == (3, g.style_dim)
    assert img.shape == (3, 3, g.res, g.res) and torch.allclose(img, g(z, 0.7), atol=1e-5)
    # g2: a block at the split's size, then one per octave, each two convs and gated by the style.
    assert len(g.g2_blocks) >= 2 and all(isinstance(b, _SynthBlock) and b.gate is not None for b in g.g2_blocks)
    assert not g.g2_blocks[0].up
    # F is ungated: no style gate anywhere in g1, and the style changes the image but not F.
    assert all(b.gate is None for b in g.g1_blocks)
    assert (g.g2(f, s) - g.g2(f, s.flip(0))).abs().max() > 1e-3
    # No nearest-neighbour upsampling anywhere (it leaves a 2x2 block grid).
    assert not any(isinstance(m, nn.Upsample) for m in g.modules())


@torch.no_grad()
def test_g2_spreads_a_single_feature_cell_over_a_neighbourhood():
    """A one-cell change of F moves several cells' worth of output pixels, not one block: room to blend seams."""
    torch.manual_seed(0)
    g = calibrated_blend()
    f, s = g.g1(g.mapping(torch.randn(1, g.z_dim)))
    f2 = f.clone()
    f2[:, :, 8, 8] += 3.0
    diff = (g.g2(f2, s) - g.g2(f, s)).abs().sum(1)[0] > 1e-4
    ys, xs = diff.nonzero(as_tuple=True)
    scale = g.res // g.split
    assert (ys.max() - ys.min() + 1) >= 4 * scale and (xs.max() - xs.min() + 1) >= 4 * scale


def test_faces128_and_faces64_configs_build():
    g128 = make_generator(load_config("faces128")["generator"])
    assert isinstance(g128, BlendGenerator) and g128.res == 128 and g128.split == 32
    n = sum(p.numel() for p in g128.parameters())
    assert 2_000_000 <= n <= 3_500_000, n
    f, s = g128.eval().g1(g128.mapping(torch.randn(2, g128.z_dim)))
    assert f.shape == (2, 64, 32, 32) and s.shape == (2, 128)
    # faces-64 keeps its architecture (and so its checkpoints) unchanged.
    g64 = make_generator(load_config("faces64")["generator"])
    assert type(g64) is FastGenerator and sum(p.numel() for p in g64.parameters()) == 1_195_387


@pytest.mark.parametrize("recipe", [{}, {"noise": True, "d_selfsup": True}], ids=["plain", "noise+selfsup"])
def test_resume_is_exact_with_bf16_autocast_and_channels_last(dataset, tmp_path, recipe):
    cfg = tiny_blend_config(tmp_path, recipe, autocast="bf16", channels_last=True)
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["--config", cfg, "--data", str(dataset)]
    train_generator.main(common + ["--run-dir", str(a), "--steps", "6"])
    train_generator.main(common + ["--run-dir", str(b), "--steps", "3"])
    train_generator.main(common + ["--run-dir", str(b), "--steps", "6"])  # resumes at 3
    sa, sb = load_checkpoint(a / "generator.pt"), load_checkpoint(b / "generator.pt")
    assert sa["step"] == sb["step"] == 6 and sa["tc"]["autocast"] == "bf16"
    for key in ("g", "d", "g_ema"):
        for name, t in sa[key].items():
            assert t.dtype != torch.bfloat16, f"{key}.{name} stored in bf16: weights must stay fp32"
            assert torch.equal(t, sb[key][name]), f"{key}.{name} differs after resume"
    assert all(torch.isfinite(t).all() for t in sa["g"].values() if t.is_floating_point())


def test_bf16_trained_blend_pack_matches_onnx_runtime(dataset, tmp_path):
    """A blend generator trained under bf16 autocast, with g2 noise and D's self-supervision, exports
    (fp32 weights, fixed noise maps) and ONNX Runtime matches PyTorch."""
    cfg = tiny_blend_config(tmp_path, {"noise": True, "d_selfsup": True}, autocast="bf16", channels_last=True)
    run = tmp_path / "run"
    common = ["--config", cfg, "--run-dir", str(run)]
    train_parser.main(common + ["--data", str(dataset), "--steps", "4"])
    train_generator.main(common + ["--data", str(dataset), "--steps", "6"])
    fit_proxy.main(common)
    train_rearranger.main(common + ["--steps", "2"])
    train_mapper.main(common + ["--steps", "2", "--kind", "mask"])
    packs = tmp_path / "packs"
    export_pack.main(["--config", cfg, "--run-dir", str(run), "--packs-dir", str(packs), "--pack", "tiny-blend"])
    manifest = json.loads((packs / "tiny-blend" / "pack.json").read_text())
    assert manifest["training"]["generator_arch"] == "fastgan-blend"
    assert manifest["feature"] == {"channels": 24, "height": 16, "width": 16} and manifest["style"]["size"] == 32
    have_node = (REPO / "node_modules" / ".bin" / "tsx").is_file() and shutil.which("node")
    if not have_node:
        if os.environ.get("CI"):
            pytest.fail("CI must run the parity check: install node_modules before pytest")
        pytest.skip("node_modules not installed: no ONNX Runtime to compare with")
    r = subprocess.run([str(REPO / "node_modules/.bin/tsx"), "scripts/check-parity.ts", "--json", str(packs / "tiny-blend")],
                       cwd=REPO, capture_output=True, text=True)
    result = json.loads(r.stdout)
    assert result["ok"], result
    assert result["maxError"] <= export_pack.PARITY_TOLERANCE
