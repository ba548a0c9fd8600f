#!/usr/bin/env bash
# GPU check, one script, under 8 minutes on one GPU: the probe benchmark (cliffbench's probes on the
# GPU vs scikit-learn on the CPU, all cores, same subsets) and the extraction throughput
# (Trainer.predict vs a bare bf16 forward of the same model; goal >= 80%).
#
#   benchmarks/gpu_check.sh          # on a GPU machine; outputs also go to benchmarks/results/
#   benchmarks/gpu_check.sh tiny     # the same steps on a tiny size (CPU fallback check)
#
# Each step has its own time limit, so the whole stays under 8 minutes even if one step is slow.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-full}"
OUT="${OUT_DIR:-benchmarks/results}"
PY="${PYTHON:-uv run --frozen python}"
mkdir -p "$OUT"
if [ "$SIZE" = tiny ]; then
  PROBES=(--d 64 --pool 1000 --test 300 --num 4 --trials 3 --sk-trials 3 --spread-trials 0)
  EXTRACT=(--model ViT-B-32 --images 16 --batch-size 8 --workers 0)
  TAG=tiny
else
  # 12 n x 20 trials on the 20k x 768 embedding-like features; scikit-learn on 2 trials per n (scaled)
  PROBES=(--features synthetic --num 12 --trials 20 --sk-trials 2 --spread-trials 0 --threads 0)
  EXTRACT=(--images 20000 --batch-size 256 --workers 8)
  TAG=gpu
fi
echo "== machine"; (nvidia-smi -L 2>/dev/null || echo "no GPU visible: CPU fallback"); nproc; uptime
echo "== probes (${PROBES[*]})"
timeout 330 $PY benchmarks/probes_benchmark.py "${PROBES[@]}" --out "$OUT/$TAG-check-probes.txt" \
  || echo "probe benchmark: exit $? (124 = its 330 s limit)"
echo "== extraction throughput (${EXTRACT[*]})"
timeout 120 $PY benchmarks/extraction_throughput.py "${EXTRACT[@]}" | tee "$OUT/$TAG-check-extraction.json" \
  || echo "extraction throughput: exit $? (124 = its 120 s limit)"
