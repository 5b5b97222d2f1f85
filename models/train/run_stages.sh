#!/usr/bin/env bash
# Every training stage of one config, in order; each resumes where it stopped or skips when done.
#   bash models/train/run_stages.sh faces64 faces-64 [--force]
# The generator trains until its config's step count; stop it any time (Ctrl-C saves) and rerun.
set -euo pipefail
cfg=${1:?config name, e.g. tiny or faces64}
pack=${2:-$cfg}
shift $(( $# >= 2 ? 2 : $# ))
cd "$(dirname "$0")"
PY=${PHOTOTYPE_PYTHON:-../../.venv/bin/python}
$PY train_parser.py --config "$cfg"
$PY train_generator.py --config "$cfg"
$PY fit_proxy.py --config "$cfg"
$PY train_rearranger.py --config "$cfg"
for kind in mask sketch scribble edges; do $PY train_mapper.py --config "$cfg" --kind "$kind"; done
$PY train_encoder.py --config "$cfg"
$PY export_pack.py --config "$cfg" --pack "$pack" "$@"
$PY make_figures.py --config "$cfg"
