"""Build a pack from nothing: every stage of one config in order, then the export and the figures.

  python -m phototype_train build --config faces64 [--pack faces-64] [--force]

Each stage resumes where it stopped and a finished one only re-reads its checkpoint, so after a stop
(Ctrl-C saves the running stage) the same command carries on. The generator trains until its config's
step count. --force replaces an existing pack of that name. --from STAGE starts at that stage and takes
the earlier stages' checkpoints as they are (say, a generator run stopped before its step count).

--lanes 2: after the proxy, the rearranger and encoder train in one process and the four mappers in
another, each on one thread pinned to its own core (logs in the run folder, build-lane-N.log). On two
cores that is faster than one two-thread process running them in turn, and never puts two busy
threads on one core.
"""
import argparse
import importlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from phototype_train.common import REPO, UserError, run_dir
from phototype_train.config import Config
from phototype_train.stages import STAGES
from phototype_train.stages.mapper import KINDS

STAGE_OF_MODULE = {module: name for name, module, _ in STAGES}
# After the proxy these read only the generator, proxy and parser checkpoints and write their own,
# so they may run side by side: (rearranger, encoder) then the mappers, about 60 and 40 min for faces128.
LANE_OF_STAGE = {"rearranger": 0, "encoder": 0, "mapper": 1}

# The stages whose options include --data (the others read only earlier stages' checkpoints).
TAKES_DATA = {"parser", "generator", "encoder"}


def skipped_stages(start: str | None) -> list[str]:
    """The stages a build started at `start` leaves as they are."""
    names = [name for name, _, _ in STAGES]
    return names[: names.index(start)] if start else []


def checkpoints_of(stage: str) -> list[str]:
    return [f"mapper.{kind}.pt" for kind in KINDS] if stage == "mapper" else [f"{stage}.pt"]


def steps(args) -> list[tuple[str, list[str]]]:
    """(module, argv) for every step of the build, in order."""
    common = ["--config", args.config] + (["--run-dir", args.run_dir] if args.run_dir else [])
    data = ["--data", args.data] if args.data else []
    skipped = skipped_stages(getattr(args, "start", None))
    out = []
    for name, module, _ in STAGES:
        if name in skipped:
            continue
        argv = common + (data if name in TAKES_DATA else [])
        kinds = KINDS if name == "mapper" else [None]
        out += [(module, argv + (["--kind", kind] if kind else [])) for kind in kinds]
    pack = (["--pack", args.pack] if args.pack else []) + (["--force"] if args.force else [])
    packs_dir = getattr(args, "packs_dir", None)
    out.append(("phototype_train.export.pack", common + pack + (["--packs-dir", packs_dir] if packs_dir else [])))
    # The figures go beside the pack's name (docs/training/<pack>), never over another pack's pictures.
    figures = getattr(args, "figures_dir", None) or (str(REPO / "docs" / "training" / args.pack) if args.pack else None)
    out.append(("phototype_train.studies.make_figures", common + data + (["--out", figures] if figures else [])))
    return out


def lanes(plan: list[tuple[str, list[str]]], n: int):
    """Split a build plan into (before, lanes, after): the steps that must run in order first, n lists of
    independent steps to run side by side, and the export and figures that need all of them."""
    if n == 1:
        return plan, [], []
    parallel = [i for i, (module, _) in enumerate(plan) if STAGE_OF_MODULE.get(module) in LANE_OF_STAGE]
    first, last = parallel[0], parallel[-1]
    if parallel != list(range(first, last + 1)):
        raise ValueError("the side-by-side stages must be consecutive in the plan")
    out = [[] for _ in range(n)]
    for module, argv in plan[first:last + 1]:
        out[LANE_OF_STAGE[STAGE_OF_MODULE[module]] % n].append((module, argv))
    return plan[:first], out, plan[last + 1:]


def run_lane(index: int, steps: list[tuple[str, list[str]]], cpu: int, log: Path) -> str | None:
    """Run a lane's stages one after another, one thread pinned to `cpu`; the failed stage's name, or None."""
    env = {**os.environ, "PHOTOTYPE_THREADS": "1", "PHOTOTYPE_CPUS": str(cpu)}
    for module, argv in steps:
        name = STAGE_OF_MODULE[module] + (f" {argv[argv.index('--kind') + 1]}" if "--kind" in argv else "")
        print(f"lane {index + 1} (core {cpu}): {name} ... (log {log})", flush=True)
        t0 = time.time()
        with open(log, "a") as out:
            out.write(f"== {name} {' '.join(argv)}\n")
            out.flush()
            code = subprocess.call([sys.executable, "-m", "phototype_train", STAGE_OF_MODULE[module], *argv],
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
        if code:
            print(f"lane {index + 1}: {name} failed (exit {code}); its log: {log}", flush=True)
            return name
        print(f"lane {index + 1}: {name} done in {(time.time() - t0) / 60:.1f} min", flush=True)
    return None


def run_in_lanes(parallel: list[list[tuple[str, list[str]]]], run: Path):
    cpus = sorted(os.sched_getaffinity(0))
    logs = [run / f"build-lane-{i + 1}.log" for i in range(len(parallel))]
    with ThreadPoolExecutor(len(parallel)) as pool:
        futures = [pool.submit(run_lane, i, steps, cpus[i % len(cpus)], logs[i]) for i, steps in enumerate(parallel)]
        results = [(f.result(), log) for f, log in zip(futures, logs)]
    failed = [(name, log) for name, log in results if name]
    if failed:
        raise UserError("; ".join(f"{name} failed (see {log})" for name, log in failed) +
                        ": fix it and run the same command; finished stages are kept")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m phototype_train build", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny", help="a config in configs/ by name, or a JSON file")
    ap.add_argument("--run-dir", help="the run folder (default: runs/<config name>)")
    ap.add_argument("--data", help="the dataset folder (default: $PHOTOTYPE_DATA, then the config's data.root)")
    ap.add_argument("--pack", help="pack name (default: the config's pack_name)")
    ap.add_argument("--force", action="store_true", help="replace an existing pack of that name")
    ap.add_argument("--packs-dir", help="where the pack is written (default: models/packs)")
    ap.add_argument("--figures-dir", help="where the figures go (default: docs/training/<pack name>)")
    ap.add_argument("--from", dest="start", choices=[name for name, _, _ in STAGES],
                    help="start at this stage; the earlier stages' checkpoints are used as they are")
    ap.add_argument("--lanes", type=int, default=1, choices=(1, 2),
                    help="2: after the proxy, two one-thread processes side by side, one core each")
    args = ap.parse_args(argv)
    if args.lanes > 1 and len(os.sched_getaffinity(0)) < args.lanes:
        print(f"--lanes {args.lanes} needs {args.lanes} cores and this process may use "
              f"{len(os.sched_getaffinity(0))}: running the stages one after another", flush=True)
        args.lanes = 1
    run = run_dir(Config.load(args.config), args.run_dir)
    missing = [f for stage in skipped_stages(args.start) for f in checkpoints_of(stage) if not (run / f).is_file()]
    if missing:
        raise UserError(f"--from {args.start} uses the earlier stages as they are, and {run} lacks "
                        f"{', '.join(missing)}: build from an earlier stage")
    before, parallel, after = lanes(steps(args), args.lanes)

    def run_here(plan):
        for module, stage_argv in plan:
            print(f"== {module.rpartition('.')[2]} {' '.join(stage_argv)}", flush=True)
            importlib.import_module(module).main(stage_argv)

    run_here(before)
    if parallel:
        run_in_lanes(parallel, run)
    run_here(after)
