"""The one command line: its help lists the stages in pipeline order, and build runs them in it."""
import argparse
import os
import subprocess
import sys

import pytest

from phototype_train.common import UserError
from phototype_train.stages import STAGES
from phototype_train.stages.build import lanes, steps
from phototype_train.stages.build import main as build_main


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


def test_two_lanes_run_the_stages_after_the_proxy_side_by_side_and_export_after_both():
    args = argparse.Namespace(config="tiny", run_dir="R", data="D", pack=None, force=False)
    plan = steps(args)
    before, (a, b), after = lanes(plan, 2)
    name = lambda step: step[0].rpartition(".")[2]
    assert [name(s) for s in before] == ["parser", "generator", "proxy"]
    assert [name(s) for s in a] == ["rearranger", "encoder"]
    assert [s[1][s[1].index("--kind") + 1] for s in b] == ["mask", "sketch", "scribble", "edges"]
    assert [name(s) for s in after] == ["pack", "make_figures"]
    assert sorted(before + a + b + after) == sorted(plan)  # nothing dropped, nothing run twice
    assert lanes(plan, 1) == (plan, [], [])


def test_a_lane_runs_pinned_to_one_core_on_one_thread(tmp_path):
    # The stage processes read PHOTOTYPE_CPUS and PHOTOTYPE_THREADS in set_threads(); check it in a child.
    code = ("import os, torch; from phototype_train.common import set_threads; set_threads(); "
            "print(sorted(os.sched_getaffinity(0)), torch.get_num_threads())")
    env = {**os.environ, "PHOTOTYPE_CPUS": "0", "PHOTOTYPE_THREADS": "1"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[0] 1"


def test_build_from_a_stage_keeps_the_earlier_checkpoints_and_says_which_are_missing(tmp_path):
    args = argparse.Namespace(config="tiny", run_dir="R", data="D", pack=None, force=False, start="proxy")
    modules = [m.rpartition(".")[2] for m, _ in steps(args)]
    assert modules == ["proxy", "rearranger"] + ["mapper"] * 4 + ["encoder", "pack", "make_figures"]
    before, (a, b), after = lanes(steps(args), 2)
    assert [m.rpartition(".")[2] for m, _ in before] == ["proxy"] and len(a) == 2 and len(b) == 4
    (tmp_path / "parser.pt").write_bytes(b"")  # present; the generator's checkpoint is not
    with pytest.raises(UserError, match=r"lacks generator\.pt"):
        build_main(["--config", "tiny", "--run-dir", str(tmp_path), "--from", "proxy"])
