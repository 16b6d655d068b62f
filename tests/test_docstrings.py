"""Every docstring example of the core and of the adapters runs and says what it shows.

The modules are found by their source (a ``>>>`` in the file), not listed by hand, so a
new example is collected the day it is written. Examples run offline on tiny objects:
none is skipped.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing reaches for a model hub, whatever an example does

PACKAGES = ("repo_sdk", "repo_sdk_trl", "repo_sdk_openrlhf", "repo_sdk_verl", "repo_sdk_inspect")


def package_root(package: str) -> Path | None:
    """The folder of an installed package, found without importing it (None: not installed)."""
    spec = importlib.util.find_spec(package)
    return Path(spec.origin).parent if spec is not None and spec.origin else None


def module_files(package: str) -> Iterator[tuple[str, Path]]:
    """``(module name, file)`` of every module of ``package``."""
    root = package_root(package)
    for path in sorted(root.rglob("*.py")) if root is not None else ():
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def with_examples() -> Iterator[object]:
    for package in PACKAGES:
        if package_root(package) is None:
            yield pytest.param(package, marks=pytest.mark.skip(reason=f"{package} not installed (make setup)"))
            continue
        for name, path in module_files(package):
            if ">>> " in path.read_text(encoding="utf-8"):
                yield name


@pytest.mark.parametrize("name", list(with_examples()))
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name}: its '>>> ' lines are not in a docstring doctest finds"
    assert result.failed == 0


def test_no_example_is_skipped_and_the_packages_are_there() -> None:
    skipped = [
        f"{name}:{i}"
        for package in PACKAGES
        for name, path in module_files(package)
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "doctest: +SKIP" in line
    ]
    assert skipped == [], "docstring examples must run (tiny objects, no network): " + ", ".join(skipped)
    assert sum(1 for _ in with_examples()) >= 120  # the walk found the tree, not an empty folder
