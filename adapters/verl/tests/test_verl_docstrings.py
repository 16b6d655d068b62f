"""The short examples in the adapter's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "repo_sdk_verl",
    "repo_sdk_verl.samples",
    "repo_sdk_verl.extras",
    "repo_sdk_verl.runtime",
    "repo_sdk_verl.reward",
    "repo_sdk_verl.data",
    "repo_sdk_verl.launch",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
