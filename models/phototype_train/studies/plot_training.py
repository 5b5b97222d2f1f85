"""The generator's training curve as a picture: the monitor's rows (and the loss log) against images seen.

  .venv/bin/python -m phototype_train study plot-training runs/faces128/generator --out docs/training/faces-128/curve.png

Reads <prefix>.monitor.jsonl (FD-MobileNetV2, precision, recall, structure diversity; written every
monitor_every images) and <prefix>.log.jsonl (losses, relative step sizes, seconds per step).
"""
import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt  # noqa: E402

from phototype_train.common import REPO, UserError, run_main  # noqa: E402


def read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        raise UserError(f"{path} does not exist: train with gan.monitor_every set to write it")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rolling(xs: list[float], n: int) -> list[float]:
    """Mean of the last n values at each point (fewer at the start)."""
    return [sum(xs[max(0, i - n + 1):i + 1]) / (i - max(0, i - n + 1) + 1) for i in range(len(xs))]


def plot(prefix: Path, out: Path, real: dict | None = None):
    mon = read_rows(prefix.with_suffix(".monitor.jsonl"))
    log = read_rows(prefix.with_suffix(".log.jsonl"))
    seen = [r["seen"] / 1000 for r in mon]
    fig, ax = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    ax[0, 0].plot(seen, [r["fd_mobilenet"] for r in mon], "o-")
    ax[0, 0].set(title="FD-MobileNetV2 to training faces (lower is better)", xlabel="thousand images seen")
    ax[0, 1].plot(seen, [r["precision"] for r in mon], "o-", label="precision")
    ax[0, 1].plot(seen, [r["recall"] for r in mon], "o-", label="recall")
    ax[0, 1].set(title="precision and recall (k=3)", xlabel="thousand images seen", ylim=(0, 1))
    ax[0, 1].legend()
    ax[1, 0].plot(seen, [r["pairwise_miou"] for r in mon], "o-", label="samples")
    if real:
        ax[1, 0].axhline(real["pairwise_miou"], color="grey", ls="--", label="real faces")
    ax[1, 0].set(title="pairwise layout mIoU (lower: more varied structure)", xlabel="thousand images seen")
    ax[1, 0].legend()
    lseen = [r["seen"] / 1000 for r in log]
    ax[1, 1].plot(lseen, rolling([r["loss_d"] for r in log], 20), label="loss D")
    ax[1, 1].plot(lseen, rolling([r["loss_g"] for r in log], 20), label="loss G")
    ax[1, 1].set(title="losses (rolling mean of 20 log rows)", xlabel="thousand images seen")
    ax[1, 1].legend()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out} ({len(mon)} monitor rows, {len(log)} log rows)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix", help="the run's checkpoint path without .pt, e.g. runs/faces128/generator")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    prefix = Path(args.prefix)
    ref = sorted(REPO.glob(".cache/monitor-reference-*.npz"))
    real = None
    if ref:
        import numpy as np
        real = json.loads(str(np.load(ref[-1])["structure"]))
    plot(prefix, Path(args.out), real)


if __name__ == "__main__":
    run_main(main)
