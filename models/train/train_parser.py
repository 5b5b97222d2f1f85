"""Stage: train a face parser (RGB -> 19 classes) on train/ only.

The training stack uses it to label generated samples (mapper pairs, cluster purity).
The evaluation parser is a second run of this script with --out eval_parser and another seed.

  /usr/bin/python3 models/train/train_parser.py --config faces64
"""
import argparse
import time

import torch
import torch.nn.functional as F

from augment import augment_pair
from classes import NUM_CLASSES
from common import (JsonLog, UserError, data_root, load_checkpoint, load_weights, load_config, rng_state, run_dir, run_main,
                    save_checkpoint, seed_everything, set_rng_state, set_threads)
from data import load_split, to_float
from metrics import confusion, miou, pixel_accuracy
from model import FaceParser


def evaluate(parser, images, masks, batch=50):
    parser.eval()
    conf = torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.long)
    with torch.no_grad():
        for i in range(0, len(images), batch):
            pred = parser(to_float(images[i:i + batch])).argmax(1)
            conf += confusion(pred, masks[i:i + batch], NUM_CLASSES)
    parser.train()
    m, _ = miou(conf)
    return {"miou": m, "pixel_accuracy": pixel_accuracy(conf)}


def load_parser(path):
    st = load_checkpoint(path, "parser checkpoint")
    if st["kind"] != "parser":
        raise UserError(f"{path} is a {st['kind']} checkpoint, not a parser")
    p = FaceParser(NUM_CLASSES, st["cfg"]["base"], st["cfg"]["depth"])
    load_weights(p, st["model"], path, "parser checkpoint")
    return p.eval(), st


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--data")
    ap.add_argument("--run-dir")
    ap.add_argument("--out", default="parser", help="checkpoint name in the run folder")
    ap.add_argument("--section", default="parser", help="config section: parser, or eval_parser for the evaluation's own parser")
    ap.add_argument("--seed", type=int, help="overrides the config's parser seed")
    ap.add_argument("--steps", type=int, help="overrides the config's step count")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    if args.section not in cfg:
        raise UserError(f"config {cfg['name']} has no section {args.section}")
    pc = dict(cfg[args.section])
    if args.seed is not None:
        pc["seed"] = args.seed
    if args.steps is not None:
        pc["steps"] = args.steps
    set_threads()
    out_dir = run_dir(cfg, args.run_dir)
    ckpt = out_dir / f"{args.out}.pt"
    res = pc["resolution"]
    images, masks, _ = load_split(data_root(cfg, args.data), "train", res, with_masks=True)
    nval = min(pc.get("val", 50), len(images) // 5)
    # The last `val` train images are held out to watch overfitting; test/ is never touched here.
    tr_i, tr_m, va_i, va_m = images[:-nval], masks[:-nval], images[-nval:], masks[-nval:]

    gen = seed_everything(pc["seed"])
    parser = FaceParser(NUM_CLASSES, pc["base"], pc["depth"])
    opt = torch.optim.AdamW(parser.parameters(), lr=pc["lr"], weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=pc["lr"], total_steps=pc["steps"], pct_start=0.1)
    step = 0
    if ckpt.is_file():
        st = load_checkpoint(ckpt, "parser checkpoint")
        parser.load_state_dict(st["model"])
        if st.get("step", 0) >= pc["steps"]:
            print(f"{ckpt} is already trained ({st['step']} steps): {st.get('metrics')}")
            return
        opt.load_state_dict(st["opt"])
        sched.load_state_dict(st["sched"])
        set_rng_state(gen, st["rng"])
        step = st["step"]
        print(f"resuming {ckpt} at step {step}")
    log = JsonLog(out_dir / f"{args.out}.log.jsonl")
    t0 = time.time()

    def save(metrics=None):
        save_checkpoint(ckpt, {"kind": "parser", "cfg": pc, "model": parser.state_dict(), "opt": opt.state_dict(),
                               "sched": sched.state_dict(), "rng": rng_state(gen), "step": step, "metrics": metrics})

    while step < pc["steps"]:
        idx = torch.randint(len(tr_i), (pc["batch"],), generator=gen)
        x, m = augment_pair(to_float(tr_i[idx]), tr_m[idx], gen)
        loss = F.cross_entropy(parser(x), m)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if step % 50 == 0 or step == pc["steps"]:
            log.write(step=step, loss=round(loss.item(), 4))
            print(f"parser step {step}/{pc['steps']} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
        if step % pc.get("ckpt_every", 500) == 0:
            save()
    metrics = evaluate(parser, va_i, va_m)
    metrics["train_seconds"] = round(time.time() - t0, 1)
    log.write(step=step, **metrics)
    save(metrics)
    print(f"parser done: held-out train mIoU {metrics['miou']:.3f}, pixel accuracy {metrics['pixel_accuracy']:.3f}")


if __name__ == "__main__":
    run_main(main)
