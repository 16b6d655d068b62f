#!/usr/bin/env bash
# Make the wheels the GPU check carries (docs/benchmarks.md, "GPU check"); run here, with the registry reachable.
#   bash benchmarks/gpu_wheels.sh          download the pins of benchmarks/gpu_wheels.txt into .gpu-wheels/
#   bash benchmarks/gpu_wheels.sh lock     re-resolve the pins (after the project's dependencies change)
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m benchmarks._gpu_wheels "$@"
