"""Part-aware proxy masks and mask mappers that follow the drawn parts, on hand-made numbers."""
import io

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn

from phototype_train.data.classes import NAMES, side_merge_lut, sides_merged
from phototype_train.networks.mapper import SemanticMapper
from phototype_train.networks.proxy import PartProxyAssign
from phototype_train.stages.proxy import fit_part_features, variants_per_part


def hand_proxy():
    """2 channels, 2 parts. The head names part 0 where channel 0 > channel 1. Part 0 owns clusters
    0 (direction (1, 0)) and 1 (direction (1, 1)); part 1 owns cluster 2 (direction (0, 1))."""
    head = nn.Conv2d(2, 2, 1)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).view(2, 2, 1, 1))
        head.bias.zero_()
    centroids = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    return PartProxyAssign(centroids, torch.zeros(2), torch.ones(2), head, torch.tensor([0, 0, 1]), per_sample=False)


def test_a_pixel_takes_the_nearest_cluster_of_the_part_the_head_names():
    proxy = hand_proxy()
    # pixels: (2, 0) part 0, nearest (1,0) -> 0; (2, 1.5) part 0, nearest (1,1) -> 1;
    # (0.9, 1) part 1 -> 2 although (1,1) is nearer by cosine; (0, 3) part 1 -> 2
    f = torch.tensor([[2.0, 0.0], [2.0, 1.5], [0.9, 1.0], [0.0, 3.0]]).t().reshape(1, 2, 2, 2)
    assert proxy(f).flatten().tolist() == [0, 1, 2, 2]
    assert proxy.parts == 2 and proxy.k == 3


def test_a_part_without_clusters_is_never_named():
    proxy = hand_proxy()
    proxy3 = PartProxyAssign(proxy.centroids, torch.zeros(2), torch.ones(2), nn.Conv2d(2, 3, 1), torch.tensor([0, 0, 1]))
    with torch.no_grad():
        proxy3.head.weight.zero_()
        proxy3.head.bias.copy_(torch.tensor([0.0, 0.0, 5.0]))  # the head prefers part 2, which owns nothing
    assert proxy3.part_logits(torch.ones(1, 2, 1, 1)).argmax(1).item() in (0, 1)


def test_variants_follow_the_part_share():
    # shares: 0.5, 0.05, 0.01, 0 cells -> 3, 2, 1, 0 clusters; 20 cells is below min_cells
    counts = torch.tensor([1000, 100, 20, 0, 880])
    assert variants_per_part(counts, min_cells=10) == [3, 2, 1, 0, 3]
    assert variants_per_part(counts, min_cells=50) == [3, 2, 0, 0, 3]
    assert variants_per_part(counts, rule=((0.0, 1),), min_cells=10) == [1, 1, 1, 0, 1]


def test_sides_merge_into_the_persons_left_part():
    lut = side_merge_lut()
    for l, r in (("l_eye", "r_eye"), ("l_brow", "r_brow"), ("l_ear", "r_ear")):
        assert lut[NAMES.index(r)] == NAMES.index(l) and lut[NAMES.index(l)] == NAMES.index(l)
    assert lut[NAMES.index("nose")] == NAMES.index("nose")
    assert sides_merged(torch.tensor([5, 4, 9, 2])).tolist() == [4, 4, 8, 2]


def test_fitting_finds_the_parts_and_their_clusters():
    # Two parts on separable features: part 1 where channel 1 is high. A conv head and a linear one both read it.
    g = torch.Generator().manual_seed(0)
    labels = (torch.rand(40, 8, 8, generator=g) > 0.7).long()
    feats = torch.randn(40, 4, 8, 8, generator=g) * 0.3
    feats[:, 1] += 3.0 * labels
    for hidden in (0, 8):
        proxy = fit_part_features(feats, labels, "global", 0, 10_000, ((0.0, 1),), n_init=1, hidden=hidden, parts=2)
        assert proxy.centroid_part.tolist() == [0, 1]
        assert (proxy(feats) == labels).float().mean() > 0.98


class FixedLogits(nn.Module):
    """Stands in for the mapper's UNet: the same logits everywhere, cluster 0 strongly preferred."""

    def __init__(self, k, size):
        super().__init__()
        self.k, self.size = k, size

    def forward(self, x):
        logits = torch.zeros(len(x), self.k, self.size, self.size)
        logits[:, 0] = 5.0
        logits[:, 2] = 1.0
        return logits


def drawn_mapper():
    # 4 classes: 0 background, 1 skin, 2 "l_eye", 3 "r_eye" folded into part 2; cluster parts: 0 -> 0, 1 -> 1, 2 -> 2, 3 -> 2
    m = SemanticMapper("mask", 4, 4, cluster_part=[0, 1, 2, 2], part_of_class=[0, 1, 2, 2])
    m.net = FixedLogits(4, 2)
    return m.eval()


def test_a_drawn_part_picks_among_its_own_clusters():
    m = drawn_mapper()
    mask = torch.zeros(1, 4, 4, dtype=torch.long)
    mask[0, :2, 2:] = 1      # top right cell: skin
    mask[0, 2:, :2] = 3      # bottom left cell: a right eye, the eye part
    mask[0, 2:, 2:] = 255    # bottom right: nothing drawn -> the network decides
    out = m(mask).argmax(1)[0]
    assert out.tolist() == [[0, 1], [2, 0]]


def test_training_mode_leaves_the_logits_free():
    m = drawn_mapper().train()
    mask = torch.ones(1, 4, 4, dtype=torch.long)
    assert (m(mask).argmax(1) == 0).all()


def test_the_drawn_rule_survives_onnx_export():
    m = drawn_mapper()
    m.net = nn.Conv2d(4, 4, 2, stride=2)  # exportable stand-in with the same output size
    mask = torch.tensor(np.random.default_rng(0).integers(0, 4, (2, 4, 4)))
    buf = io.BytesIO()
    torch.onnx.export(m, (mask,), buf, input_names=["condition"], output_names=["logits"], opset_version=17, dynamo=False)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"condition": mask.numpy()})[0].argmax(1)
    assert (got == m(mask).argmax(1).numpy()).all()
    proxy = hand_proxy()
    f = torch.randn(2, 2, 4, 4)
    buf = io.BytesIO()
    torch.onnx.export(proxy, (f,), buf, input_names=["features"], output_names=["proxy"], opset_version=17, dynamo=False)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    assert (sess.run(None, {"features": f.numpy()})[0] == proxy(f).numpy()).all()


def test_part_proxies_train_export_and_follow_the_drawing(tiny_run, tmp_path):
    """The tiny run again with a part-aware proxy (sides merged), off-habit rearranger targets and
    mapper layouts, and the parser judging: the stages run, the pack exports, and its mask mapper
    keeps drawn parts."""
    import json
    import shutil

    from phototype_train.export import pack as export_pack
    from phototype_train.stages import mapper as train_mapper
    from phototype_train.stages import proxy as fit_proxy
    from phototype_train.stages import rearranger as train_rearranger
    from phototype_train.stages.proxy import load_proxy

    run = tmp_path / "run"
    run.mkdir()
    for f in ("generator.pt", "parser.pt", "encoder.pt"):
        shutil.copy(tiny_run / f, run / f)
    common = ["--config", "tiny", "--run-dir", str(run)]
    parts = ["--set", 'kind="parts"', "--set", 'sides="merged"', "--set", "head_hidden=8"]
    fit_proxy.main(common + parts)
    proxy, st = load_proxy(run / "proxy.pt")
    assert isinstance(proxy, PartProxyAssign) and st["sides"] == "merged"
    assert NAMES.index("r_eye") not in proxy.centroid_part.tolist()
    train_rearranger.main(common + ["--steps", "3", "--set", "off_habit=1.0"])
    for kind in ("mask", "sketch", "scribble", "edges"):
        train_mapper.main(common + ["--steps", "3", "--kind", kind] + (["--set", "off_habit=1.0"] if kind != "edges" else []))
    packs = tmp_path / "packs"
    export_pack.main(common + ["--packs-dir", str(packs), "--pack", "tiny-parts"])
    manifest = json.loads((packs / "tiny-parts" / "pack.json").read_text())
    assert manifest["proxy"]["k"] == proxy.k
    sess = ort.InferenceSession(str(packs / "tiny-parts" / manifest["networks"]["mapper.mask"]["file"]), providers=["CPUExecutionProvider"])
    res = manifest["resolution"]
    mask = np.zeros((1, res, res), np.int64)  # background, a skin face, a right eye drawn on the image's left
    mask[0, res // 4:, res // 4:3 * res // 4] = NAMES.index("skin")
    mask[0, res // 2:res // 2 + res // 8, res // 4:res // 2] = NAMES.index("r_eye")
    clusters = sess.run(None, {sess.get_inputs()[0].name: mask})[0].argmax(1)[0]
    got = proxy.centroid_part[torch.from_numpy(clusters)]
    cells = clusters.shape[-1]
    drawn = sides_merged(torch.nn.functional.adaptive_avg_pool2d(
        torch.nn.functional.one_hot(torch.from_numpy(mask), NAMES.__len__()).permute(0, 3, 1, 2).float(), cells).argmax(1))[0]
    owned = torch.isin(drawn, proxy.centroid_part)
    assert owned.any() and (got[owned] == drawn[owned]).all()
