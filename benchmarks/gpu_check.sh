#!/usr/bin/env bash
# The GPU check on a machine with a GPU, torch and transformers but no network (docs/benchmarks.md, "GPU check").
# Installs the carried wheels (.gpu-wheels/, made here by benchmarks/gpu_wheels.sh) and the project beside the
# machine's torch and transformers, then runs `python -m benchmarks.gpu_check`.
# Arguments go to it; --no-install skips the installs (a dry run where the venv has everything).
# PYTHON picks the interpreter (default: python3). When OUT is set, the log goes to $OUT/gpu_check.log too.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-python3}"
install=1
args=()
for arg in "$@"; do
  if [[ $arg == --no-install ]]; then install=0; else args+=("$arg"); fi
done
if [[ -n ${OUT:-} ]]; then
  mkdir -p "$OUT"
  exec > >(tee -a "$OUT/gpu_check.log") 2>&1
fi
say() { echo "[gpu_check.sh $(date +%T)] $*"; }

if ((install)); then
  if [[ ! -d .gpu-wheels ]]; then
    echo "error: .gpu-wheels/ is missing: run 'bash benchmarks/gpu_wheels.sh' where the registry is reachable" \
      "and carry .gpu-wheels" >&2
    exit 2
  fi
  # Into the interpreter's own environment: the machine is lent for the run and handed back after it.
  export PIP_BREAK_SYSTEM_PACKAGES=1
  "$py" -m pip --version >/dev/null || { echo "error: $py has no pip" >&2; exit 2; }
  pip=("$py" -m pip install --no-index --find-links .gpu-wheels --disable-pip-version-check --quiet)
  say "installing $(grep -c '==' benchmarks/gpu_wheels.txt) pinned wheels with $("$py" -m pip --version)"
  if ! "${pip[@]}" -r benchmarks/gpu_wheels.txt; then
    say "the pins do not resolve beside the machine's packages (above); installing them without dependencies"
    "${pip[@]}" --no-deps -r benchmarks/gpu_wheels.txt
  fi
  "${pip[@]}" --no-deps --no-build-isolation -e . -e adapters/trl -e plugins/repo-sdk-negotiation
  "$py" -c "import trl, datasets, pydantic, repo_sdk_trl, repo_sdk_negotiation, torch; print('cuda:', torch.cuda.is_available())"
  say "installed"
fi
"$py" -m benchmarks.gpu_check ${args[@]+"${args[@]}"}
