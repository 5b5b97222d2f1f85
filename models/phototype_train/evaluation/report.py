"""What one evaluation run (evaluate.py score) writes: results.json, docs/RESULTS-PACK.md and its grids, and the
pack's headline eval_ metrics in its pack.json."""
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from phototype_train.data.classes import CLASSES, hex_rgb

PAPER = [  # CelebAMask-HQ figures quoted in Chae et al. (NeurIPS 2023), 256 px and up
    ("Chae et al. 1-shot (paper)", "53.1", "88.2"),
    ("SEAN, supervised (paper)", "75.9", "92.3"),
    ("OASIS, supervised (paper)", "74.0", "91.5"),
    ("SDM, supervised (paper)", "77.0", "-"),
]


def class_image(mask: np.ndarray, size: int) -> Image.Image:
    pal = np.array([hex_rgb(c) for _, c in CLASSES], np.uint8)
    return Image.fromarray(pal[mask]).resize((size, size), Image.NEAREST)


def _tile(rgb: np.ndarray, size: int) -> Image.Image:
    return Image.fromarray(rgb).resize((size, size), Image.NEAREST if rgb.shape[0] <= size else Image.LANCZOS)


def write_grids(layout_sets: dict, unconditional: np.ndarray, out_dir: Path, rows=16, per_file=8, seeds=4, tile=128):
    """Layout | first `seeds` outputs, `per_file` layouts a file; and an 8x8 grid of unconditional samples."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (masks, outputs) in layout_sets.items():
        masks = masks.numpy() if hasattr(masks, "numpy") else masks
        for f in range(0, min(rows, len(masks)), per_file):
            n = min(per_file, len(masks) - f)
            canvas = Image.new("RGB", ((seeds + 1) * (tile + 2) + 2, n * (tile + 2) + 2), "white")
            for r in range(n):
                canvas.paste(class_image(masks[f + r].astype(np.uint8), tile), (2, 2 + r * (tile + 2)))
                for s in range(min(seeds, outputs.shape[1])):
                    canvas.paste(_tile(outputs[f + r, s], tile), (2 + (s + 1) * (tile + 2), 2 + r * (tile + 2)))
            p = out_dir / f"{name}-{f // per_file + 1}.png"
            canvas.save(p)
            paths.append(p)
    k = min(64, len(unconditional))
    side = 8
    canvas = Image.new("RGB", (side * (tile + 2) + 2, ((k + side - 1) // side) * (tile + 2) + 2), "white")
    for i in range(k):
        canvas.paste(_tile(unconditional[i], tile), (2 + (i % side) * (tile + 2), 2 + (i // side) * (tile + 2)))
    p = out_dir / "unconditional.png"
    canvas.save(p)
    return paths + [p]


def pct(x, d=1):
    return f"{100 * x:.{d}f}"


def _layout_section(r):
    L, res, E = r["layout"], r["resolution"], r["eval_resolution"]
    row = lambda label, x, bold=False: (f"| **{label}** | **{pct(x['miou'])}** | **{pct(x['pixel_accuracy'])}** |" if bold
                                        else f"| {label} | {pct(x['miou'])} | {pct(x['pixel_accuracy'])} |")
    p = f"`{r['pack']}` ({res} px)"
    out = ["## Layout fidelity", "",
           f"Each layout is the condition; the evaluation parser labels every output at {E} px (outputs resized, bilinear) "
           f"and the labels are compared with the layout, majority-pooled to {E} px: mIoU over 19 classes from the accumulated "
           "confusion matrix (classes absent from both skipped) and pixel accuracy.", "",
           "Two layout sets: the exact `test/` masks, and the same layouts **as a designer draws them** "
           "(`models/phototype_train/data/designer_shapes.py`: each part one flat shape, ellipses for small parts, coarse polygons for large "
           "ones, thin parts thickened; `docs/results/designer-masks-*.png` shows them). The **layout-ignoring reference** is "
           "a real `test/` photo scored against the *next* test photo's layout: a real face that ignores what was asked. "
           "A pack must clear it by a wide margin to be following the layout at all.", "",
           "| layouts → outputs | mIoU | pixel accuracy |", "|---|---|---|",
           row(f"Phototype {p}, exact test masks", L["exact"], True),
           row(f"Phototype {p}, designer shapes", L["designer"], True),
           row(f"unconditional samples of {p} (no mask) vs test masks", L["unconditional_exact"]),
           row(f"layout-ignoring reference: real photos at {res} px vs another photo's mask", L["reference_exact"]),
           row("layout-ignoring reference, designer shapes", L["reference_designer"]),
           row(f"ceiling: real photos at {res} px vs their own mask", L["ceiling_exact"]),
           row(f"ceiling: real photos at {res} px vs their own layout as designer shapes", L["ceiling_designer"])]
    if res != E:  # at the parser's own size this is the first ceiling row again
        out.append(row(f"ceiling: real photos at {E} px vs their own mask", L["ceiling_exact_native"]))
    out += [f"| {a} | {b} | {c} |" for a, b, c in PAPER]
    gap = L["exact"]["miou"] - L["reference_exact"]["miou"]
    out += ["", f"The pack clears the layout-ignoring reference by **{pct(gap)} points** on exact masks and "
            f"**{pct(L['designer']['miou'] - L['reference_designer']['miou'])}** on designer shapes.", "",
            "Paper rows are at 256 px and up, with a StyleGAN2 trained on 28k images and another parser: context, not a "
            "like-for-like comparison.", "",
            "Per-class IoU (exact masks): " + ", ".join(f"{k} {100 * v:.0f}" for k, v in r["per_class_iou"].items()), ""]
    return out


OFF_HABIT_BARS = {"wide": ("out", ">=", 37 / 64), "ears": ("iou", ">=", 0.3), "hat": ("iou", ">=", 0.3), "no-hair": ("out", "<=", 0.08)}
OFF_HABIT_DRAWN = {"wide": "the face drawn 40/64 of the image wide", "ears": "a large ear each side",
                   "hat": "the crown drawn as a hat with a brim", "no-hair": "all hair removed"}


def _off_habit_section(r):
    o = r.get("off_habit")
    if not o:
        return []
    out = ["## Off-habit layouts", "",
           f"Layouts the generator rarely makes on its own, each made from {o['per_kind']} `test/` masks "
           f"(`models/phototype_train/evaluation/off_habit.py`; drawn geometrically, never pasted from training samples), "
           f"x {o['seeds']} seeds, read by the evaluation parser. The unchanged columns are the same layouts before the change "
           "and their own outputs. Areas are shares of the image; IoU is pooled over the set.", "",
           "| layout | measure | drawn | came out | IoU | unchanged: drawn | unchanged: came out | bar |", "|---|---|---|---|---|---|---|---|"]
    for kind, x in o["kinds"].items():
        key, op, bar = OFF_HABIT_BARS[kind]
        held = (x[key] >= bar) if op == ">=" else (x[key] <= bar)
        u = x["unchanged"]
        iou = pct(x["iou"]) if "iou" in x else "-"
        out.append(f"| {kind}: {OFF_HABIT_DRAWN[kind]} | {x['measure']} | {pct(x['drawn'])} | **{pct(x['out'])}** | {iou} | "
                   f"{pct(u['drawn'])} | {pct(u['out'])} | {key} {op} {pct(bar)}: {'held' if held else 'missed'} |")
    return out + [""]


def _realism_section(r):
    out = ["## Realism (not FID)", "",
           f"Feature network: **{r['feature_net']}**. Blocks 0-10 of the MobileNetV2 that the npm package nsfwjs (MIT) ships keep "
           "their ImageNet weights (its authors fine-tuned only from block 11 on); nothing in them was trained on faces or by this "
           "project (`models/phototype_train/evaluation/mobilenet_features.py`, checked against tfjs to 1e-5). Input: images in [-1, 1] as Keras "
           "MobileNetV2 expects, resized to 224 px, the size its weights and BatchNorm statistics were trained at. Features: "
           "block 5 (28 x 28, texture and sharpness) and block 10 (14 x 14, the deepest ImageNet block), each average-pooled: "
           "D = 128, small enough for covariances from about 1,000 samples. Distances are between each set of outputs and the "
           f"{r['test_images']} real `test/` photos at the pack's resolution ({r['resolution']} px), and the floor is "
           f"{r['floor_train_images']} real `train/` photos against the same `test/` photos, at the same resolution, in the same "
           "space. Names say the space: FD-MobileNetV2 is not FID, and only numbers from the same network compare. KID (x 1000) "
           "is unbiased for small sets (100 real photos), so its floor sits near 0; FD is biased upward with few samples, so its "
           "floor is well above 0. KID is computed on features standardised by the real test photos' per-dimension mean and sd "
           "(the same transform for every set), so no single dimension's units dominate its cubic kernel. "
           "Precision/recall: Kynkäänniemi et al., k = 3.", ""]
    for space, title in (("mobilenet", "MobileNetV2"), ("parser", "parser")):
        R = r["realism"][space]
        out += [f"| set vs real `test/` | FD-{title} | KID-{title} x 1000 | precision | recall |", "|---|---|---|---|---|"]
        for key, label in (("exact", "mask-conditioned outputs (exact masks)"), ("designer", "mask-conditioned outputs (designer shapes)"),
                           ("unconditional", "unconditional samples (g1 → g2, no mask)"), ("floor", "real `train/` photos (floor)")):
            x = R[key]
            out.append(f"| {label} | {x['fd']:.2f} | {1000 * x['kid']:.1f} | {x['precision']:.3f} | {x['recall']:.3f} |")
        out.append("")
    M = r["realism"]["mobilenet"]
    out += [f"Conditioning's cost in realism: FD-MobileNetV2 of mask-conditioned outputs is **{M['exact']['fd'] / M['unconditional']['fd']:.2f}x** "
            f"that of unconditional samples; above the floor, {M['exact']['fd'] - M['floor']['fd']:.2f} against "
            f"{M['unconditional']['fd'] - M['floor']['fd']:.2f}.", ""]
    return out


def _faces_section(r):
    f = r.get("face_detection")
    if not f:
        return ["Face-detection rate: not measured in this run (`npm run eval -- --no-faces`).", ""]
    row = lambda label, x, b=False: (f"| **{label}** | {x['images']} | {x['detected']} | **{pct(x['rate'])} %** |" if b
                                     else f"| {label} | {x['images']} | {x['detected']} | {pct(x['rate'])} % |")
    return ["## Face-detection rate", "",
            f"Share of images in which {f['detector']} finds a face with box score >= {f['threshold']} (images upsampled to its "
            f"{f['input']} px input). Lenient: it says an image reads as a face, not that it is a good one.", "",
            "| images | count | face found | rate |", "|---|---|---|---|",
            row("mask-conditioned outputs (exact masks)", f["exact"], True), row("mask-conditioned outputs (designer shapes)", f["designer"]),
            row("unconditional samples", f["unconditional"]),
            row(f"real `test/` photos at {f['real']['res']} px", f["real"]), row(f"real `test/` photos at {f['real_full']['res']} px", f["real_full"]),
            ""]


def _identity_section(r):
    i = r.get("identity")
    if not i:
        return ["Identity: not measured in this run (`--no-faces`).", ""]
    ex, de, re_ = i["exact"], i["designer"], i["real"]
    return ["## Identity: same seed, new layout", "",
            f"Face embeddings from {i['network']}, {i['crop']}; cosine distance between two images' embeddings. Real photos give "
            "the scale: two views of one photo (the same person) and two different photos (different people, mostly; the data "
            "has no identity labels).", "",
            "| pairs | layouts | mean cosine distance |", "|---|---|---|",
            f"| **same seed, different layouts** ({ex['pairs'][0]}) | exact | **{ex['same_seed_distance']:.3f}** |",
            f"| different seeds, same layout ({ex['pairs'][1]}) | exact | {ex['different_seed_distance']:.3f} |",
            f"| same seed, different layouts ({de['pairs'][0]}) | designer | {de['same_seed_distance']:.3f} |",
            f"| different seeds, same layout ({de['pairs'][1]}) | designer | {de['different_seed_distance']:.3f} |",
            f"| real: the same photo, second view ({re_['pairs'][0]}) | | {re_['same_person_distance']:.3f} |",
            f"| real: two different photos ({re_['pairs'][1]}) | | {re_['different_people_distance']:.3f} |", "",
            f"Margin (different seeds − same seed): **{ex['margin']:.3f}** on exact masks, {de['margin']:.3f} on designer shapes; "
            f"identity score 1 − same/different = {ex['identity_score']:.3f}.", ""]


def _rearranger_section(r):
    g = r["rearranger"]
    row = lambda label, x: f"| {label} | {pct(x['miou'])} | {pct(x['pixel_accuracy'])} |"
    return ["## Rearranger, judged independently", "",
            "Its training loss and its own report use the pack's proxy classifier. Here the evaluation parser judges instead: "
            f"for {g['pairs']} pairs of seeds (source, target), the parser's labels of g2(source features rearranged into the "
            "target's proxy mask) against its labels of the target sample itself.", "",
            "| images vs target | mIoU | pixel accuracy |", "|---|---|---|",
            row("source rearranged into the target's layout", g["rearranged"]), row("source, not rearranged (floor)", g["source_unmoved"]),
            row("target rearranged into its own layout (ceiling)", g["self"]), ""]


def _speed_section(r):
    out = ["## Speed", ""]
    g = r.get("generation") or {}
    if g:
        out += [f"Evaluation run, in-process pipeline on this machine's CPU: {g.get('images')} images in {g.get('seconds')} s "
                f"({g.get('ms_per_image')} ms per image, {g.get('variations')} variations batched per request).", ""]
    b = r.get("bench")
    if b:
        out += ["Server benchmark (`npm run bench`: WebSocket mask in -> PNG out on loopback):", "",
                "| clients | requests | p50 ms | p95 ms | images/s |", "|---|---|---|---|---|"]
        out += [f"| {x['clients']} | {x['requests']} | {x['p50']:.1f} | {x['p95']:.1f} | {x['throughput']:.1f} |" for x in b.get("rows", [])]
        out += [""]
    return out


PROTOCOL_CHANGES = [
    "**Eval mode (bug fix).** The old score computed the parser's ceiling with a helper that put the parser back in "
    "training mode, so every output after it was labelled with BatchNorm batch statistics. Measured on this run's faces-64 "
    "outputs with today's parser (`models/phototype_train/studies/batchnorm_mode_effect.py`), batch statistics raise layout mIoU from 20.8 to "
    "25.1 and parser-space precision from 0.29 to 0.57. Every measuring network now runs frozen in eval mode; tests check "
    "that labels do not depend on the batch and that scoring leaves the parser in eval mode (both fail with the bug put back).",
    "**One fixed evaluation parser** (`models/eval/parser.pt`, sha256 checked before use), at 128 px for every pack, "
    "instead of a parser trained afresh for each run at the pack's resolution. Layout numbers are therefore at 128 px "
    "and not comparable with the old 64-px table.",
    "**Realism in a pretrained space**: FD, KID and precision/recall on ImageNet MobileNetV2 features, with the parser-space "
    "numbers beside them.",
    "**Identity with a face-recognition network** (cosine distance of face embeddings) instead of mean colours per part.",
    "**New rows**: designer-shape layouts, the layout-ignoring reference, unconditional samples, and the rearranger "
    "judged by the evaluation parser instead of the pack's own proxy classifier.",
]


def write_markdown(path: Path, r: dict, grids):
    rel = lambda p: os.path.relpath(Path(p).resolve(), path.parent.resolve())
    e = r["eval_parser"]
    L = ["# Results", "",
         f"Pack `{r['pack']}` {r['pack_version']} (networks sha256 `{r['networks_sha256']}`), {r['masks']} `test/` layouts x "
         f"{r['seeds']} seeds at {r['resolution']} px, generated by the server's own ONNX pipeline (`server/pipeline/generate.ts`, "
         "CPU). Every number below comes from one run of `npm run eval`.", "",
         f"Evaluation parser: `{e['file']}`, sha256 `{e['sha256']}`, the same fixed weights for every pack "
         f"(trained {e['steps']} steps on {e['data']}; held-out mIoU {pct((e.get('held_out') or {}).get('miou', 0))}). "
         "It and MobileNetV2 run in eval mode under no_grad: a result does not depend on which images share a batch (a test checks).", ""]
    if r.get("split", "test") != "test":
        L[0] = f"# Results on `{r['split']}/` (for choosing settings, not the pack's results)"
        L[2:2] = [f"**Split: `{r['split']}/`.** The layouts, real photos and identity pairs are the first `{r['split']}/` faces, and "
                  "the realism floor is other training photos. Wherever this page says `test/`, read "
                  f"`{r['split']}/`. The evaluation parser was trained on `train/` masks, so its ceiling rows read high here. "
                  "A run like this chooses a pack's settings without looking at `test/`; its numbers stay out of pack.json.", ""]
    L += _layout_section(r) + _off_habit_section(r) + _realism_section(r) + _faces_section(r) + _identity_section(r) + _rearranger_section(r) + _speed_section(r)
    L += ["## What changed in this protocol (December 2026), and why", ""] + [f"- {c}" for c in PROTOCOL_CHANGES] + [""]
    L += ["## Grids", "", "Layout | first 4 seeds, the first 16 test layouts, exact and as designer shapes; two layouts of each "
          "off-habit kind; 64 unconditional samples:", ""]
    L += [f"![{Path(p).stem}]({rel(p)})" for p in grids]
    L += ["", "## Commands", "", "```",
          "npm run eval                          # everything above (about 15 min on 2 cores)",
          f"npm run eval -- --masks {r['masks']} --seeds {r['seeds']}",
          "npm run eval -- --no-faces            # without face detection and identity", "```", ""]
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(L))
    os.replace(tmp, path)  # whole or not at all


EVAL_CMD = "npm run eval"


def headline_metrics(r: dict) -> list[dict]:
    """What pack.json carries from one evaluation run (names start with eval_)."""
    L, M, where = r["layout"], r["realism"]["mobilenet"], f"{r['masks']} test/ layouts x {r['seeds']} seeds, evaluation parser {r['eval_parser']['sha256'][:12]}"
    rows = [("eval_layout_miou_exact", L["exact"]["miou"], f"layout mIoU on exact test masks ({where})"),
            ("eval_pixel_accuracy_exact", L["exact"]["pixel_accuracy"], "pixel accuracy on exact test masks"),
            ("eval_layout_miou_designer", L["designer"]["miou"], "layout mIoU on the same layouts drawn as designer shapes"),
            ("eval_pixel_accuracy_designer", L["designer"]["pixel_accuracy"], "pixel accuracy on designer shapes"),
            ("eval_layout_miou_reference", L["reference_exact"]["miou"], "real test photos against another photo's mask: what ignoring the layout scores"),
            ("eval_fd_mobilenetv2_exact", M["exact"]["fd"], f"FD-MobileNetV2 of mask-conditioned outputs vs real test photos (floor {M['floor']['fd']:.2f})"),
            ("eval_kid_mobilenetv2_exact", M["exact"]["kid"], f"KID-MobileNetV2 of mask-conditioned outputs (floor {M['floor']['kid']:.4f})"),
            ("eval_fd_mobilenetv2_unconditional", M["unconditional"]["fd"], "FD-MobileNetV2 of unconditional samples (no mask)")]
    f = r.get("face_detection")
    if f:
        rows.append(("eval_face_detection_rate", f["exact"]["rate"], f"share of mask-conditioned outputs with a face found ({f['detector']})"))
    i = r.get("identity")
    if i:
        rows += [("eval_identity_same_seed_distance", i["exact"]["same_seed_distance"], f"face-embedding cosine distance, same seed + new layout ({i['network']})"),
                 ("eval_identity_different_seed_distance", i["exact"]["different_seed_distance"], "same layout, different seeds")]
    return [{"name": k, "value": round(float(v), 4), "description": d, "command": EVAL_CMD} for k, v, d in rows]


def write_pack_metrics(path: Path, r: dict):
    manifest = json.loads(path.read_text())
    manifest["metrics"] = [m for m in manifest["metrics"] if not m["name"].startswith("eval_")] + headline_metrics(r)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, path)


def write_reports(result: dict, work: Path, layout_sets: dict, unconditional, grids_dir: Path, markdown: Path | None = None,
                  pack_json: Path | None = None):
    """results.json in the work folder and the grids, then RESULTS.md and the pack's metrics where asked."""
    (work / "results.json").write_text(json.dumps(result, indent=2))
    grids = write_grids(layout_sets, unconditional, grids_dir)
    if markdown:
        write_markdown(markdown, result, grids)
    if pack_json:
        write_pack_metrics(pack_json, result)
