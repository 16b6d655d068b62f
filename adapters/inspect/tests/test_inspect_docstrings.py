"""The short examples in the adapter's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "repo_sdk_inspect",
    "repo_sdk_inspect.samples",
    "repo_sdk_inspect.scores",
    "repo_sdk_inspect.batcher",
    "repo_sdk_inspect.scorer",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
