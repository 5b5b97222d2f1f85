import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from synthetic_data import write_dataset  # noqa: E402


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """A celebamask-mini-shaped folder of synthetic faces (the real data is not needed to test the code)."""
    return write_dataset(tmp_path_factory.mktemp("data") / "celebamask-mini")


@pytest.fixture(scope="session")
def tiny_run(dataset, tmp_path_factory):
    """Every stage of the tiny config, end to end, in a temporary run folder."""
    import fit_proxy
    import train_encoder
    import train_generator
    import train_mapper
    import train_parser
    import train_rearranger

    run = tmp_path_factory.mktemp("run")
    common = ["--config", "tiny", "--run-dir", str(run)]
    train_parser.main(common + ["--data", str(dataset)])
    train_generator.main(common + ["--data", str(dataset), "--steps", "8"])
    fit_proxy.main(common)
    train_rearranger.main(common + ["--steps", "4"])
    for kind in ("mask", "sketch", "scribble", "edges"):
        train_mapper.main(common + ["--steps", "4", "--kind", kind])
    train_encoder.main(common + ["--data", str(dataset), "--steps", "3"])
    return run
