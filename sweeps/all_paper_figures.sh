#!/usr/bin/env bash
# Every foundation-model figure of the paper (2.1, 2.2, D.1, D.2, D.3), one after the other.
set -euo pipefail
cd "$(dirname "$0")"
for fig in fig2_1 fig2_2 figD_1 figD_2 figD_3; do ./$fig.sh "$@"; done
