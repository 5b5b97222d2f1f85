import pytest

from phototype_train.data.synthetic import write_dataset


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """A celebamask-mini-shaped folder of synthetic faces (the real data is not needed to test the code)."""
    return write_dataset(tmp_path_factory.mktemp("data") / "celebamask-mini")


@pytest.fixture(scope="session")
def tiny_run(dataset, tmp_path_factory):
    """Every stage of the tiny config, end to end, in a temporary run folder."""
    from phototype_train.stages import proxy as fit_proxy
    from phototype_train.stages import encoder as train_encoder
    from phototype_train.stages import generator as train_generator
    from phototype_train.stages import mapper as train_mapper
    from phototype_train.stages import parser as train_parser
    from phototype_train.stages import rearranger as train_rearranger

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
