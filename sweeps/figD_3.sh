#!/usr/bin/env bash
# Paper Figure D.3 (see conf/experiment/figD_3.yaml) on a GPU machine with internet: downloads the
# dataset(s) and weights on first use, then runs every job of the sweep (rerunning resumes).
# Extra arguments are passed on, e.g. trials=5 for a quick look or hydra/launcher=submitit_slurm.
set -euo pipefail
cd "$(dirname "$0")/.."
uv run cliffbench experiment=figD_3 trainer=gpu "$@"
