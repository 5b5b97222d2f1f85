"""Before/after: the same test/ layouts and seeds through two packs, side by side, from two evaluation runs.

  .venv/bin/python -m phototype_train study before-after --before .cache/eval-faces-64 --after .cache/eval-faces-128 \\
      --out docs/results/before-after.png

Rows: test layout | before, seeds 1..S | after, seeds 1..S (every tile shown at 128 px).
"""
import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from phototype_train.common import UserError, run_main
from phototype_train.evaluation.report import _tile, class_image
from phototype_train.evaluation.evaluate import read_u8

TILE = 128


def outputs(work: Path):
    meta_path = work / "outputs.json"
    if not meta_path.is_file():
        raise UserError(f"{work} holds no evaluation outputs (run npm run eval for that pack first)")
    meta = json.loads(meta_path.read_text())
    n, s, res = meta["n"], meta["seeds"], meta["res"]
    masks = read_u8(work / "masks.bin", (n, res, res))
    return meta, masks, read_u8(work / "outputs-exact.bin", (n, s, res, res, 3))


def picture(before, after, labels, rows, seeds):
    (_, masks, a), (_, _, b) = before, after
    cols = 1 + 2 * seeds
    top = 16
    canvas = Image.new("RGB", (cols * (TILE + 2) + 2, top + rows * (TILE + 2) + 2), "white")
    d = ImageDraw.Draw(canvas)
    for j, text in enumerate(["test layout"] + [f"{labels[0]} #{i + 1}" for i in range(seeds)] + [f"{labels[1]} #{i + 1}" for i in range(seeds)]):
        d.text((4 + j * (TILE + 2), 2), text, fill=(0, 0, 0))
    for r in range(rows):
        y = top + 2 + r * (TILE + 2)
        canvas.paste(class_image(masks[r].astype(np.uint8), TILE), (2, y))
        for i in range(seeds):
            canvas.paste(_tile(a[r, i], TILE), (2 + (1 + i) * (TILE + 2), y))
            canvas.paste(_tile(b[r, i], TILE), (2 + (1 + seeds + i) * (TILE + 2), y))
    return canvas


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="evaluation work folder of the old pack")
    ap.add_argument("--after", required=True, help="evaluation work folder of the new pack")
    ap.add_argument("--labels", nargs=2, default=["before", "after"])
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    before, after = outputs(Path(args.before)), outputs(Path(args.after))
    # Runs of different sizes (--masks 60 against 100) share their first layouts; the rows shown must match.
    ids = [json.loads((Path(w) / "masks.json").read_text())["ids"] for w in (args.before, args.after)]
    shown = min(args.rows, len(ids[0]), len(ids[1]))
    if ids[0][:shown] != ids[1][:shown]:
        raise UserError("the two evaluation runs used different test layouts")
    rows = min(args.rows, before[1].shape[0], after[1].shape[0])
    seeds = min(args.seeds, before[2].shape[1], after[2].shape[1])
    picture(before, after, args.labels, rows, seeds).save(args.out)
    print(f"wrote {args.out}: {rows} test layouts x {seeds} seeds, {args.labels[0]} beside {args.labels[1]}")


if __name__ == "__main__":
    run_main(main)
