"""The evaluation protocol's Python half: prepare the layouts, score what the pipeline made.

`npm run eval` runs it around the server's own ONNX pipeline (scripts/eval.ts):
  1. evaluate.py prepare -> WORK/masks.bin, WORK/designer.bin: the test/ masks and the same layouts as
                            designer shapes (designer_shapes.py), at the pack's resolution; WORK/real*.bin
  2. scripts/eval.ts     -> WORK/outputs-*.bin: every layout x every seed, unconditional samples and
                            rearranged pairs, through server/pipeline; face detection and face embeddings
  3. evaluate.py score   -> layout fidelity, realism, identity, rearranger agreement; report.py
                            writes them: results.json, RESULTS.md, its grids, the pack's headline metrics

Every network that measures is frozen and in eval mode: the committed evaluation parser
(eval_parser.py) and MobileNetV2's ImageNet blocks (mobilenet_features.py).
"""
import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from phototype_train.evaluation import eval_parser, off_habit
from phototype_train.evaluation import report as eval_report
from phototype_train.data.classes import NAMES
from phototype_train.common import REPO, UserError, data_root, run_main, set_threads
from phototype_train.config import Config
from phototype_train.data.dataset import downsample_mask, load_split, to_float, training_images
from phototype_train.data.designer_shapes import designer_shapes
from phototype_train.evaluation.scores import identity, layout_fidelity, pair_agreement, realism, reference_identity

FULL_RES = 256  # celebamask-mini's own size
REAL_PHOTOS = 100  # the real photos a run compares against: all of test/, or the first 100 of train/
# `--split train` measures on train/ layouts and photos, to choose a pack's settings (truncation,
# keepUnchanged) without looking at test/; its numbers never go into pack.json.
SPLITS = ("test", "train")


def read_u8(path: Path, shape) -> np.ndarray:
    if not path.is_file():
        raise UserError(f"{path} is missing: generate the outputs first (npm run eval does)")
    a = np.frombuffer(path.read_bytes(), np.uint8)
    if a.size != int(np.prod(shape)):
        raise UserError(f"{path} holds {a.size} bytes, not the {int(np.prod(shape))} of {shape}: rerun npm run eval")
    return a.reshape(shape)


def read_f32(path: Path, shape) -> np.ndarray | None:
    if not path.is_file():
        return None
    return np.frombuffer(path.read_bytes(), np.float32).reshape(shape)


def hwc_to_float(x: np.ndarray) -> torch.Tensor:
    """uint8 [..., H, W, 3] -> float [N,3,H,W] in [-1,1]."""
    t = torch.from_numpy(np.array(x, copy=True)).reshape(-1, *x.shape[-3:])
    return to_float(t.permute(0, 3, 1, 2))


def layouts(root: Path, n: int, split: str = "test"):
    """The first n masks of the split at full size, exact and as designer shapes, and their ids."""
    _, full, ids = load_split(root, split, FULL_RES, with_masks=True, evaluation=True)
    full, ids = full[:n], ids[:n]
    drawn = torch.from_numpy(np.stack([designer_shapes(m.numpy().astype(np.uint8)) for m in full])).long()
    return full, drawn, ids


def cmd_prepare(cfg, args):
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    root = data_root(cfg, args.data)
    real = real_photos(root, args.split, args.res)
    full_photos = real_photos(root, args.split, FULL_RES)
    exact, drawn, ids = layouts(root, args.masks, args.split)
    for name, x in (("real", real), (f"real-{FULL_RES}", full_photos)):
        (work / f"{name}.bin").write_bytes(x.permute(0, 2, 3, 1).contiguous().numpy().tobytes())
    for name, m in (("masks", exact), ("designer", drawn)):
        (work / f"{name}.bin").write_bytes(downsample_mask(m, args.res).to(torch.uint8).numpy().tobytes())
    odd = {}
    made, sources = off_habit.make_layouts(exact.numpy(), args.off_habit) if args.off_habit else (None, [])
    if sources:
        (work / "offhabit.bin").write_bytes(downsample_mask(off_habit.as_tensor(made), args.res).to(torch.uint8).numpy().tobytes())
        odd = {"off_habit": {"kinds": list(off_habit.KINDS), "per_kind": len(sources), "sources": sources}}
    (work / "masks.json").write_text(json.dumps({"n": len(ids), "res": args.res, "ids": ids, "real": len(real), "split": args.split,
                                                 "real_full_res": FULL_RES, **odd}))
    print(f"prepared {len(ids)} {args.split} layouts (exact and designer shapes), "
          f"{len(off_habit.KINDS) * odd['off_habit']['per_kind'] if odd else 0} off-habit layouts and {len(real)} {args.split} photos at {args.res} px in {work}")


def real_photos(root: Path, split: str, res: int) -> torch.Tensor:
    return load_split(root, split, res, with_masks=False, evaluation=True)[0][:REAL_PHOTOS]


def floor_photos(root: Path, split: str, res: int, count: int) -> torch.Tensor:
    """Training photos for the realism floor, never the real photos measured against."""
    photos = training_images(root, res)  # train/ then unlabeled/, each sorted as load_split sorts it
    skip = len(real_photos(root, split, res)) if split == "train" else 0  # those are train/'s first
    return photos[skip:][:count]


def networks_fingerprint(manifest: dict) -> str:
    """sha256 over the pack's network files' own sha256s: names the weights measured, and does not
    change when the metrics below are written into pack.json."""
    h = hashlib.sha256()
    for key in sorted(manifest["networks"]):
        h.update(f"{key}:{manifest['networks'][key]['sha256']}\n".encode())
    return h.hexdigest()


def off_habit_scores(parser, work: Path, meta: dict, exact_full: torch.Tensor, exact_labels: torch.Tensor) -> dict | None:
    """The off-habit layouts' measures (off_habit.py) beside the unchanged layouts they came from, and
    the grid's rows: the first two layouts of each kind."""
    info = json.loads((work / "masks.json").read_text()).get("off_habit")
    s = meta.get("off_habit_seeds")
    if not info or not s:
        return None
    k, kinds, res, E = info["per_kind"], info["kinds"], meta["res"], parser.res
    sources = torch.tensor(info["sources"])
    made, _ = off_habit.make_layouts(exact_full.numpy(), k)
    outputs = read_u8(work / "outputs-offhabit.bin", (len(kinds) * k, s, res, res, 3))
    parsed = parser.labels(hwc_to_float(outputs)).view(len(kinds) * k, s, E, E).numpy()
    drawn = downsample_mask(off_habit.as_tensor(made), E).numpy()
    unchanged = downsample_mask(exact_full[sources], E).numpy()
    rows = off_habit.score(drawn, parsed, k, unchanged, exact_labels[sources, :s].numpy())
    pick = [j * k + i for j in range(len(kinds)) for i in range(min(2, k))]
    return {"per_kind": k, "seeds": s, "kinds": rows, "grid": (torch.from_numpy(made[pick]), outputs[pick])}


def score(cfg, args):
    """Every number of one evaluation run, and the images its grids show (layout sets, unconditional samples)."""
    t0 = time.time()
    from phototype_train.evaluation.mobilenet_features import features as mobilenet, describe as mobilenet_name

    parser = eval_parser.load()
    work, pack = Path(args.work), Path(args.pack_dir)
    manifest = json.loads((pack / "pack.json").read_text())
    meta = json.loads((work / "outputs.json").read_text())
    n, s, res, pairs_n = meta["n"], meta["seeds"], meta["res"], meta["pairs"]
    root = data_root(cfg, args.data)
    E = parser.res
    split = json.loads((work / "masks.json").read_text()).get("split", "test")
    if split != "test" and args.pack_metrics:
        raise UserError(f"a {split}/ run chooses settings; only a test/ run writes pack.json's metrics")

    exact_full, drawn_full, _ = layouts(root, n, split)
    exact, drawn = downsample_mask(exact_full, E), downsample_mask(drawn_full, E)
    sets = {"exact": read_u8(work / "outputs-exact.bin", (n, s, res, res, 3)),
            "designer": read_u8(work / "outputs-designer.bin", (n, s, res, res, 3)),
            "unconditional": read_u8(work / "outputs-unconditional.bin", (n * s, res, res, 3))}
    real = real_photos(root, split, res)
    real_f = to_float(real)
    train_f = to_float(floor_photos(root, split, res, args.floor_images))
    real_at_eval = to_float(real_photos(root, split, E))

    # ---- layout fidelity, in the parser's space (E px)
    labels = {k: parser.labels(hwc_to_float(v)) for k, v in sets.items()}
    real_labels = parser.labels(real_f)
    rep = lambda m: m.repeat_interleave(s, 0)
    other = lambda m: torch.roll(m, -1, 0)  # the next test photo's layout: a real face that ignores the one asked for
    layout = {
        "exact": layout_fidelity(labels["exact"], rep(exact)),
        "designer": layout_fidelity(labels["designer"], rep(drawn)),
        "unconditional_exact": layout_fidelity(labels["unconditional"], rep(exact)),
        "reference_exact": layout_fidelity(real_labels[:n], other(exact)),
        "reference_designer": layout_fidelity(real_labels[:n], other(drawn)),
        "ceiling_exact": layout_fidelity(real_labels[:n], exact),
        "ceiling_designer": layout_fidelity(real_labels[:n], drawn),
        "ceiling_exact_native": layout_fidelity(parser.labels(real_at_eval[:n]), exact),
    }
    per_class = dict(zip(NAMES, layout["exact"]["per_class_iou"]))
    odd, odd_set = off_habit_scores(parser, work, meta, exact_full, labels["exact"].view(n, s, E, E)), None
    if odd:
        odd_set = odd.pop("grid")
    for v in layout.values():
        v.pop("per_class_iou")

    # ---- realism: pretrained MobileNetV2 features and the parser's own, against real test/ photos
    feats = {"mobilenet": mobilenet, "parser": parser.features}
    real_sets = {k: hwc_to_float(v) for k, v in sets.items()}
    realism_rows = {}
    for space, fn in feats.items():
        ref, floor_a = fn(real_f), fn(train_f)
        row = {k: realism(fn(v), ref) for k, v in real_sets.items()}
        row["floor"] = realism(floor_a, ref)
        realism_rows[space] = row

    # ---- identity: face embeddings (scripts/face-identity.ts via eval.ts)
    ident = None
    dims = meta.get("embedding_dims")
    if dims:
        ident = {"exact": identity(read_f32(work / "embeddings-exact.bin", (n, s, dims))),
                 "designer": identity(read_f32(work / "embeddings-designer.bin", (n, s, dims))),
                 "real": reference_identity(read_f32(work / "embeddings-real.bin", (-1, 2, dims))),
                 "network": meta.get("embedder"), "crop": meta.get("embedding_crop")}

    # ---- the rearranger, judged by the evaluation parser instead of its own proxy classifier
    pairs = read_u8(work / "outputs-pairs.bin", (pairs_n, 4, res, res, 3))
    pl = parser.labels(hwc_to_float(pairs)).view(pairs_n, 4, E, E)
    rearranger = {"rearranged": pair_agreement(pl[:, 0], pl[:, 1]), "source_unmoved": pair_agreement(pl[:, 2], pl[:, 1]),
                  "self": pair_agreement(pl[:, 3], pl[:, 1]), "pairs": pairs_n}

    faces = json.loads((work / "faces.json").read_text()) if (work / "faces.json").is_file() else None
    bench = json.loads((work / "bench.json").read_text()) if (work / "bench.json").is_file() else None
    result = {"pack": manifest["name"], "pack_version": manifest["version"], "split": split, "networks_sha256": networks_fingerprint(manifest),
              "masks": n, "seeds": s, "resolution": res, "eval_resolution": E,
              "eval_parser": {"sha256": parser.sha256, "file": os.path.relpath(eval_parser.WEIGHTS, REPO), **parser.info["trained"]},
              "feature_net": mobilenet_name(), "layout": layout, "per_class_iou": per_class, "realism": realism_rows,
              "off_habit": odd, "face_detection": faces, "identity": ident, "rearranger": rearranger, "generation": meta.get("timing"),
              "bench": bench, "test_images": len(real), "floor_train_images": len(train_f),
              "score_seconds": round(time.time() - t0, 1)}
    layout_sets = {"test-masks": (exact_full, sets["exact"]), "designer-masks": (drawn_full, sets["designer"])}
    if odd_set:
        layout_sets["off-habit"] = odd_set
    return result, layout_sets, sets["unconditional"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["prepare", "score"])
    ap.add_argument("--config", default="evaluation")
    ap.add_argument("--data")
    ap.add_argument("--work", required=True)
    ap.add_argument("--res", type=int)
    ap.add_argument("--masks", type=int, default=100)
    ap.add_argument("--split", choices=SPLITS, default="test", help="prepare: whose layouts and photos (train: to choose settings)")
    ap.add_argument("--off-habit", type=int, default=25, help="layouts of each off-habit kind, from the first usable test masks (0: none)")
    ap.add_argument("--pack-dir")
    ap.add_argument("--out", help="RESULTS.md to write (written whole, at the end, or not at all)")
    ap.add_argument("--grids", default=str(REPO / "docs" / "results"))
    ap.add_argument("--floor-images", type=int, default=1000)
    ap.add_argument("--pack-metrics", action="store_true", help="write the headline numbers into the pack's pack.json")
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    set_threads()
    if args.command == "prepare":
        if not args.res:
            raise UserError("prepare needs --res (the pack's resolution)")
        eval_parser.load()  # refuse a missing or changed parser before any work
        cmd_prepare(cfg, args)
    else:
        if not args.pack_dir or not (Path(args.pack_dir) / "pack.json").is_file():
            raise UserError(f"pack {args.pack_dir} has no pack.json")
        if not (Path(args.work) / "outputs.json").is_file():
            raise UserError(f"{args.work}/outputs.json is missing: generate the outputs first (npm run eval does)")
        with torch.no_grad():
            result, layout_sets, unconditional = score(cfg, args)
        pack_json = Path(args.pack_dir) / "pack.json" if args.pack_metrics else None
        eval_report.write_reports(result, Path(args.work), layout_sets, unconditional, Path(args.grids),
                                   Path(args.out) if args.out else None, pack_json)
        L = result["layout"]
        print(json.dumps({"miou_exact": L["exact"]["miou"], "miou_designer": L["designer"]["miou"], "reference": L["reference_exact"]["miou"],
                          "fd_mobilenet": result["realism"]["mobilenet"]["exact"]["fd"]}))


if __name__ == "__main__":
    run_main(main)
