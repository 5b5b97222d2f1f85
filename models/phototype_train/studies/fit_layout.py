"""Fit the layout (the server's `fit` option), read by the fixed evaluation parser: npm run bench:fit runs both steps.

  prepare: the first --masks train/ layouts (never test/), majority-pooled to the pack's resolution,
           into WORK/masks.bin; the server's pipeline then generates each layout with fit k and
           writes the kept images to WORK/outputs-k<k>.bin ([n, variations, R, R, 3] RGB bytes).
  score:   the evaluation parser (models/eval/parser.pt, the one npm run eval uses) reads every
           kept image at its 128 px; layout mIoU against the layout pooled to 128 px, over the
           accumulated confusion matrix as in RESULTS, and the mean of per-image mIoUs. Writes
           WORK/eval-parser.json.

  .venv/bin/python -m phototype_train study fit-layout prepare --work .cache/bench-fit --res 128 --masks 100
  .venv/bin/python -m phototype_train study fit-layout score --work .cache/bench-fit --ks 1 2 4 8
"""
import argparse
import json
from pathlib import Path

import torch

from phototype_train.common import UserError, data_root, run_main, set_threads
from phototype_train.config import Config
from phototype_train.data.classes import NUM_CLASSES
from phototype_train.data.dataset import downsample_mask, load_split
from phototype_train.evaluation import eval_parser
from phototype_train.evaluation.evaluate import FULL_RES, hwc_to_float, read_u8
from phototype_train.evaluation.metrics import layout_miou


def train_layouts(root: Path, res: int, n: int) -> tuple[torch.Tensor, list[str]]:
    _, masks, ids = load_split(root, "train", res, with_masks=True)
    if n > len(ids):
        raise UserError(f"--masks {n}: train/ holds {len(ids)} layouts")
    return masks[:n], ids[:n]


def prepare(args, root: Path) -> None:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    masks, ids = train_layouts(root, args.res, args.masks)
    (work / "masks.bin").write_bytes(masks.to(torch.uint8).numpy().tobytes())
    (work / "masks.json").write_text(json.dumps({"n": len(ids), "res": args.res, "split": "train", "ids": ids}))
    print(f"prepared {len(ids)} train/ layouts at {args.res} px in {work}")


def score(args, root: Path) -> None:
    work = Path(args.work)
    meta = json.loads((work / "masks.json").read_text())
    n, res, v = meta["n"], meta["res"], json.loads((work / "outputs.json").read_text())["variations"]
    parser = eval_parser.load()
    full, _ = train_layouts(root, FULL_RES, n)
    target = downsample_mask(full, parser.res).repeat_interleave(v, 0)
    rows = {}
    for k in args.ks:
        labels = parser.labels(hwc_to_float(read_u8(work / f"outputs-k{k}.bin", (n * v, res, res, 3))))
        rows[k] = layout_miou(labels, target, NUM_CLASSES)
        print(f"fit {k}: evaluation parser layout mIoU {100 * rows[k]['miou']:.1f}, mean per image {100 * rows[k]['mean_image_miou']:.1f}")
    (work / "eval-parser.json").write_text(json.dumps({"parser_res": parser.res, "sha256": parser.sha256, "fit": rows}, indent=2))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["prepare", "score"])
    ap.add_argument("--config", default="faces128")
    ap.add_argument("--data")
    ap.add_argument("--work", required=True)
    ap.add_argument("--res", type=int, default=128)
    ap.add_argument("--masks", type=int, default=100)
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 2, 4, 8])
    args = ap.parse_args(argv)
    set_threads()
    root = data_root(Config.load(args.config), args.data)
    (prepare if args.step == "prepare" else score)(args, root)


if __name__ == "__main__":
    run_main(main)
