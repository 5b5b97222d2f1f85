"""Stage: train a face parser (RGB -> 19 classes) on train/ only.

The training stack uses it to label generated samples (mapper pairs, cluster purity).
The evaluation parser is a second run of this script with --out eval_parser and another seed.

  .venv/bin/python -m phototype_train parser --config faces64
"""
import torch
import torch.nn.functional as F

from phototype_train.data.augment import augment_pair, resolution_jitter
from phototype_train.data.classes import NUM_CLASSES
from phototype_train.common import (StageState, autocast_for, data_root, load_stage, load_weights, optimiser_step, run_dir, run_main, seed_everything,
                    set_threads, stage_args)
from phototype_train.config import stage_config
from phototype_train.data.dataset import load_split, to_float
from phototype_train.data.sides import sides_by_position
from phototype_train.evaluation.metrics import confusion, miou, pixel_accuracy
from phototype_train.networks.parser import FaceParser


def evaluate(parser, images, masks, batch=50):
    """Held-out scores. Leaves the parser in the mode it came in: a measuring parser must stay in
    eval mode, or every later batch is parsed with batch statistics."""
    was_training = parser.training
    parser.eval()
    conf = torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.long)
    with torch.no_grad():
        for i in range(0, len(images), batch):
            pred = parser(to_float(images[i:i + batch])).argmax(1)
            conf += confusion(pred, masks[i:i + batch], NUM_CLASSES)
    parser.train(was_training)
    m, _ = miou(conf)
    return {"miou": m, "pixel_accuracy": pixel_accuracy(conf)}


class OnnxParser:
    """A pack's exported parser.onnx as a callable like FaceParser (RGB in [-1, 1] -> class logits):
    lets a study label samples with exactly the parser a shipped pack carries."""

    def __init__(self, path):
        import onnxruntime as ort  # only studies on a shipped pack need it
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def __call__(self, x):
        return torch.from_numpy(self.session.run(None, {self.input: x.float().contiguous().numpy()})[0])

    def eval(self):
        return self


def load_parser(path):
    """A run's parser checkpoint, or a pack's parser.onnx (then the state is {})."""
    if str(path).endswith(".onnx"):
        return OnnxParser(path), {}
    st = load_stage(path, "parser")
    p = FaceParser(**st["arch"])
    load_weights(p, st["model"], path, "parser checkpoint")
    return p.eval(), st


def main(argv=None):
    ap = stage_args(__doc__, "parser", restart=False)
    ap.add_argument("--out", default="parser", help="checkpoint name in the run folder")
    ap.add_argument("--section", default="parser", help="config section: parser, or eval_parser for the evaluation's own parser")
    ap.add_argument("--seed", type=int, help="overrides the config's parser seed")
    args = ap.parse_args(argv)
    cfg, pc = stage_config(args, args.section, seed=args.seed)
    set_threads()
    out_dir = run_dir(cfg, args.run_dir)
    images, masks, _ = load_split(data_root(cfg, args.data), "train", pc.resolution, with_masks=True)
    if pc.sides_by_position:
        masks = sides_by_position(masks)
    nval = min(pc.val, len(images) // 5)
    # The last `val` train images are held out to watch overfitting; test/ is never touched here.
    tr_i, tr_m, va_i, va_m = images[:-nval], masks[:-nval], images[-nval:], masks[-nval:]

    gen = seed_everything(pc.seed)
    arch = {"num_classes": NUM_CLASSES, "base": pc.base, "depth": pc.depth}
    parser = FaceParser(**arch)
    opt = torch.optim.AdamW(parser.parameters(), lr=pc.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=pc.lr, total_steps=pc.steps, pct_start=0.1)
    state = StageState(out_dir / f"{args.out}.pt", "parser", arch, gen, model=parser, opt=opt, sched=sched)
    if state.resume() and state.step >= pc.steps:
        print(f"{state.path} is already trained ({state.step} steps): {state.loaded.get('metrics')}")
        return
    autocast = autocast_for(pc, torch.device("cpu"))  # the parser trains on the CPU

    def train_step():
        idx = torch.randint(len(tr_i), (pc.batch,), generator=gen)
        x, m = augment_pair(to_float(tr_i[idx]), tr_m[idx], gen)
        if pc.resolution_jitter:
            x = resolution_jitter(x, gen, pc.resolution_jitter)
        with autocast():
            loss = F.cross_entropy(parser(x).float(), m)
        optimiser_step(opt, loss)
        sched.step()
        return {"loss": loss}

    saved = {"cfg": pc.given()}
    state.train("parser", pc.steps, train_step, pc.ckpt_every, saved, log_when=lambda step: step % 50 == 0 or step == pc.steps)
    metrics = state.finish(evaluate(parser, va_i, va_m), saved)
    print(f"parser done: held-out train mIoU {metrics['miou']:.3f}, pixel accuracy {metrics['pixel_accuracy']:.3f}")


if __name__ == "__main__":
    run_main(main)
