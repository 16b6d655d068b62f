"""`pip install repo-sdk` is a light core: no torch, transformers, trl or peft (they come with the
`rm` extra), and rules plus a served judge work without them.

The subprocess tests make the GPU stack unimportable with a meta-path finder (as the GPU
check's rehearsal does, tests/test_gpu_check.py), so an import of torch anywhere on the
rules-and-judge path fails them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from repo_sdk.testing import FakeJudgeServer

ROOT = Path(__file__).resolve().parents[1]
REPO_SDK = Path(sys.executable).with_name("repo-sdk")
GPU_STACK = ("torch", "transformers", "trl", "peft", "accelerate", "triton", "bitsandbytes", "deepspeed", "vllm")
BLOCKED = ("torch", "transformers", "trl", "peft", "accelerate")

BLOCKER = """
import importlib.util, os, sys

BLOCKED = {name for name in os.environ.get("REPO_SDK_TEST_BLOCK", "").split(",") if name}


class Blocker:
    \"\"\"`import name` fails as if not installed; `name in sys.modules` stays False (libraries probe it).\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: the light core)", name=name)
        return None


_find_spec = importlib.util.find_spec


def find_spec(name, package=None):
    return None if name.partition(".")[0] in BLOCKED else _find_spec(name, package)


sys.meta_path.insert(0, Blocker())
importlib.util.find_spec = find_spec
"""


def _heavy(name: str) -> bool:
    name = canonicalize_name(name)
    return name in GPU_STACK or name.startswith("nvidia-")


def closure(requirements: list[str], extras: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every distribution the requirements pull in, walked through the installed metadata: name -> who asked."""
    env = default_environment()
    seen: dict[str, str] = {}
    todo = [(Requirement(r), "repo-sdk", extras) for r in requirements]
    while todo:
        req, parent, wanted = todo.pop()
        if req.marker is not None and not any(req.marker.evaluate({**env, "extra": e}) for e in wanted or {""}):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen[name] = parent
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{req.name} (required by {parent}) is not installed, so its dependencies cannot be walked")
        todo += [(Requirement(r), name, frozenset(req.extras)) for r in dist.requires or []]
    return seen


def core_requirements() -> list[str]:
    return [r for r in metadata.requires("repo-sdk") or [] if "extra ==" not in r]


def test_installed_metadata_is_this_checkout() -> None:
    tomllib = pytest.importorskip("tomllib")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(core_requirements()) == sorted(declared), "reinstall the core: its metadata is stale"


def test_the_core_pulls_in_no_gpu_stack() -> None:
    pulled = closure(core_requirements())
    assert {"pydantic", "pluggy", "httpx", "jinja2"} <= set(pulled)
    heavy = {name: parent for name, parent in pulled.items() if _heavy(name)}
    assert not heavy, f"pip install repo-sdk would install {heavy} (name: required by)"


def test_the_rm_extra_brings_torch_and_transformers() -> None:
    rm = [r for r in metadata.requires("repo-sdk") or [] if re.search(r"extra == .rm.", r)]
    assert {"torch", "transformers", "trl", "peft"} <= {canonicalize_name(Requirement(r).name) for r in rm}


@pytest.fixture
def light_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "blocker"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": str(site), "REPO_SDK_TEST_BLOCK": ",".join(BLOCKED)}
    env["REPO_SDK_CACHE_DIR"] = str(tmp_path / "cache")  # every judge call made here, none read from a cache
    env.pop("REPO_SDK_PLUGINS", None)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def test_no_core_module_imports_the_gpu_stack(light_env: dict[str, str], tmp_path: Path) -> None:
    code = (
        "import importlib, pkgutil, sys, repo_sdk\n"
        "import torch\n"  # the blocker is in place: this must fail
    )
    blocked = run([sys.executable, "-c", code], light_env, tmp_path)
    assert blocked.returncode != 0 and "blocked: the light core" in blocked.stderr
    code = (
        "import importlib, json, pkgutil, sys, repo_sdk\n"
        "names = [m.name for m in pkgutil.walk_packages(repo_sdk.__path__, 'repo_sdk.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "from repo_sdk.plugins import get_registry\n"
        "print(json.dumps({'modules': len(names), 'failed': get_registry().failed}))\n"
    )
    proc = run([sys.executable, "-c", code], light_env, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["modules"] > 60 and report["failed"] == {}


def test_rm_commands_say_what_to_install_in_one_line(light_env: dict[str, str], tmp_path: Path) -> None:
    rm = tmp_path / "rm"
    rm.mkdir()
    (rm / "config.json").write_text('{"num_labels": 1}')
    (tmp_path / "spec.yaml").write_text("sources:\n  rules: [cot_leak]\n  rm: {type: rm, path: rm}\n")
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": "d", "turns": [{"role": "assistant", "content": "Hi"}]}) + "\n")
    (tmp_path / "pairs.jsonl").write_text("")
    extra = "pip install 'repo-sdk[rm]'"
    validate = run([str(REPO_SDK), "validate", "spec.yaml"], light_env, tmp_path)
    assert validate.returncode == 0, validate.stderr  # validation loads nothing
    for args, line in [
        (
            ["score", "d.jsonl", "-c", "spec.yaml", "-o", "out.jsonl"],
            f"the rm source needs an optional dependency: {extra}",
        ),
        (["rm", "train", "pairs.jsonl", "-o", "trained"], f"rm train needs an optional dependency: {extra}"),
        (
            ["init", "project"],
            f"training the example RM needs an optional dependency: {extra} (or scaffold without an RM: --no-rm)",
        ),
    ]:
        proc = run([str(REPO_SDK), *args], light_env, tmp_path)
        assert (proc.returncode, proc.stderr.strip()) == (1, f"error: {line}")
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "project").exists()


@pytest.mark.slow
def test_rules_and_served_judges_score_without_the_gpu_stack(light_env: dict[str, str], tmp_path: Path) -> None:
    """The scaffold without an RM, scored by rules, the embedded judge and a judge behind an OpenAI API."""
    init = run([str(REPO_SDK), "init", "project", "--no-rm"], light_env, tmp_path)
    assert init.returncode == 0, init.stderr
    project = tmp_path / "project"
    dialogues = (project / "dialogues.jsonl").read_text().splitlines()[:1]
    (project / "one.jsonl").write_text("\n".join(dialogues) + "\n")
    turns = sum(t["role"] == "assistant" for line in dialogues for t in json.loads(line)["turns"])
    with FakeJudgeServer() as server:
        spec = (
            (project / "spec.yaml")
            .read_text()
            .replace(
                "combiner:",
                f"  api_judge: {{type: judge, template: judges/negotiation.j2, base_url: '{server.base_url}', "
                "model: fake}\ncombiner:",
                1,
            )
        )
        (project / "spec.yaml").write_text(spec)
        proc = run(
            [str(REPO_SDK), "score", "one.jsonl", "-c", "spec.yaml", "-o", "scored.jsonl"], light_env, project, 600
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert server.stats["requests"] >= turns
    rows = [json.loads(line) for line in (project / "scored.jsonl").read_text().splitlines()]
    assert len(rows) == turns
    for row in rows:
        values = row["sources"]
        assert set(values) == {"rules", "judge", "api_judge"}
        assert all(isinstance(values[name], (int, float)) for name in values), row
        assert isinstance(row["reward"], float)
