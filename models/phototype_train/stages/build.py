"""Build a pack from nothing: every stage of one config in order, then the export and the figures.

  python -m phototype_train build --config faces64 [--pack faces-64] [--force]

Each stage resumes where it stopped and a finished one only re-reads its checkpoint, so after a stop
(Ctrl-C saves the running stage) the same command carries on. The generator trains until its config's
step count. --force replaces an existing pack of that name.
"""
import argparse
import importlib

from phototype_train.stages import STAGES
from phototype_train.stages.mapper import KINDS

# The stages whose options include --data (the others read only earlier stages' checkpoints).
TAKES_DATA = {"parser", "generator", "encoder"}


def steps(args) -> list[tuple[str, list[str]]]:
    """(module, argv) for every step of the build, in order."""
    common = ["--config", args.config] + (["--run-dir", args.run_dir] if args.run_dir else [])
    data = ["--data", args.data] if args.data else []
    out = []
    for name, module, _ in STAGES:
        argv = common + (data if name in TAKES_DATA else [])
        kinds = KINDS if name == "mapper" else [None]
        out += [(module, argv + (["--kind", kind] if kind else [])) for kind in kinds]
    pack = (["--pack", args.pack] if args.pack else []) + (["--force"] if args.force else [])
    out.append(("phototype_train.export.pack", common + pack))
    out.append(("phototype_train.studies.make_figures", common + data))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m phototype_train build", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny", help="a config in configs/ by name, or a JSON file")
    ap.add_argument("--run-dir", help="the run folder (default: runs/<config name>)")
    ap.add_argument("--data", help="the dataset folder (default: $PHOTOTYPE_DATA, then the config's data.root)")
    ap.add_argument("--pack", help="pack name (default: the config's pack_name)")
    ap.add_argument("--force", action="store_true", help="replace an existing pack of that name")
    args = ap.parse_args(argv)
    for module, stage_argv in steps(args):
        print(f"== {module.rpartition('.')[2]} {' '.join(stage_argv)}", flush=True)
        importlib.import_module(module).main(stage_argv)
