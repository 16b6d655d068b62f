"""Micro-benchmarks of repo-sdk; run one with `python -m benchmarks.<name>`."""
