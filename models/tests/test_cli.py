"""The one command line: its help lists the stages in pipeline order, and build runs them in it."""
import argparse
import subprocess
import sys

from phototype_train.stages import STAGES
from phototype_train.stages.build import steps


def test_help_lists_the_stages_in_pipeline_order():
    r = subprocess.run([sys.executable, "-m", "phototype_train", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    names = [name for name, _, _ in STAGES]
    assert names == ["parser", "generator", "proxy", "rearranger", "mapper", "encoder"]
    where = [r.stdout.index(f"\n    {name}") for name in names + ["build", "export", "eval", "study"]]
    assert where == sorted(where)


def test_a_stage_keeps_its_own_options():
    r = subprocess.run([sys.executable, "-m", "phototype_train", "mapper", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--kind" in r.stdout and "python -m phototype_train mapper" in r.stdout


def test_build_runs_every_stage_in_order_then_export_and_figures():
    args = argparse.Namespace(config="tiny", run_dir="R", data="D", pack=None, force=True)
    plan = steps(args)
    modules = [m.rpartition(".")[2] for m, _ in plan]
    assert modules == ["parser", "generator", "proxy", "rearranger"] + ["mapper"] * 4 + ["encoder", "pack", "make_figures"]
    assert [a[a.index("--kind") + 1] for m, a in plan if "--kind" in a] == ["mask", "sketch", "scribble", "edges"]
    assert "--data" in plan[0][1] and "--data" not in plan[2][1] and "--force" in plan[-2][1]
