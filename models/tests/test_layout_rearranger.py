"""The layout rearranger (v2): what each of its parts is for, on hand-made layouts."""
import onnx
import pytest
import torch

from phototype_train.networks.rearranger import LayoutRearranger, make_rearranger
from phototype_train.stages.rearranger import far_neighbour_share


def layouts(side=8):
    """Source: left half cluster 0, right half cluster 1. Target: top half 0, bottom half 2 (absent in source)."""
    src = torch.zeros(1, side, side, dtype=torch.long)
    src[:, :, side // 2:] = 1
    tgt = torch.zeros(1, side, side, dtype=torch.long)
    tgt[:, side // 2:] = 2
    return src, tgt


def test_a_cluster_the_source_lacks_reads_its_memory_slot():
    torch.manual_seed(0)
    side, c, k = 8, 8, 3
    protos = torch.randn(k, c) * 3
    r = LayoutRearranger(k, c, side, side, dim=16, heads=2, refine=2, prototypes=protos).eval()
    src, tgt = layouts(side)
    feats = torch.randn(1, c, side, side)
    with torch.no_grad():
        out, attn = r(feats, src, tgt, with_attention=True)
    bottom = out[0, :, side // 2:].flatten(1).mean(1)
    # Cluster 2 is nowhere in the source: its cells become (nearly) cluster 2's prototype.
    assert torch.allclose(bottom, protos[2], atol=0.1)
    # Cluster 0 exists in the source: its cells read source cells, not the memory.
    assert attn[0, :, : side * side // 2, side * side:].sum(-1).max() < 0.05


def test_without_memory_a_missing_cluster_copies_unrelated_cells():
    torch.manual_seed(0)
    side, c, k = 8, 8, 3
    protos = torch.randn(k, c) * 3
    r = LayoutRearranger(k, c, side, side, dim=16, heads=2, refine=2, memory=False, prototypes=protos).eval()
    src, tgt = layouts(side)
    with torch.no_grad():
        out = r(torch.randn(1, c, side, side), src, tgt)
    assert not torch.allclose(out[0, :, side // 2:].flatten(1).mean(1), protos[2], atol=0.5)


def test_locality_keeps_neighbours_together():
    torch.manual_seed(0)
    side, c, k = 8, 8, 3
    src = torch.zeros(1, side, side, dtype=torch.long)
    feats = torch.randn(1, c, side, side)
    near = LayoutRearranger(k, c, side, side, dim=16, heads=2, refine=0).eval()
    with torch.no_grad():
        near.log_locality.fill_(2.0)
        _, attn = near(feats, src, src, with_attention=True)
    # One cluster everywhere: with locality each cell reads itself, so no neighbours are torn apart.
    assert far_neighbour_share(attn, side) == 0.0
    assert (attn[0, 0, :, : side * side].argmax(-1) == torch.arange(side * side)).all()


def test_far_neighbour_share_by_hand():
    side, n = 4, 16
    attn = torch.zeros(1, 1, n, n + 2)
    # Every cell reads itself, except cell (0,0), which reads (3,3), and cell (1,1), which reads memory slot 0.
    for i in range(n):
        attn[0, 0, i, i] = 1
    attn[0, 0, 0] = 0
    attn[0, 0, 0, 15] = 1
    attn[0, 0, 5] = 0
    attn[0, 0, 5, n] = 1
    # 12 right-pairs and 12 below-pairs; (3,3) is 3 cells from (0,1) and (1,0), so (0,0) breaks 2 pairs; (1,1) breaks its 4.
    share = far_neighbour_share(attn, side, far=2)
    assert share == pytest.approx((3 / 12 + 3 / 12) / 2)


def test_exports_to_onnx(tmp_path):
    # Outputs are compared with ONNX Runtime by the pack parity check (scripts/check-parity.ts).
    torch.manual_seed(0)
    r = make_rearranger({"kind": "layout", "k": 5, "channels": 8, "height": 8, "width": 8, "dim": 16, "heads": 2, "refine": 3}).eval()
    feats = torch.randn(2, 8, 8, 8)
    ps, pt = torch.randint(0, 5, (2, 8, 8)), torch.randint(0, 5, (2, 8, 8))
    path = tmp_path / "r.onnx"
    torch.onnx.export(r, (feats, ps, pt), str(path), input_names=["f", "ps", "pt"], output_names=["out"],
                      dynamic_axes={n: {0: "batch"} for n in ("f", "ps", "pt", "out")}, opset_version=17, dynamo=False)
    onnx.checker.check_model(onnx.load(str(path)))
