"""A run folder made before the training code became a package resumes after it.

fixtures/pre_move_generator.pt: 3 generator steps of fixtures/pre_move_tiny.json (the tiny config with
8 channels, batch 4, so the file stays small) on the synthetic dataset, made by train_generator.py at
a787157, when the code was a flat folder of scripts. Checkpoints pickle only dicts, tensors and numpy
RNG state, never a class of this code, so the move of every module must not matter.
The fixture was made on one thread; both runs here use one thread too, since float sums in another
order (two threads) differ in the last bit and "the same result" is checked bit for bit.
"""
import io
import pickletools
import re
import shutil
import zipfile
from pathlib import Path

import torch

from phototype_train.common import load_checkpoint
from phototype_train.stages import generator as train_generator

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_the_checkpoint_names_no_module_of_this_code():
    z = zipfile.ZipFile(FIXTURES / "pre_move_generator.pt")
    pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
    listing = io.StringIO()
    pickletools.dis(z.read(pkl), out=listing)
    modules = {g.split()[0] for g in re.findall(r"GLOBAL\s+'([^']+)'", listing.getvalue())}
    assert modules <= {"_codecs", "collections", "numpy", "numpy._core.multiarray", "torch", "torch._utils"}, modules


def test_a_pre_move_generator_resumes_to_the_uninterrupted_result(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTOTYPE_THREADS", "1")  # the stages' set_threads() reads it
    threads = torch.get_num_threads()
    try:
        _resume_and_compare(dataset, tmp_path)
    finally:
        torch.set_num_threads(threads)


def _resume_and_compare(dataset, tmp_path):
    resumed, fresh = tmp_path / "resumed", tmp_path / "fresh"
    resumed.mkdir()
    shutil.copy(FIXTURES / "pre_move_generator.pt", resumed / "generator.pt")
    assert load_checkpoint(resumed / "generator.pt")["step"] == 3
    common = ["--config", str(FIXTURES / "pre_move_tiny.json"), "--data", str(dataset), "--steps", "6"]
    train_generator.main(common + ["--run-dir", str(resumed)])  # resumes at 3
    train_generator.main(common + ["--run-dir", str(fresh)])  # 0 to 6 in one go, new code only
    a, b = load_checkpoint(resumed / "generator.pt"), load_checkpoint(fresh / "generator.pt")
    assert a["step"] == b["step"] == 6 and a["seen"] == b["seen"]
    for key in ("g", "d", "g_ema"):
        for name, t in a[key].items():
            assert torch.equal(t, b[key][name]), f"{key}.{name} differs from the uninterrupted run"
    assert torch.equal(a["rng"]["gen"], b["rng"]["gen"])

