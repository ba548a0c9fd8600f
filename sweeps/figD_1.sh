#!/usr/bin/env bash
# Paper Figure D.1 (see conf/experiment/figD_1.yaml) on a GPU machine with internet: exactly the
# paper's five curves, in one sweep directory (the second command's summary covers both):
#   CIFAR-10 and SVHN: CLIP ViT-L/14 linear probe and finetuning; CIFAR-10: BEiT-large linear probe.
set -euo pipefail
cd "$(dirname "$0")/.."
uv run cliffbench experiment=figD_1 trainer=gpu dataset=cifar10,svhn backbone=openai_vit_l14 method=linear,finetune "$@"
uv run cliffbench experiment=figD_1 trainer=gpu dataset=cifar10 backbone=beit_large method=linear "$@"
