"""The evaluation's face parser: one fixed network, committed, that judges every pack.

Every pack is read in the same space: outputs are resized (bilinear) to the parser's 128 px and
labelled there, against test masks majority-pooled to 128 px. 128 px sits between today's 64 px
packs and the 256 px recipe; the parser was trained with random down-and-up scaling so a 64 px
output read at 128 px is not penalised for its softness, only for what it lacks.

Trained on train/ only (configs/evaluation.json, section eval_parser), then frozen:
  .venv/bin/python -m phototype_train parser --config evaluation --section eval_parser --out eval_parser
  .venv/bin/python -m phototype_train eval parser freeze runs/evaluation/eval_parser.pt
writes models/eval/parser.pt (weights only) and models/eval/parser.json (its sha256, shape, scores).
"""
import argparse
import hashlib
import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from phototype_train.common import REPO, UserError, load_stage, run_main
from phototype_train.networks.parser import FaceParser

# PHOTOTYPE_EVAL_PARSER_DIR: only for tests of a missing or changed parser.
EVAL_DIR = Path(os.environ.get("PHOTOTYPE_EVAL_PARSER_DIR") or REPO / "models" / "eval")
WEIGHTS = EVAL_DIR / "parser.pt"
MANIFEST = EVAL_DIR / "parser.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def to_eval_res(images: torch.Tensor, res: int) -> torch.Tensor:
    """Float images [N,3,h,w] in [-1,1] -> [N,3,res,res] (bilinear; antialiased when shrinking)."""
    if images.shape[-1] == res:
        return images
    return F.interpolate(images, size=(res, res), mode="bilinear", align_corners=False,
                         antialias=images.shape[-1] > res).clamp(-1, 1)


class EvalParser:
    """The frozen parser, always in eval mode under no_grad: a measurement must not depend on which
    other images share its batch (BatchNorm in training mode would make it)."""

    def __init__(self, net: FaceParser, res: int, sha: str, info: dict):
        self.net, self.res, self.sha256, self.info = net.eval(), res, sha, info
        for p in self.net.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def logits(self, images: torch.Tensor, batch: int = 50) -> torch.Tensor:
        self.net.eval()
        return torch.cat([self.net(to_eval_res(images[i:i + batch], self.res)) for i in range(0, len(images), batch)])

    def labels(self, images: torch.Tensor, batch: int = 50) -> torch.Tensor:
        """Class ids [N,res,res] for float images [N,3,h,w] in [-1,1] at any size."""
        return torch.cat([self.logits(images[i:i + batch]).argmax(1) for i in range(0, len(images), batch)])

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch: int = 50):
        """Deepest encoder map, average-pooled: the parser-space realism features (numpy [N,D])."""
        self.net.eval()
        return torch.cat([self.net.net.features(to_eval_res(images[i:i + batch], self.res))
                          for i in range(0, len(images), batch)]).numpy()


def load(weights: Path = WEIGHTS, manifest: Path = MANIFEST) -> EvalParser:
    """The committed evaluation parser; refused with one line when missing or changed."""
    if not manifest.is_file() or not weights.is_file():
        raise UserError(f"the evaluation parser ({weights}) is missing: it is committed with the repo; "
                        "restore it with git, or freeze a new one (see python -m phototype_train eval parser)")
    info = json.loads(manifest.read_text())
    got = sha256(weights)
    if got != info["sha256"]:
        raise UserError(f"the evaluation parser {weights} has sha256 {got[:12]}…, not the {info['sha256'][:12]}… "
                        f"that {manifest.name} names: it was changed; restore it with git")
    st = torch.load(weights, map_location="cpu", weights_only=True)  # tensors and plain dicts only
    net = FaceParser(**info["arch"])
    net.load_state_dict(st)
    return EvalParser(net, info["resolution"], got, info)


def freeze(checkpoint: Path):
    st = load_stage(checkpoint, "parser")
    cfg = st.get("cfg") or {}
    EVAL_DIR.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.float().contiguous() for k, v in st["model"].items()}, WEIGHTS)
    info = {"sha256": sha256(WEIGHTS), "arch": st["arch"], "resolution": cfg.get("resolution"),
            "trained": {"data": "celebamask-mini train/ (the last 50 held out), never test/", "steps": st["step"],
                        "seconds": st.get("seconds"), "config": "models/phototype_train/configs/evaluation.json (eval_parser)",
                        "held_out": st.get("metrics")}}
    MANIFEST.write_text(json.dumps(info, indent=2) + "\n")
    print(f"froze {checkpoint} -> {WEIGHTS} ({WEIGHTS.stat().st_size / 2**20:.2f} MiB, sha256 {info['sha256']})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["freeze", "check"])
    ap.add_argument("checkpoint", nargs="?")
    args = ap.parse_args(argv)
    if args.command == "freeze":
        if not args.checkpoint:
            raise UserError("freeze needs the parser checkpoint to freeze (e.g. runs/evaluation/eval_parser.pt)")
        freeze(Path(args.checkpoint))
    else:
        p = load()
        print(f"evaluation parser OK: sha256 {p.sha256}, {p.res} px")


if __name__ == "__main__":
    run_main(main)
