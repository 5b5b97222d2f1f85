"""Typed configs: every committed config loads, unknown keys are refused, overrides reach the checkpoint's dict."""
import argparse

import pytest

from phototype_train.common import UserError
from phototype_train.config import CONFIG_DIR, Config, load_config, stage_config


@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIG_DIR.glob("*.json")))
def test_every_committed_config_loads_and_keeps_its_dicts(name):
    raw, cfg = load_config(name), Config.load(name)
    for key, value in raw.items():
        if isinstance(value, dict):
            assert cfg.section(key).given() == value  # what checkpoints store is the file's own dict


def test_unknown_keys_are_refused_by_name(tmp_path):
    path = tmp_path / "odd.json"
    path.write_text('{"data": {"root": "x"}, "parser": {"resolution": 32, "lr_typo": 1}}')
    with pytest.raises(UserError, match="unknown setting lr_typo"):
        Config.load(str(path))
    path.write_text('{"data": {"root": "x"}, "parsers": {}}')
    with pytest.raises(UserError, match="unknown section parsers"):
        Config.load(str(path))


def test_set_and_steps_override_one_section():
    args = argparse.Namespace(config="tiny", set=["kind=\"attention\"", "w_real=0"], steps=7)
    cfg, rc = stage_config(args, "rearranger")
    assert cfg.rearranger is rc and (rc.kind, rc.w_real, rc.steps) == ("attention", 0, 7)
    assert rc.given()["steps"] == 7 and rc.memory is True  # defaults fill what the file leaves out
    with pytest.raises(UserError, match="no such rearranger setting"):
        stage_config(argparse.Namespace(config="tiny", set=["nope=1"], steps=None), "rearranger")
    _, mc = stage_config(argparse.Namespace(config="tiny", set=[], steps=0), "mapper.sketch")
    assert mc.steps == load_config("tiny")["mapper"]["steps"]  # --steps 0: the config's


def test_the_pack_serves_its_chosen_truncation_while_the_stages_keep_theirs():
    tiny = Config.load("tiny").gan
    assert tiny.serve_truncation is None and tiny.pack_truncation == tiny.truncation
    g = Config.load("faces128").gan  # stages and monitor at 0.8; pack.json at the arms' choice
    assert (g.truncation, g.pack_truncation) == (0.8, 1.0)
