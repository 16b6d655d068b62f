"""Fixtures every core test may use: vLLM's vendored protocol, the README's quick start run once as written.

Property tests run without Hypothesis's per-example deadline (200 ms): on a loaded 2-core CI machine
one slow example would fail a test whose property holds. Each test's own time limit still applies.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("repo-sdk", deadline=None)
settings.load_profile("repo-sdk")

README = Path(__file__).resolve().parents[1] / "README.md"


def bash_blocks(after: str) -> list[str]:
    """The command lines of the first ```bash block after the heading ``after`` (comments stripped)."""
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    block = re.search(r"```bash\n(.*?)```", text[start:], re.DOTALL)
    assert block, f"no bash block after {after!r} in README.md"
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


class QuickStart:
    """Where the quick start ran, and each command with its exit code, output and seconds."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.runs: list[tuple[str, int, str, float]] = []


def run_line(line: str, cwd: Path, env: dict[str, str], timeout: float = 1500) -> subprocess.CompletedProcess[str]:
    """One README line, as a user's shell runs it (``repo-sdk`` from this interpreter's environment)."""
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


# The modules whose tests use ``quick_start`` (directly or through another fixture). Under ``make test``
# (pytest-xdist, ``-n 2 --dist loadgroup``) they are one unit of work, run by one worker: a session fixture is
# built once per worker that needs it, and this one takes minutes.
QUICK_START_MODULES = ("tests/test_e2e_scaffold.py", "tests/test_readme.py", "tests/test_scaffold_fidelity.py")


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown where it is not installed
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with QUICK_START_MODULES as one group, every other test on its own.

    The group is named here, not by ``xdist_group`` marks: pytest-xdist 3.8 writes a mark's group into the test's
    node id, which pytest 9.2 no longer lets it change, so marked tests are spread like the rest
    (pytest-dev/pytest-xdist#1386). The group is the largest unit, so a worker starts on it first.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class QuickStartGroup(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.split("::", 1)[0] in QUICK_START_MODULES:
                return "quick_start"
            return super()._split_scope(nodeid)

    return QuickStartGroup(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test outside QUICK_START_MODULES that needs the quick start would build it a second time under xdist."""
    needing = [item.nodeid for item in items if "quick_start" in getattr(item, "fixturenames", ())]
    strays = [nodeid for nodeid in needing if nodeid.split("::", 1)[0] not in QUICK_START_MODULES]
    if strays:
        raise pytest.UsageError(
            f"{strays} use quick_start: add their modules to QUICK_START_MODULES (tests/conftest.py)"
        )


@pytest.fixture(scope="session")
def quick_start(tmp_path_factory: pytest.TempPathFactory) -> QuickStart:
    """README's "Quick start" commands, verbatim, in an empty folder with a fresh judge cache."""
    cwd = tmp_path_factory.mktemp("readme")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["REPO_SDK_CACHE_DIR"] = str(cwd / ".cache")  # real judge calls, not another run's answers
    done = QuickStart(cwd, env)
    for line in bash_blocks("## Quick start"):
        started = time.monotonic()
        proc = run_line(line, cwd, env)
        done.runs.append((line, proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started))
        if proc.returncode:
            break
    return done


@pytest.fixture(scope="session")
def vllm_protocol() -> ModuleType:
    """vLLM's ``/classify`` request and response classes, vendored from its wheel (tests/vendor/vllm_protocol.py)."""
    name = "repo_sdk_tests_vllm_protocol"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "vendor" / "vllm_protocol.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pydantic resolves the postponed annotations through sys.modules
        spec.loader.exec_module(module)
    return sys.modules[name]
