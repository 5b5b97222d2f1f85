"""Shared plumbing for the training stages: clear errors, their common options, checkpoints, seeding, the step loop."""
import argparse
import json
import os
import pickle
import random
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]


class UserError(Exception):
    """A problem the user can fix (bad path, bad file, existing pack): printed as one line, no traceback."""


def run_main(fn):
    """Run a stage's main(); turn UserError into a one-line message and exit code 2."""
    try:
        fn()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: the last checkpoint is kept; run the same command to resume", file=sys.stderr)
        sys.exit(130)


def stage_args(doc: str, section: str, data=True, steps=True, restart=True) -> argparse.ArgumentParser:
    """The options the stages share; a stage adds its own to the parser this returns."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny", help="a config in configs/ by name, or a JSON file")
    if data:
        ap.add_argument("--data", help="the dataset folder (default: $PHOTOTYPE_DATA, then the config's data.root)")
    ap.add_argument("--run-dir", help="the run folder (default: runs/<config name>)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help=f"override a setting of the config's {section} section; the value is JSON (a string in quotes: KEY='\"text\"')")
    if steps:
        ap.add_argument("--steps", type=int, help="train up to this many steps in total (overrides the config)")
    if restart:
        ap.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    return ap


def run_dir(cfg, override: str | None = None) -> Path:
    d = Path(override) if override else REPO / "runs" / cfg.name
    d.mkdir(parents=True, exist_ok=True)
    return d


def data_root(cfg, override: str | None = None) -> Path:
    root = Path(override or os.environ.get("PHOTOTYPE_DATA") or cfg.data.root)
    if not root.is_absolute():
        root = (REPO / root).resolve()
    return root


def set_threads():
    # PHOTOTYPE_CPUS pins a stage to cores ("1", "0,1") so two one-thread jobs never share one (build --lanes 2).
    cpus = os.environ.get("PHOTOTYPE_CPUS")
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    # Debian's torch starts with one thread; use every core we were given.
    n = int(os.environ.get("PHOTOTYPE_THREADS", "0")) or len(os.sched_getaffinity(0))
    torch.set_num_threads(max(1, n))


def autocast_for(section, dev: torch.device):
    """bf16 autocast where a stage's config section asks ("autocast": "bf16"; on by default on a GPU).

    Measured on this 2-core CPU (studies/bench_training.py): a G+D step is 1.7x (faces64) and 2.0x (faces128)
    faster, with the same loss curves. Weights, optimiser state
    and R1 stay fp32, and bf16 has fp32's range: no GradScaler.
    """
    mode = section.autocast or ("bf16" if dev.type == "cuda" else "none")
    return lambda: torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=mode == "bf16")


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def save_checkpoint(path: Path, state: dict):
    """Write atomically: a run killed mid-save keeps the previous checkpoint intact."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, what: str = "checkpoint") -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} {path} does not exist: run the stage that makes it first")
    try:
        # Our own run checkpoints carry RNG states (numpy arrays), which weights_only refuses.
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise UserError(f"{what} {path} is corrupt or truncated ({type(e).__name__}); delete it and rerun the stage that makes it")
    if not isinstance(state, dict) or "kind" not in state:
        raise UserError(f"{what} {path} is not a Phototype checkpoint")
    return state


class JsonLog:
    """Append-only JSON-lines log of losses, so a resumed run keeps one history."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.t0 = time.time()

    def write(self, **row):
        row.setdefault("time", round(time.time(), 3))
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def rng_state(g: torch.Generator) -> dict:
    return {"torch": torch.get_rng_state(), "gen": g.get_state(), "py": random.getstate(), "np": np.random.get_state()}


def set_rng_state(g: torch.Generator, s: dict):
    torch.set_rng_state(s["torch"])
    g.set_state(s["gen"])
    random.setstate(s["py"])
    np.random.set_state(s["np"])


def load_weights(module, state_dict, path, what):
    """load_state_dict with a clear message when the checkpoint predates the current network code."""
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else str(e)
        raise UserError(f"{what} {path} does not fit the current network code ({first[:120]}); retrain that stage with --restart")
    return module


def load_stage(path, kind):
    """A stage's checkpoint, refused with a clear line when it is missing, corrupt or of another kind."""
    st = load_checkpoint(path, f"{kind} checkpoint")
    if st["kind"] != kind:
        raise UserError(f"{path} is a {st['kind']} checkpoint, not a {kind}")
    return st


def optimiser_step(opt, loss):
    opt.zero_grad(set_to_none=True)
    loss.float().backward()
    opt.step()


class StageState:
    """Save and resume for a training stage: its parts (networks, optimisers, schedulers), the RNG,
    the step and the seconds trained. A checkpoint made for another architecture is refused.
    The stage's log sits beside its checkpoint (name.pt, name.log.jsonl)."""

    def __init__(self, path, kind, arch, gen, **parts):
        self.path, self.kind, self.arch, self.gen, self.parts = Path(path), kind, arch, gen, parts
        self.step, self.seconds, self.loaded = 0, 0.0, {}
        self.log = JsonLog(self.path.with_suffix(".log.jsonl"))
        self._t = time.time()

    def resume(self, restart=False) -> bool:
        if restart or not self.path.is_file():
            return False
        st = load_stage(self.path, self.kind)
        if st.get("arch") != self.arch:
            raise UserError(f"{self.path} was made for another network shape; pass --restart to start over")
        for name, part in self.parts.items():
            if isinstance(part, torch.nn.Module):
                load_weights(part, st[name], self.path, f"{self.kind} checkpoint")
            else:
                part.load_state_dict(st[name])
        set_rng_state(self.gen, st["rng"])
        self.step, self.seconds, self.loaded = st["step"], st.get("seconds", 0.0), st
        self._t = time.time()
        print(f"resuming {self.path} at step {self.step}")
        return True

    def tick(self):
        """One step done: count it and the wall time since the last tick."""
        now = time.time()
        self.step, self.seconds, self._t = self.step + 1, self.seconds + now - self._t, now

    def save(self, **extra):
        state = {"kind": self.kind, "arch": self.arch, "rng": rng_state(self.gen), "step": self.step,
                 "seconds": round(self.seconds, 1), **{n: p.state_dict() for n, p in self.parts.items()}, **extra}
        save_checkpoint(self.path, state)

    def train(self, name, steps, train_step, ckpt_every, saved, log_when=lambda step: step % 25 == 0 or step == 1):
        """The stages' step loop, up to `steps`: train_step() trains one batch and returns its losses by
        name; at the steps log_when picks they go to the log and the console, and every ckpt_every
        steps the checkpoint is written with `saved` (the stage's config and extra state) beside it."""
        while self.step < steps:
            losses = train_step()
            self.tick()
            if log_when(self.step):
                values = {k: v.item() for k, v in losses.items()}
                self.log.write(step=self.step, **{k: round(v, 4) for k, v in values.items()})
                print(f"{name} step {self.step}/{steps} " + " ".join(f"{k} {v:.3f}" for k, v in values.items())
                      + f" {self.seconds:.0f}s", flush=True)
            if self.step % ckpt_every == 0:
                self.save(**saved)

    def finish(self, metrics: dict, saved) -> dict:
        """The held-out metrics (and the seconds trained) into the log and the final checkpoint."""
        metrics["train_seconds"] = round(self.seconds, 1)
        self.log.write(step=self.step, **metrics)
        self.save(**saved, metrics=metrics)
        return metrics


def save_image_grid(images: torch.Tensor, path, nrow: int = 8, pad: int = 2):
    """images [N,3,H,W] in [0,1] -> one PNG, nrow per row, white gaps."""
    from PIL import Image
    n, _, h, w = images.shape
    rows = (n + nrow - 1) // nrow
    canvas = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, 3), 255, np.uint8)
    tiles = (images.detach().float().clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    for i, t in enumerate(tiles):
        y, x = pad + (i // nrow) * (h + pad), pad + (i % nrow) * (w + pad)
        canvas[y:y + h, x:x + w] = t
    Image.fromarray(canvas).save(path)
