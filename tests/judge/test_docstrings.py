"""The examples in the judge's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import repo_sdk.judge

MODULES = sorted(m.name for m in pkgutil.iter_modules(repo_sdk.judge.__path__, "repo_sdk.judge."))


@pytest.mark.parametrize("name", ["repo_sdk.judge", *MODULES])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
