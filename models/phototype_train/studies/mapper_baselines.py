"""What a mapper's proxy agreement should be compared with (run after the mapper stage made its pairs).

  majority   every cell gets the most common proxy cluster of the training pairs
  label      every cell gets the cluster most often seen with its parser class (a per-pixel lookup,
             no context): the best any mapper can do that reads a cell's class and nothing else

Both are measured on the mapper's held-out pairs, like the mapper stage's agreement.

  .venv/bin/python -m phototype_train study mapper-baselines --config faces64
"""
import argparse
import json

import torch

from phototype_train.data.classes import NUM_CLASSES
from phototype_train.common import UserError, run_dir, run_main, set_threads
from phototype_train.config import Config
from phototype_train.data.dataset import downsample_mask


def baselines(masks, proxies, heldout_masks, heldout_proxies, k):
    """Agreement of the majority and the class-lookup baselines on the held-out pairs."""
    res = proxies.shape[-1]
    labels = downsample_mask(masks, res).flatten()
    target = proxies.long().flatten()
    table = torch.zeros(NUM_CLASSES, k)
    table.index_put_((labels, target), torch.ones_like(target, dtype=torch.float), accumulate=True)
    lookup = table.argmax(1)
    majority = torch.bincount(target, minlength=k).argmax()
    held_labels = downsample_mask(heldout_masks, res).flatten()
    held = heldout_proxies.long().flatten()
    return {"majority": round((held == majority).float().mean().item(), 4),
            "label_lookup": round((lookup[held_labels] == held).float().mean().item(), 4)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="faces64")
    ap.add_argument("--run-dir")
    args = ap.parse_args(argv)
    cfg = Config.load(args.config)
    set_threads()
    path = run_dir(cfg, args.run_dir) / "mapper-pairs.pt"
    if not path.is_file():
        raise UserError(f"{path} is missing: run python -m phototype_train mapper --config {args.config} first")
    p = torch.load(path)
    k = int(max(p["proxies"].max(), p["heldout_proxies"].max())) + 1
    print(json.dumps(baselines(p["masks"], p["proxies"], p["heldout_masks"], p["heldout_proxies"], k)))


if __name__ == "__main__":
    run_main(main)
