"""A markdown table of held-out metrics from several runs of one stage (e.g. rearranger ablations).

  .venv/bin/python -m phototype_train study ablation-table runs/ablate/*/rearranger.pt

Each checkpoint's own saved metrics; nothing is recomputed.
"""
import argparse
from pathlib import Path

from phototype_train.common import load_checkpoint, run_main

COLUMNS = [  # (metric, header, higher is better)
    ("agreement_cross", "proxy follows target", True),
    ("parts_agreement", "parts follow target (run's parser)", True),
    ("parts_agreement_no_rearrange", "same, unmoved source", True),
    ("parts_agreement_eval_parser", "parts follow target (evaluation parser)", True),
    ("parts_agreement_eval_parser_no_rearrange", "same, unmoved source", True),
    ("appearance_kept", "appearance kept", True),
    ("far_neighbour_share", "neighbours torn apart", False),
    ("self_rec_error", "self rec. error (sd)", False),
]


def row(path: Path):
    st = load_checkpoint(path, "rearranger checkpoint")
    m, rc = st.get("metrics", {}), st.get("rc", {})
    name = path.parent.name
    cells = [f"{m[k]:.3f}" if k in m else "-" for k, _, _ in COLUMNS]
    return f"| {name} | {st['step']} | {st.get('seconds', 0) / 60:.0f} | " + " | ".join(cells) + " |"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+", type=Path)
    args = ap.parse_args(argv)
    print("| variant | steps | min | " + " | ".join(h + (" ↑" if up else " ↓") for _, h, up in COLUMNS) + " |")
    print("|---|---|---|" + "---|" * len(COLUMNS))
    for p in args.checkpoints:
        print(row(p))


if __name__ == "__main__":
    run_main(main)
