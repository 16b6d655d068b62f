"""Built-in combiners: ``repo`` (the method's enhancement), ``weighted_sum``, ``gate``,
``normalize_then_sum`` and ``min``."""

from __future__ import annotations

from typing import Any

from repo_sdk.combiners.gate import GateCombiner
from repo_sdk.combiners.minimum import MinCombiner
from repo_sdk.combiners.normalize import NormalizeThenSumCombiner
from repo_sdk.combiners.repo import RepoCombiner, enhance
from repo_sdk.combiners.weighted_sum import WeightedSumCombiner
from repo_sdk.hookspecs import hookimpl

__all__ = [
    "GateCombiner",
    "MinCombiner",
    "NormalizeThenSumCombiner",
    "RepoCombiner",
    "WeightedSumCombiner",
    "enhance",
]


@hookimpl
def register_combiners(register: Any) -> None:
    for cls in (RepoCombiner, WeightedSumCombiner, GateCombiner, NormalizeThenSumCombiner, MinCombiner):
        register(cls)
