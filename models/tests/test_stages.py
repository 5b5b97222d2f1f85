"""The stages end to end on the tiny config: resume, k-means, export, parity, bad input."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from phototype_train.export import pack as export_pack
from phototype_train.stages import generator as train_generator
from phototype_train.common import REPO, UserError, load_checkpoint
from phototype_train.data.dataset import read_mask
from phototype_train.stages.proxy import load_proxy
from phototype_train.networks.proxy import ProxyAssign



def test_resume_reproduces_the_uninterrupted_run(dataset, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["--config", "tiny", "--data", str(dataset)]
    train_generator.main(common + ["--run-dir", str(a), "--steps", "6"])
    train_generator.main(common + ["--run-dir", str(b), "--steps", "3"])
    train_generator.main(common + ["--run-dir", str(b), "--steps", "6"])  # resumes at 3
    sa, sb = load_checkpoint(a / "generator.pt"), load_checkpoint(b / "generator.pt")
    assert sa["step"] == sb["step"] == 6
    for key in ("g", "d", "g_ema"):
        for name, t in sa[key].items():
            assert torch.equal(t, sb[key][name]), f"{key}.{name} differs after resume"
    assert torch.equal(sa["rng"]["gen"], sb["rng"]["gen"])


def test_kmeans_assignment_is_nearest_centroid_by_cosine():
    centroids = torch.eye(4, 6)
    proxy = ProxyAssign(centroids, torch.zeros(6), torch.ones(6))
    feats = torch.zeros(1, 6, 2, 2)
    for i, (y, x) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        feats[0, i, y, x] = 5.0 + i  # magnitude must not matter
        feats[0, 5, y, x] = 0.5       # a little off-axis noise
    assert proxy(feats).tolist() == [[[0, 1], [2, 3]]]


def test_fitted_proxy_uses_its_clusters(tiny_run):
    proxy, st = load_proxy(tiny_run / "proxy.pt")
    assert proxy.k == 8
    assert torch.allclose(proxy.centroids.norm(dim=1), torch.ones(8), atol=1e-5)
    m = st["metrics"]
    assert 0.0 < m["cluster_purity"] <= 1.0 and m["clusters_used"] >= 2


def test_encoder_report_refines_only_the_first_photos_and_compares_on_them(tiny_run):
    t = torch.load(tiny_run / "encoder.pt", map_location="cpu", weights_only=False)["metrics"]["test"]
    assert t["refine_steps"] == 2 and t["refined_images"] == 2  # of the 4 report photos (tiny.json)
    assert t["unrefined_psnr_same_images"] > 0 and t["refined_psnr"] > 0


def test_export_writes_a_valid_pack_that_onnx_runtime_matches(tiny_run, tmp_path):
    packs = tmp_path / "packs"
    export_pack.main(["--config", "tiny", "--run-dir", str(tiny_run), "--packs-dir", str(packs), "--pack", "tiny"])
    pack = packs / "tiny"
    manifest = json.loads((pack / "pack.json").read_text())
    assert set(manifest["networks"]) == {"mapping", "g1", "proxy", "rearranger", "g2", "mapper.mask", "mapper.sketch",
                                         "mapper.scribble", "mapper.edges", "encoder", "parser"}
    assert [c["kind"] for c in manifest["conditions"]] == ["mask", "sketch", "scribble", "edges"]
    assert manifest["sidePairs"][0] == {"label": "Eye", "imageLeft": "r_eye", "imageRight": "l_eye"}
    assert manifest["photoLayout"] == "parser"
    names = {m["name"] for m in manifest["metrics"]}
    assert {"cluster_purity", "rearranger_agreement", "rearranger_appearance_kept", "mapper_sketch_agreement_drawn",
            "inversion_test_psnr"} <= names
    for net in manifest["networks"].values():
        assert export_pack.sha256(pack / net["file"]) == net["sha256"]
    assert manifest["license"]["commercialUse"] is False and "non-commercial" in manifest["license"]["text"]
    have_node = (REPO / "node_modules" / ".bin" / "tsx").is_file() and shutil.which("node")
    if not have_node and os.environ.get("CI"):
        pytest.fail("CI must run the parity check: install node_modules before pytest")
    if have_node:
        r = subprocess.run([str(REPO / "node_modules/.bin/tsx"), "scripts/check-parity.ts", "--json", str(pack)],
                           cwd=REPO, capture_output=True, text=True)
        result = json.loads(r.stdout)
        assert result["ok"], result
        assert result["maxError"] <= export_pack.PARITY_TOLERANCE
        assert any(m["name"] == "parity_max_error" for m in manifest["metrics"])

    # Never overwrite a pack without --force.
    with pytest.raises(UserError, match="already exists"):
        export_pack.main(["--config", "tiny", "--run-dir", str(tiny_run), "--packs-dir", str(packs), "--pack", "tiny"])
    assert json.loads((pack / "pack.json").read_text()) == manifest


def test_pack_validation_refuses_broken_manifests(tiny_run, tmp_path):
    export_pack.main(["--config", "tiny", "--run-dir", str(tiny_run), "--packs-dir", str(tmp_path), "--pack", "p"])
    good = json.loads((tmp_path / "p" / "pack.json").read_text())
    export_pack.validate_manifest(good)
    breakages = [
        lambda m: m.pop("license"),
        lambda m: m["license"].__setitem__("commercialUse", True),
        lambda m: m["networks"]["g1"].__setitem__("sha256", "not-a-hash"),
        lambda m: m["classes"][0].__setitem__("color", "red"),
        lambda m: m.__setitem__("resolution", "64"),
        lambda m: m["networks"]["g2"].__setitem__("bytes", 17 * 2**20),
    ]
    for breakage in breakages:
        broken = json.loads(json.dumps(good))
        breakage(broken)
        with pytest.raises(UserError, match="pack.json is invalid"):
            export_pack.validate_manifest(broken)


def test_bad_masks_are_refused_with_a_reason(tmp_path):
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(UserError, match="expected 64x64"):
        read_mask(tmp_path / "small.png", 64)
    Image.fromarray(np.full((64, 64), 40, np.uint8)).save(tmp_path / "range.png")
    with pytest.raises(UserError, match="class 40"):
        read_mask(tmp_path / "range.png", 64)
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(UserError, match="greyscale"):
        read_mask(tmp_path / "rgb.png", 64)


def test_corrupt_checkpoint_is_refused(tmp_path):
    p = tmp_path / "generator.pt"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UserError, match="corrupt"):
        load_checkpoint(p)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "phototype_train", *args], capture_output=True, text=True)


def test_scripts_fail_with_one_clear_line_not_a_traceback(tmp_path, dataset):
    r = _cli("parser", "--config", "tiny", "--data", str(tmp_path / "missing"), "--run-dir", str(tmp_path))
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "generator.pt").write_bytes(b"garbage")
    r = _cli("generator", "--config", "tiny", "--data", str(dataset), "--run-dir", str(tmp_path))
    assert r.returncode == 2 and "corrupt" in r.stderr and "Traceback" not in r.stderr
    r = _cli("export", "--config", "tiny", "--run-dir", str(tmp_path / "empty"), "--packs-dir", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (tmp_path / "packs" / "x").mkdir(parents=True)
    r = _cli("export", "--config", "tiny", "--packs-dir", str(tmp_path / "packs"), "--pack", "x")
    assert r.returncode == 2 and "--force" in r.stderr


def test_test_split_is_never_handed_out_for_training(dataset):
    from phototype_train.data.dataset import load_split
    with pytest.raises(UserError, match="evaluation only"):
        load_split(dataset, "test", 32, with_masks=True)


def test_mapper_baselines_lookup_beats_majority_when_clusters_follow_classes():
    from phototype_train.studies.mapper_baselines import baselines
    gen = torch.Generator().manual_seed(0)
    masks = torch.randint(0, 3, (40, 8, 8), generator=gen)
    proxies = masks.clone()
    proxies[masks == 2] = 5  # class 2 always lands in cluster 5
    held_m = torch.randint(0, 3, (10, 8, 8), generator=gen)
    held_p = held_m.clone()
    held_p[held_m == 2] = 5
    b = baselines(masks, proxies, held_m, held_p, k=6)
    assert b["label_lookup"] == 1.0
    assert 0.2 < b["majority"] < 0.5  # one of three equally common classes


def test_photo_layout_route_follows_the_proxy_and_the_networks():
    from phototype_train.networks.proxy import PartProxyAssign
    every = {"encoder": {}, "parser": {}, "mapper.mask": {}}
    part_aware = PartProxyAssign.__new__(PartProxyAssign)  # only its type matters here
    assert export_pack.photo_layout(part_aware, every) == "parser"
    assert export_pack.photo_layout(object(), every) == export_pack.KMEANS_PHOTO_LAYOUT == "parser"
    assert export_pack.photo_layout(object(), {"encoder": {}, "mapper.mask": {}}) == "encoder"
    assert export_pack.photo_layout(part_aware, {}) is None


def test_build_in_two_lanes_names_a_failed_stage_and_carries_on_when_rerun(dataset, tmp_path):
    run, packs, figures = tmp_path / "run", tmp_path / "packs", tmp_path / "figures"
    run.mkdir()
    (run / "mapper.sketch.pt").write_bytes(b"garbage")  # one stage in the mappers' lane will fail
    build = ["build", "--config", "tiny", "--data", str(dataset), "--run-dir", str(run), "--packs-dir", str(packs),
             "--figures-dir", str(figures), "--pack", "tiny", "--lanes", "2"]
    r = _cli(*build)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "mapper sketch failed" in r.stderr and "build-lane-2.log" in r.stderr
    assert "corrupt" in (run / "build-lane-2.log").read_text()
    assert (run / "encoder.pt").is_file() and (run / "mapper.mask.pt").is_file()  # the other lane finished its work
    assert not (packs / "tiny").exists()
    (run / "mapper.sketch.pt").unlink()
    r = _cli(*build)
    assert r.returncode == 0, r.stderr
    rerun = (run / "build-lane-1.log").read_text().split("== rearranger")[2]
    assert "resuming" in rerun and "rearranger step" not in rerun  # finished stages are re-read, not retrained
    assert json.loads((packs / "tiny" / "pack.json").read_text())["name"] == "tiny"
    assert (figures / "samples.png").is_file()
