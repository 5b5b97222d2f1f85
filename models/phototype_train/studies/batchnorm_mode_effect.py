"""How much the old evaluation bug moved the numbers: the same outputs labelled by the evaluation
parser in eval mode (running statistics) and in training mode (each batch's own BatchNorm statistics,
what the old score did after computing the ceiling). Reads an `npm run eval` work folder.

  .venv/bin/python -m phototype_train study batchnorm-mode-effect [--work .cache/eval]
"""
import argparse
import json
from pathlib import Path

import torch

from phototype_train.evaluation import eval_parser
from phototype_train.common import REPO, data_root, run_main, set_threads
from phototype_train.config import Config
from phototype_train.data.dataset import downsample_mask, load_split, to_float
from phototype_train.evaluation.evaluate import hwc_to_float, layouts, read_u8
from phototype_train.evaluation.scores import layout_fidelity
from phototype_train.evaluation.metrics import frechet_distance, precision_recall


@torch.no_grad()
def scores(parser, outputs, masks, real, batch=50):
    def pass_(x):
        xs = [eval_parser.to_eval_res(x[i:i + batch], parser.res) for i in range(0, len(x), batch)]
        return torch.cat([parser.net(b).argmax(1) for b in xs]), torch.cat([parser.net.net.features(b) for b in xs]).numpy()
    labels, fake = pass_(outputs)
    was = parser.net.training
    parser.net.eval()
    _, ref = pass_(real)  # the real photos always in eval mode: only the outputs' labelling differs
    parser.net.train(was)
    lf = layout_fidelity(labels, masks)
    p, r = precision_recall(ref, fake)
    return {"miou": round(100 * lf["miou"], 1), "pixel_accuracy": round(100 * lf["pixel_accuracy"], 1),
            "parser_fd": round(frechet_distance(ref, fake), 2), "precision": round(p, 3), "recall": round(r, 3)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=str(REPO / ".cache" / "eval"))
    args = ap.parse_args(argv)
    set_threads()
    work = Path(args.work)
    meta = json.loads((work / "outputs.json").read_text())
    n, s, res = meta["n"], meta["seeds"], meta["res"]
    parser = eval_parser.load()
    root = data_root(Config.load("evaluation"))
    outputs = hwc_to_float(read_u8(work / "outputs-exact.bin", (n, s, res, res, 3)))
    masks = downsample_mask(layouts(root, n)[0], parser.res).repeat_interleave(s, 0)
    real = to_float(load_split(root, "test", res, with_masks=False, evaluation=True)[0])
    parser.net.eval()
    print("eval mode:              ", scores(parser, outputs, masks, real))
    parser.net.train()
    print("training mode (old bug):", scores(parser, outputs, masks, real))
    parser.net.eval()


if __name__ == "__main__":
    run_main(main)
