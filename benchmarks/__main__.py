"""Run benchmarks: `python -m benchmarks` (all) or `python -m benchmarks rules_throughput judge_throughput`.

Each benchmark is a module of this package with a `main()`; see docs/benchmarks.md.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

# tools the benchmarks use or that need arguments: run them as `python -m benchmarks.NAME ...`
TOOLS = {"corpus", "golden_rows", "rules_vs_before"}


def available() -> list[str]:
    names = (m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]))
    return sorted(n for n in names if not n.startswith("_") and n not in TOOLS)


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"error: unknown benchmark(s) {unknown}; available: {', '.join(available())}", file=sys.stderr)
        return 1
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        rc = module.main([]) if hasattr(module, "main") else 0  # defaults, not our argv
        print(f"=== {name}: {time.perf_counter() - start:.1f}s ===", flush=True)
        if rc:
            return int(rc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
