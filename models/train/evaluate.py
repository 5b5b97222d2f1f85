"""The evaluation protocol's Python half: prepare test masks, score generated outputs, write docs/RESULTS.md.

`npm run eval` runs it around the server's own ONNX pipeline (scripts/eval.ts):
  1. evaluate.py prepare  -> WORK/masks.bin: test/ masks at the pack's resolution (majority-pooled)
  2. scripts/eval.ts      -> WORK/outputs.bin: every mask x every seed through server/pipeline (PNG, decoded)
     scripts/eval.ts      -> WORK/faces.json: face-detection rate of the outputs and of the test photos
                             (scripts/face-detection.ts; prepare also writes WORK/real.bin, WORK/real-256.bin)
  3. evaluate.py score    -> layout fidelity, realism, face-detection rate, identity, parser ceiling, speed
                             -> RESULTS.md + grids

The evaluation parser is its own network (config section eval_parser: other seed, other weights than
the parser the training stack uses), trained on train/ only; it is trained here when missing.
"""
import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from classes import CLASSES, NAMES, NUM_CLASSES, hex_rgb
from common import REPO, UserError, data_root, load_config, run_dir, run_main, set_threads
from compare_generators import parser_features
from data import load_split, to_float, training_images
from evaluation import identity, layout_fidelity, realism
from train_parser import evaluate as parser_scores, load_parser

REFERENCE_RES = 256  # celebamask-mini's own image size

PAPER = [  # CelebAMask-HQ figures quoted in Chae et al. (NeurIPS 2023)
    ("Chae et al. 1-shot (paper)", "53.1", "88.2"),
    ("SEAN, supervised", "75.9", "92.3"),
    ("OASIS, supervised", "74.0", "91.5"),
    ("SDM, supervised", "77.0", "-"),
]


def eval_parser(cfg, args):
    """The evaluation parser's checkpoint; trained (train/ only) when it does not exist yet."""
    path = Path(args.parser) if args.parser else run_dir(cfg, args.run_dir) / "eval_parser.pt"
    if not path.is_file():
        import train_parser
        print(f"no evaluation parser at {path}: training one on train/ (once; ~20 min on 2 cores)", flush=True)
        extra = ["--steps", str(args.parser_steps)] if args.parser_steps else []
        train_parser.main(["--config", args.config, "--section", "eval_parser", "--out", path.stem,
                           "--run-dir", str(path.parent)] + (["--data", args.data] if args.data else []) + extra)
    return load_parser(path)


def cmd_prepare(cfg, args):
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    root = data_root(cfg, args.data)
    images, masks, ids = load_split(root, "test", args.res, with_masks=True, evaluation=True)
    # every test/ photo, HWC RGB, at the pack's resolution and at the dataset's 256 px: the face detector's input
    (work / "real.bin").write_bytes(images.permute(0, 2, 3, 1).contiguous().numpy().tobytes())
    full = load_split(root, "test", REFERENCE_RES, with_masks=False, evaluation=True)[0]
    (work / f"real-{REFERENCE_RES}.bin").write_bytes(full.permute(0, 2, 3, 1).contiguous().numpy().tobytes())
    masks, ids = masks[: args.masks], ids[: args.masks]
    (work / "masks.bin").write_bytes(masks.to(torch.uint8).numpy().tobytes())
    (work / "masks.json").write_text(json.dumps({"n": len(ids), "res": args.res, "ids": ids, "real": len(images),
                                                 "real_full_res": REFERENCE_RES}))
    print(f"prepared {len(ids)} test masks and {len(images)} test photos at {args.res} px in {work}")


def class_image(mask: np.ndarray, scale: int) -> Image.Image:
    pal = np.array([hex_rgb(c) for _, c in CLASSES], np.uint8)
    return Image.fromarray(pal[mask]).resize((mask.shape[1] * scale, mask.shape[0] * scale), Image.NEAREST)


def write_grids(masks, outputs, out_dir: Path, rows=16, per_file=8, seeds=4):
    out_dir.mkdir(parents=True, exist_ok=True)
    res = masks.shape[-1]
    scale = max(1, 128 // res)
    tile = res * scale
    paths = []
    for f in range(0, min(rows, len(masks)), per_file):
        n = min(per_file, len(masks) - f)
        canvas = Image.new("RGB", ((seeds + 1) * (tile + 2) + 2, n * (tile + 2) + 2), "white")
        for r in range(n):
            i = f + r
            canvas.paste(class_image(masks[i], scale), (2, 2 + r * (tile + 2)))
            for s in range(min(seeds, outputs.shape[1])):
                img = Image.fromarray(outputs[i, s]).resize((tile, tile), Image.NEAREST)
                canvas.paste(img, (2 + (s + 1) * (tile + 2), 2 + r * (tile + 2)))
        p = out_dir / f"test-masks-{f // per_file + 1}.png"
        canvas.save(p)
        paths.append(p)
    return paths


def fmt(x, digits=1, pct=False):
    return f"{100 * x:.{digits}f}" if pct else f"{x:.{digits}f}"


def cmd_score(cfg, args):
    parser, _ = eval_parser(cfg, args)  # may train it: outside no_grad
    with torch.no_grad():
        score(cfg, args, parser)


def score(cfg, args, parser):
    t0 = time.time()
    work = Path(args.work)
    meta = json.loads((work / "outputs.json").read_text())
    mm = json.loads((work / "masks.json").read_text())
    n, s, res = meta["n"], meta["seeds"], meta["res"]
    masks = torch.from_numpy(np.frombuffer((work / "masks.bin").read_bytes(), np.uint8).reshape(mm["n"], res, res)[:n].copy()).long()
    outputs = np.frombuffer((work / "outputs.bin").read_bytes(), np.uint8).reshape(n, s, res, res, 3)
    images = torch.from_numpy(outputs.copy()).permute(0, 1, 4, 2, 3).float().div(127.5).sub(1)  # n,s,3,H,W

    root = data_root(cfg, args.data)
    test_imgs, test_masks, _ = load_split(root, "test", res, with_masks=True, evaluation=True)
    ceiling = parser_scores(parser, test_imgs, test_masks)

    flat = images.flatten(0, 1)
    parsed = torch.cat([parser(flat[i:i + 100]).argmax(1) for i in range(0, len(flat), 100)])
    fidelity = layout_fidelity(parsed, masks.repeat_interleave(s, 0))
    ident = identity(images, parsed.view(n, s, res, res))
    fake_f = parser_features(parser, flat)
    test_f = parser_features(parser, to_float(test_imgs))
    train_f = parser_features(parser, to_float(training_images(root, res)[: args.floor_images]))
    real = realism(fake_f, test_f, train_f, test_f)

    pack = Path(args.pack_dir)
    pack_sha = hashlib.sha256((pack / "pack.json").read_bytes()).hexdigest()
    manifest = json.loads((pack / "pack.json").read_text())
    grids = write_grids(masks.numpy(), outputs, Path(args.grids))
    bench = json.loads((work / "bench.json").read_text()) if (work / "bench.json").is_file() else None
    faces = json.loads((work / "faces.json").read_text()) if (work / "faces.json").is_file() else None
    result = {"pack": manifest["name"], "pack_sha256": pack_sha, "masks": n, "seeds": s, "resolution": res,
              "parser_ceiling": ceiling, "layout": {k: v for k, v in fidelity.items() if k != "per_class_iou"},
              "per_class_iou": dict(zip(NAMES, fidelity["per_class_iou"])), "realism": real, "face_detection": faces, "identity": ident,
              "generation": meta.get("timing"), "bench": bench, "test_images": len(test_imgs),
              "floor_train_images": len(train_f), "score_seconds": round(time.time() - t0, 1)}
    (work / "results.json").write_text(json.dumps(result, indent=2))
    if args.out:
        write_markdown(Path(args.out), result, grids, args, manifest)
    print(json.dumps({"miou": fidelity["miou"], "pixel_accuracy": fidelity["pixel_accuracy"], "fd": real["fd"],
                      "identity_score": ident["identity_score"], "parser_miou": ceiling["miou"]}))


def face_rows(f, r):
    """The face-detection rate (scripts/face-detection.ts via scripts/eval.ts -> WORK/faces.json)."""
    if not f:
        return ["Face-detection rate: not measured in this run (`npm run eval -- --no-faces`).", ""]
    def row(label, x, bold=False):
        b = "**" if bold else ""
        return f"| {b}{label}{b} | {x['images']} | {x['detected']} | {b}{fmt(x['rate'], 1, True)} %{b} |"
    return ["### Face-detection rate", "",
            f"Share of images in which {f['detector']} finds a face with box score >= {f['threshold']}; every image is "
            f"upsampled (bilinear) to the detector's {f['input']} px input. The real photos at the pack's resolution are the "
            "ceiling at that size. The detector is lenient (upside-down faces pass): this says an image reads as a face, "
            "not that it is a good one.", "",
            "| images | count | face found | rate |", "|---|---|---|---|",
            row(f"Phototype `{r['pack']}` outputs ({f['outputs']['res']} px)", f["outputs"], bold=True),
            row(f"real `test/` photos at {f['real']['res']} px (ceiling)", f["real"]),
            row(f"real `test/` photos at {f['real_full']['res']} px", f["real_full"]), "",
            f"Detector time: {f['ms_per_image']} ms per image on this machine's CPU (WASM, one thread).", ""]


def write_markdown(path: Path, r, grids, args, manifest):
    L, rel = [], lambda p: Path(p).resolve().relative_to(path.parent.resolve()).as_posix()
    lay, real, ident, ceil = r["layout"], r["realism"], r["identity"], r["parser_ceiling"]
    L += ["# Results", "",
          f"Measured on pack `{r['pack']}` {manifest['version']} (pack.json sha256 `{r['pack_sha256']}`), "
          f"{r['masks']} `test/` masks x {r['seeds']} seeds at {r['resolution']} px, generated by the server's own ONNX pipeline "
          f"(`server/pipeline/generate.ts`, CPU). Regenerate with `npm run eval`; every number below comes from that run.", "",
          "## Layout fidelity", "",
          "Each test mask is the condition; the evaluation parser (trained on `train/` only, separate weights and seed from the training "
          "stack's parser) parses each output; mIoU over 19 classes (accumulated confusion matrix, classes absent from both skipped) "
          "and pixel accuracy against the input mask.", "",
          "| method | mIoU | pixel accuracy |", "|---|---|---|",
          f"| **Phototype `{r['pack']}` ({r['resolution']} px)** | **{fmt(lay['miou'], 1, True)}** | **{fmt(lay['pixel_accuracy'], 1, True)}** |",
          f"| evaluation parser on real test photos (ceiling) | {fmt(ceil['miou'], 1, True)} | {fmt(ceil['pixel_accuracy'], 1, True)} |"]
    L += [f"| {a} | {b} | {c} |" for a, b, c in PAPER]
    L += ["", "Paper figures are at 256 px (and higher) with a StyleGAN2 trained on 28k CelebAMask-HQ images and an off-the-shelf "
          "parser; ours are at the pack's resolution with our own small parser, whose own score on real photos (the ceiling row) "
          "bounds what any generator can reach under it. They are context, not a like-for-like comparison.", "",
          "Per-class IoU: " + ", ".join(f"{k} {100 * v:.0f}" for k, v in r["per_class_iou"].items()), "",
          "## Realism (not FID)", "",
          "No Inception weights are available offline, so FID cannot be computed. Instead: Fréchet distance (FD) and improved "
          "precision/recall (k=3) between feature sets taken from the evaluation parser's deepest encoder map, average-pooled "
          f"({r['masks'] * r['seeds']} outputs vs the {r['test_images']} real `test/` photos). The floor is {r['floor_train_images']} real "
          "`train/` + `unlabeled/` photos vs the same real `test/` "
          "photos in the same space. Only compare these numbers with numbers made by the same parser.", "",
          "| pair | parser-FD | precision | recall |", "|---|---|---|---|",
          f"| outputs vs real test | {fmt(real['fd'], 2)} | {fmt(real['precision'], 3)} | {fmt(real['recall'], 3)} |",
          f"| real train vs real test (floor) | {fmt(real['floor_fd'], 2)} | {fmt(real['floor_precision'], 3)} | {fmt(real['floor_recall'], 3)} |",
          ""]
    L += face_rows(r.get("face_detection"), r)
    L += [
          "## Identity: same seed, new layout", "",
          "Appearance distance between two outputs = mean over face parts present in both (parsed, >= 12 px, background excluded) of the "
          "distance between the parts' mean RGB colours (in [-1, 1]).", "",
          "| pairs | mean appearance distance |", "|---|---|",
          f"| same seed, different masks ({ident['pairs'][0]} pairs) | {fmt(ident['same_seed_distance'], 3)} |",
          f"| different seeds, same mask ({ident['pairs'][1]} pairs) | {fmt(ident['different_seed_distance'], 3)} |",
          "", f"**Identity score** = 1 - same/different = **{fmt(ident['identity_score'], 3)}** (1: a seed keeps its look across layouts; "
          "0: no more than a new seed).", ""]
    g = r.get("generation") or {}
    L += ["## Speed", ""]
    if g:
        L += [f"Evaluation run, in-process pipeline on this machine's CPU: {g.get('images')} images in {g.get('seconds')} s "
              f"({g.get('ms_per_image')} ms per image, {g.get('variations')} variations batched per request).", ""]
    b = r.get("bench")
    if b:
        L += ["Server benchmark (`npm run bench`: WebSocket mask in -> PNG out on loopback):", "",
              "| clients | requests | p50 ms | p95 ms | images/s |", "|---|---|---|---|---|"]
        L += [f"| {row['clients']} | {row['requests']} | {row['p50']:.1f} | {row['p95']:.1f} | {row['throughput']:.1f} |" for row in b.get("rows", [])]
        if b.get("stages"):
            L += ["", "Median per-stage ms (1 client): " + ", ".join(f"{k} {v:.1f}" for k, v in b["stages"].items())]
        L += [""]
    L += ["PyTorch vs ONNX Runtime on a GPU is not measured: this task was not lent a GPU.", "",
          "## Grids", "", f"Test mask | first {min(4, r['seeds'])} seeds, for the first 16 test masks:", ""]
    L += [f"![{Path(p).stem}]({rel(p)})" for p in grids]
    L += ["", "## Commands", "", "```", "npm run eval                      # everything above (trains the evaluation parser once if missing)",
          f"npm run eval -- --masks {r['masks']} --seeds {r['seeds']}",
          "npm run eval -- --no-faces         # without the face-detection rate", "```", "",
          f"Limits: {r['resolution']} px pack trained on 2 CPU cores; the evaluation parser is itself small (see its ceiling); "
          "100 test photos make the realism floor and FD noisy; identity uses colour statistics only, not a face-identity network.", ""]
    path.write_text("\n".join(L))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["prepare", "score"])
    ap.add_argument("--config", default="faces64")
    ap.add_argument("--data")
    ap.add_argument("--run-dir")
    ap.add_argument("--work", required=True)
    ap.add_argument("--res", type=int)
    ap.add_argument("--masks", type=int, default=100)
    ap.add_argument("--parser", help="evaluation parser checkpoint (default RUN/eval_parser.pt)")
    ap.add_argument("--parser-steps", type=int, help="steps when the evaluation parser must be trained")
    ap.add_argument("--pack-dir")
    ap.add_argument("--out", help="RESULTS.md to write")
    ap.add_argument("--grids", default=str(REPO / "docs" / "results"))
    ap.add_argument("--floor-images", type=int, default=1100)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    set_threads()
    if args.command == "prepare":
        if not args.res:
            raise UserError("prepare needs --res (the pack's resolution)")
        cmd_prepare(cfg, args)
    else:
        if not args.pack_dir or not (Path(args.pack_dir) / "pack.json").is_file():
            raise UserError(f"pack {args.pack_dir} has no pack.json")
        if not (Path(args.work) / "outputs.bin").is_file():
            raise UserError(f"{args.work}/outputs.bin is missing: generate the outputs first (npm run eval does)")
        cmd_score(cfg, args)


if __name__ == "__main__":
    run_main(main)
