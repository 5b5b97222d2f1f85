"""The one command line of the training code.

  python -m phototype_train <stage> --config faces128 ...   one training stage (its own --help lists its options)
  python -m phototype_train build --config faces128         every stage in order, resuming, then export and figures
  python -m phototype_train export --config faces128 --pack faces-128
  python -m phototype_train eval <prepare|score|parser|monitor> ...
  python -m phototype_train study <name> ...                one measurement; nothing a pack is built from
  python -m phototype_train data <synthetic|designer-shapes> ...
"""
import argparse
import importlib
import sys

from phototype_train.common import run_main
from phototype_train.stages import STAGES

PROG = "python -m phototype_train"

# Subcommands of eval, study and data: name -> (module, what it does).
EVAL = {
    "prepare": ("phototype_train.evaluation.evaluate", "test/ layouts and real photos for the server's pipeline (npm run eval runs it)"),
    "score": ("phototype_train.evaluation.evaluate", "score the pipeline's outputs, write RESULTS.md (npm run eval runs it)"),
    "parser": ("phototype_train.evaluation.eval_parser", "freeze or check the committed evaluation parser (models/eval/)"),
    "monitor": ("phototype_train.evaluation.monitor_generator", "realism, coverage and structure diversity of generator checkpoints"),
}
STUDIES = {
    "figures": ("phototype_train.studies.make_figures", "pictures of a run: samples, proxy masks, rearranged, mapped"),
    "ablation-table": ("phototype_train.studies.ablation_table", "a table of rearranger ablation checkpoints"),
    "batchnorm-mode-effect": ("phototype_train.studies.batchnorm_mode_effect", "what batch statistics did to the old scores"),
    "before-after": ("phototype_train.studies.before_after", "two evaluation runs side by side"),
    "bench-training": ("phototype_train.studies.bench_training", "one generator step under each CPU speed-up"),
    "compare-generators": ("phototype_train.studies.compare_generators", "generator checkpoints compared on the same measures"),
    "mapper-baselines": ("phototype_train.studies.mapper_baselines", "what a mapper's agreement should be compared with"),
    "plot-training": ("phototype_train.studies.plot_training", "the generator's training curve as a picture"),
    "proxy-study": ("phototype_train.studies.proxy_study", "proxy masks for several k"),
    "proxy-parts": ("phototype_train.studies.proxy_parts", "part read-outs: can a proxy mask name every face part"),
    "layout-oracle": ("phototype_train.studies.layout_oracle", "a proxy + rearranger following layouts the generator can make"),
    "fit-layout": ("phototype_train.studies.fit_layout", "the server's fit option read by the evaluation parser (npm run bench:fit)"),
    "photo-routes": ("phototype_train.studies.photo_routes", "a photo's layout by encoder or parser, read by the evaluation parser (npm run bench:photo)"),
}
DATA = {
    "synthetic": ("phototype_train.data.synthetic", "a celebamask-mini-shaped folder of synthetic faces (for tests)"),
    "designer-shapes": ("phototype_train.data.designer_shapes", "test/ masks redrawn as a designer draws them"),
}


def parser() -> argparse.ArgumentParser:
    order = " -> ".join(name for name, _, _ in STAGES)
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=f"stages, in pipeline order: {order}; then export. "
                                        "Each stage resumes from runs/<config>/<stage>.pt.")
    commands = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # A command's options are its module's own (parsed by its main), so its parser here takes none.
    for name, _, what in STAGES:
        commands.add_parser(name, help=f"stage: {what}", add_help=False)
    commands.add_parser("build", help="every stage in order (resuming), then export and figures", add_help=False)
    commands.add_parser("export", help="a run's networks as a model pack (ONNX, pack.json)", add_help=False)
    for name, table, what in (("eval", EVAL, "evaluation"), ("study", STUDIES, "a study"), ("data", DATA, "datasets")):
        group = commands.add_parser(name, help=f"{what}: {', '.join(table)}")
        subs = group.add_subparsers(dest="sub", required=True, metavar="NAME")
        for sub, (_, help_) in table.items():
            subs.add_parser(sub, help=help_, add_help=False)
    return ap


def module_for(args) -> tuple[str, list[str]]:
    """The module that runs the command, and the arguments its main() gets in front of the rest."""
    stages = {name: module for name, module, _ in STAGES}
    if args.command in stages:
        return stages[args.command], []
    if args.command == "build":
        return "phototype_train.stages.build", []
    if args.command == "export":
        return "phototype_train.export.pack", []
    table = {"eval": EVAL, "study": STUDIES, "data": DATA}[args.command]
    module = table[args.sub][0]
    return module, [args.sub] if module.endswith(".evaluate") else []


def main(argv=None):
    args, rest = parser().parse_known_args(argv)
    module, first = module_for(args)
    # The module's own parser names itself by this command in its usage line.
    sys.argv[0] = " ".join([PROG, args.command] + ([args.sub] if getattr(args, "sub", None) else []))
    run_main(lambda: importlib.import_module(module).main(first + rest))


if __name__ == "__main__":
    main()
