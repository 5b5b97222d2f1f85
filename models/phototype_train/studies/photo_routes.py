"""A photo's layout two ways, read by the fixed evaluation parser: npm run bench:photo runs both steps.

  prepare: the first --photos test/ photos at the pack's resolution (WORK/real.bin, HWC RGB bytes) and
           their masks at that resolution (WORK/masks.bin). test/ is for evaluation only: the routes
           are compared here, nothing is tuned on it.
  score:   the evaluation parser (models/eval/parser.pt, the one npm run eval uses) reads every image
           the server's pipeline made (WORK/outputs-SET-NAME.bin, see outputs.json) at its 128 px;
           layout mIoU over the accumulated confusion matrix, as RESULTS reports it, against
             test:    the photo's own test/ mask (majority-pooled from 256 px),
             samples: the evaluation parser's reading of the sample itself (WORK/samples.bin).
           Writes WORK/eval-parser.json.
  changed: each test/ photo's own mask with a designer's change (hair grown 5 % of the image into the
           background: longer, fuller hair), WORK/changed.bin at the pack's resolution; outputs named
           changed-* are scored against it.

  .venv/bin/python -m phototype_train study photo-routes prepare --work .cache/bench-photo-faces-128 --res 128 --photos 100
  .venv/bin/python -m phototype_train study photo-routes score --work .cache/bench-photo-faces-128
"""
import argparse
import json
from pathlib import Path

import torch

from phototype_train.common import UserError, data_root, run_main, set_threads
from phototype_train.config import Config
from phototype_train.data.classes import NAMES, NUM_CLASSES
from phototype_train.data.dataset import downsample_mask, load_split
from phototype_train.data.layout_augment import PartIds, grow_hair
from phototype_train.evaluation import eval_parser
from phototype_train.evaluation.evaluate import FULL_RES, hwc_to_float, read_u8
from phototype_train.evaluation.metrics import confusion, layout_miou, miou


def test_split(root: Path, res: int, n: int):
    images, masks, ids = load_split(root, "test", res, with_masks=True, evaluation=True)
    if n > len(ids):
        raise UserError(f"--photos {n}: test/ holds {len(ids)} photos")
    return images[:n], masks[:n], ids[:n]


HAIR_GROWTH = 0.05  # of the image side


def changed_layout(masks: torch.Tensor) -> torch.Tensor:
    """The masks [N,H,W] with hair grown into the background around it (any size; the same share of the side)."""
    return grow_hair([masks], [PartIds(background=NAMES.index("background"), hair=NAMES.index("hair"), pasted=())], HAIR_GROWTH)[0]


def prepare(args, root: Path) -> None:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    images, masks, ids = test_split(root, args.res, args.photos)
    (work / "real.bin").write_bytes(images.permute(0, 2, 3, 1).contiguous().numpy().tobytes())
    (work / "masks.bin").write_bytes(masks.to(torch.uint8).numpy().tobytes())
    _, full, _ = test_split(root, FULL_RES, args.photos)
    (work / "changed.bin").write_bytes(downsample_mask(changed_layout(full), args.res).to(torch.uint8).numpy().tobytes())
    (work / "masks.json").write_text(json.dumps({"n": len(ids), "res": args.res, "split": "test", "ids": ids}))
    print(f"prepared {len(ids)} test/ photos and masks at {args.res} px in {work}")


def score(args, root: Path) -> None:
    work = Path(args.work)
    meta = json.loads((work / "outputs.json").read_text())
    res = meta["res"]
    parser = eval_parser.load()
    rows: dict = {}
    for name, spec in meta["sets"].items():
        n = spec["n"]
        changed = None
        if name == "test":
            _, full, _ = test_split(root, FULL_RES, n)
            target = downsample_mask(full, parser.res)
            changed = downsample_mask(changed_layout(full), parser.res)
        else:
            target = parser.labels(hwc_to_float(read_u8(work / f"{name}.bin", (n, res, res, 3))))
        rows[name] = {}
        for out, per in spec["outputs"].items():
            raw = read_u8(work / f"outputs-{name}-{out}.bin", (n * per, res, res, 3))
            labels = parser.labels(hwc_to_float(raw))
            t = (changed if out.startswith("changed-") else target).repeat_interleave(per, 0)
            rows[name][out] = layout_miou(labels, t, NUM_CLASSES)
            if out.startswith("changed-"):  # did the hair follow the change?
                rows[name][out]["hair_iou"] = float(miou(confusion(labels, t, NUM_CLASSES))[1][NAMES.index("hair")])
            print(f"{name} {out}: evaluation parser layout mIoU {100 * rows[name][out]['miou']:.1f}, "
                  f"mean per image {100 * rows[name][out]['mean_image_miou']:.1f}")
    (work / "eval-parser.json").write_text(json.dumps({"parser_res": parser.res, "sha256": parser.sha256, "sets": rows}, indent=2))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["prepare", "score"])
    ap.add_argument("--config", default="faces128")
    ap.add_argument("--data")
    ap.add_argument("--work", required=True)
    ap.add_argument("--res", type=int, default=128)
    ap.add_argument("--photos", type=int, default=100)
    args = ap.parse_args(argv)
    set_threads()
    root = data_root(Config.load(args.config), args.data)
    (prepare if args.step == "prepare" else score)(args, root)


if __name__ == "__main__":
    run_main(main)
