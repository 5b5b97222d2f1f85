"""The generator's training recipe: one G forward a step, no D weight gradients in the G step, fp32
logits, D's self-supervision, g2 noise, recalibrated BatchNorm statistics, and resume's step sizes."""
import json

import pytest
import torch
import torch.nn as nn

from phototype_train.stages import generator as train_generator
from phototype_train.common import load_checkpoint, seed_everything
from phototype_train.config import Config, load_config
from phototype_train.evaluation.metrics import area_spread, pairwise_layout_miou, vertical_extent
from phototype_train.networks.discriminator import Discriminator, quarter_of
from phototype_train.networks.generator import NoiseInjection, make_generator
from phototype_train.sampling import recalibrate_batchnorm
from phototype_train.stages.generator import frozen, gan_step, make_optimisers

TINY = load_config("tiny")


def tiny(generator=None, **gan):
    cfg = json.loads(json.dumps(TINY))
    cfg["generator"].update({"arch": "fastgan-blend", **(generator or {})})
    cfg["gan"].update(gan)
    return Config.from_dict(cfg)


def test_one_generator_forward_a_step_and_no_discriminator_gradients_in_the_generator_step():
    cfg = tiny({"d_selfsup": True, "noise": True}, autocast="bf16")
    G, D = make_generator(cfg.generator.given()), Discriminator(cfg.generator.given())
    opt_g, opt_d = make_optimisers(G, D, cfg.gan)
    g_calls, d_trainable = [], []
    G.register_forward_hook(lambda *_: g_calls.append(1))
    D.register_forward_pre_hook(lambda m, _: d_trainable.append(any(p.requires_grad for p in m.parameters())))
    gen = seed_everything(0)
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    out = gan_step(G, D, opt_g, opt_d, real, gen, cfg.gan, step=1, autocast=lambda: torch.autocast("cpu", torch.bfloat16))
    assert len(g_calls) == 1
    assert d_trainable == [True, False]  # D step on fakes (reals go through reconstruct), then the G step frozen
    assert all(p.requires_grad for p in D.parameters())
    assert out["rec"] is not None and torch.isfinite(out["rec"])
    assert out["loss_d"].dtype == out["loss_g"].dtype == torch.float32


def test_frozen_leaves_already_frozen_parameters_frozen():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    net[0].requires_grad_(False)
    with frozen(net):
        assert not any(p.requires_grad for p in net.parameters())
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]


def test_discriminator_logits_are_fp32_under_bf16_autocast():
    D = Discriminator(tiny().generator.given())
    with torch.autocast("cpu", torch.bfloat16):
        assert D(torch.rand(4, 3, 32, 32)).dtype == torch.float32


def test_self_supervised_rebuilds_are_sized_for_their_targets():
    cfg = tiny({"d_selfsup": True}).generator.given()
    D = Discriminator(cfg)
    x = torch.rand(2, 3, 32, 32)
    logits, whole, part = D.reconstruct(x, 3)
    assert logits.shape == (2, 1) and whole.shape == (2, 3, 16, 16) and part.shape == (2, 3, 16, 16)
    grid = torch.arange(16.0).view(1, 1, 4, 4)
    assert quarter_of(grid, 0).flatten().tolist() == [0, 1, 4, 5]
    assert quarter_of(grid, 1).flatten().tolist() == [2, 3, 6, 7]
    assert quarter_of(grid, 3).flatten().tolist() == [10, 11, 14, 15]


def test_noise_is_fresh_in_training_and_one_fixed_map_in_eval():
    n = NoiseInjection(2, 4, seed=7)
    with torch.no_grad():
        n.weight.fill_(1.0)
    x = torch.zeros(3, 2, 4, 4)
    a, b = n.train()(x), n(x)
    assert not torch.equal(a, b) and not torch.equal(a[0], a[1])
    e1, e2 = n.eval()(x), n(x)
    assert torch.equal(e1, e2) and torch.equal(e1[0], e1[2])
    assert torch.equal(NoiseInjection(2, 4, seed=7).fixed, n.fixed)  # the same map after every rebuild (ONNX export)


def test_noise_leaves_the_split_features_alone():
    g = make_generator(tiny({"noise": True}).generator.given()).train()
    z = torch.randn(2, g.z_dim)
    torch.manual_seed(0)
    f1, _ = g.g1(g.mapping(z))
    torch.manual_seed(1)
    f2, _ = g.g1(g.mapping(z))
    assert torch.equal(f1, f2)


class _BatchNormOnly(nn.Module):
    z_dim = 3

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(3)
        self.bn.running_mean.fill_(5.0)  # stale statistics, as an EMA copy inherits them

    def forward(self, z):
        return self.bn(z[:, :, None, None])


def test_recalibrated_statistics_are_those_of_the_fresh_samples():
    g = _BatchNormOnly()
    recalibrate_batchnorm(g, 3, batches=2, batch=8, seed=5)
    gen = torch.Generator().manual_seed(5)
    z = torch.cat([torch.randn(8, 3, generator=gen) for _ in range(2)])
    assert not g.training
    assert torch.allclose(g.bn.running_mean, z.mean(0), atol=1e-6)
    # a cumulative average of each batch's unbiased variance
    var = (z[:8].var(0, unbiased=True) + z[8:].var(0, unbiased=True)) / 2
    assert torch.allclose(g.bn.running_var, var, atol=1e-6)
    assert g.bn.momentum == 0.1  # restored


def test_recalibration_leaves_the_global_random_state_alone():
    g = make_generator(tiny({"noise": True}).generator.given())
    torch.manual_seed(3)
    recalibrate_batchnorm(g, g.z_dim, batches=1, batch=4)
    after = torch.rand(3)
    torch.manual_seed(3)
    assert torch.equal(after, torch.rand(3))


def test_resume_takes_both_step_sizes_from_the_config(dataset, tmp_path):
    def cfg_file(d_lr, g_lr):
        c = json.loads(json.dumps(TINY))
        c["gan"].update(d_lr=d_lr, g_lr=g_lr)
        p = tmp_path / f"tiny-{d_lr}.json"
        p.write_text(json.dumps(c))
        return str(p)

    run = ["--data", str(dataset), "--run-dir", str(tmp_path / "run")]
    train_generator.main(["--config", cfg_file(0.001, 0.001)] + run + ["--steps", "2"])
    train_generator.main(["--config", cfg_file(0.004, 0.003)] + run + ["--steps", "3"])
    st = load_checkpoint(tmp_path / "run" / "generator.pt")
    r1_every = TINY["gan"]["r1_every"]
    assert st["opt_d"]["param_groups"][0]["lr"] == pytest.approx(0.004 * r1_every / (r1_every + 1))
    assert st["opt_g"]["param_groups"][0]["lr"] == pytest.approx(0.003)
    rows = [json.loads(l) for l in (tmp_path / "run" / "generator.log.jsonl").read_text().splitlines()]
    assert all(r["g_update"] > 0 and r["d_update"] > 0 and "load1" in r for r in rows)


def test_pairwise_layout_miou_by_hand():
    a = torch.tensor([[0, 0], [1, 1]])
    b = torch.tensor([[0, 1], [1, 1]])
    # a vs b: class 0 IoU 1/2, class 1 IoU 2/3 -> 7/12, whichever order the pair is drawn in
    assert pairwise_layout_miou(torch.stack([a, b]), 2) == pytest.approx(7 / 12)
    assert pairwise_layout_miou(torch.stack([a, a, a]), 2) == pytest.approx(1.0)


def test_area_spread_and_vertical_extent_by_hand():
    labels = torch.tensor([[[1, 1], [0, 0]], [[1, 1], [1, 1]]])
    # class 1 covers 1/2 and 1 of the image: sd 1/4; class 0 covers 1/2 and 0: sd 1/4; class 2 never: 0
    assert area_spread(labels, 3).tolist() == pytest.approx([0.25, 0.25, 0.0])
    assert vertical_extent(labels, 1).tolist() == [1, 2]
    assert vertical_extent(labels, 2).tolist() == [0, 0]
    assert vertical_extent(torch.tensor([[[1], [0], [1]]]), 1).tolist() == [3]  # first to last row, gaps included


def test_monitor_structure_of_identical_layouts_has_no_spread():
    from phototype_train.evaluation.monitor_generator import structure
    one = torch.zeros(8, 8, dtype=torch.long)
    one[2:6, 2:6] = 13  # hair
    one[5, 3:5] = 11  # a lip
    st = structure(one.expand(4, 8, 8).clone())
    assert st["pairwise_miou"] == pytest.approx(1.0)
    assert st["mouth_area_sd"] == st["hair_height_sd"] == st["part_area_sd"] == 0.0
