"""The GPU check, rehearsed on the CPU: its dry run, and the wheels it carries to a machine with no network.

The dry run goes through ``benchmarks/gpu_check.sh`` as the GPU machine runs it (less
the installs), with every installed distribution that the GPU machine would not have
made unimportable, so a new import that the carried wheels do not cover fails here.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(ROOT))
wheels = importlib.import_module("benchmarks._gpu_wheels")
gpu_check = importlib.import_module("benchmarks.gpu_check")

BLOCKER = """
import importlib.util, os, sys

BLOCKED = {name for name in os.environ.get("GPU_CHECK_BLOCK", "").split(",") if name}


class Blocker:
    \"\"\"`import name` fails as if not installed; `name in sys.modules` stays False (libraries probe it).\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not on the GPU machine)", name=name)
        return None


_find_spec = importlib.util.find_spec


def find_spec(name, package=None):
    if name.partition(".")[0] in BLOCKED:
        return None  # as if not installed
    return _find_spec(name, package)


sys.meta_path.insert(0, Blocker())
importlib.util.find_spec = find_spec
"""


def allowed_distributions() -> set[str]:
    """What the GPU machine has after gpu_check.sh's installs, as names of distributions installed here.

    The locked pins and the project, the machine's own packages with whatever they need here, and, for a
    pinned package installed here at another version, what that version needs here (huggingface-hub 2
    here needs httpx2 where the pinned 1.x needs httpx): those are this venv's business, not the lock's.
    """
    pins = wheels.locked()
    here = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}
    allowed = set(pins) | set(wheels.PROJECT) | {"pip"}
    todo = [n for n in (*wheels.NOT_CARRIED, *wheels.DEVICE_HAS) if n in here]
    todo += [n for n, version in pins.items() if n in here and here[n].version != version]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        allowed.add(name)
        for req in map(Requirement, here[name].requires or []):
            dep = canonicalize_name(req.name)
            applies = req.marker is None or req.marker.evaluate({"extra": ""})
            if applies and dep in here and not (dep in pins and here[dep].version == pins[dep]):
                todo.append(dep)
    return allowed


def blocked_modules() -> list[str]:
    allowed = allowed_distributions()
    return sorted(
        module
        for module, dists in metadata.packages_distributions().items()
        if not module.startswith("__editable__") and not any(canonicalize_name(d) in allowed for d in dists)
    )


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gpu-check")
    (tmp / "site").mkdir()
    (tmp / "site" / "sitecustomize.py").write_text(BLOCKER)
    blocked = blocked_modules()
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "OUT": str(tmp / "out"),
        "TMPDIR": str(tmp),
        "PYTHONPATH": str(tmp / "site"),
        "GPU_CHECK_BLOCK": ",".join(blocked),
    }
    proc = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh", "--no-install", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=480,
    )
    return proc, tmp / "out", blocked


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


@pytest.mark.slow
def test_dry_run_reports_every_figure_with_sane_values(dry_run):
    proc, out, _ = dry_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "gpu_check.json").read_text())
    assert summary["mode"] == "dry-run" and summary["errors"] == {}
    assert summary["shape"] == gpu_check.TINY and summary["environment"]["trl"]

    rm = summary["rm"]
    assert set(rm["median_s"]) == {"rm source", "rm core", "bare loop", "TRL GRPO path"}
    assert all(_positive(t) for t in [*rm["median_s"].values(), *rm["cpu_s"].values(), *rm["ratios"].values()])
    assert rm["samples"] == 12 and 16 <= rm["tokens"]["min"] <= rm["tokens"]["max"] <= 64
    assert rm["max_abs_diff_vs_trl"] < 1e-3 and rm["dtype"] == "float32"  # every path scores alike
    assert rm["padded_tokens"]["micro_batches"] <= rm["padded_tokens"]["trl"]
    keys = ("hidden", "layers", "heads", "kv_heads", "vocab")
    assert {k: rm["model"][k] for k in keys} == {k: gpu_check.TINY[k] for k in keys}

    grpo = summary["grpo"]
    for figure in ("step_ms", "reward_phase_ms", "reward_fn_ms"):
        assert set(grpo[figure]) == {"repo", "separate"} and all(map(_positive, grpo[figure].values()))
    assert all(map(_positive, grpo["ratios"].values())) and len(grpo["pair_ratios"]) == grpo["repeats"] == 1
    assert grpo["ratios"]["step"] == pytest.approx(grpo["step_ms"]["repo"] / grpo["step_ms"]["separate"])
    assert grpo["policy"]["vocab"] == 1024 and grpo["policy"]["kv_heads"] == 2

    # the printed summary carries the same figures, as Markdown rows to paste into docs/benchmarks.md
    printed = proc.stdout.split("=== GPU check summary ===")[1]
    assert f"**{rm['ratios']['source_vs_trl']:.3f}x**" in printed
    assert f"**{grpo['ratios']['step']:.3f}x**" in printed
    assert "| REPO callable (1 function) |" in printed and "(tiny)" in printed
    assert printed in (out / "gpu_check.log").read_text()


@pytest.mark.slow
def test_the_dry_run_needs_nothing_the_gpu_machine_lacks(dry_run):
    proc, _, blocked = dry_run
    # what the GPU machine has no wheel for was unimportable in the run: pytest, and the plugins not installed there
    assert {"pytest", "repo_sdk_example", "repo_sdk_openrlhf"} <= set(blocked)
    assert not {"trl", "datasets", "pydantic", "yaml", "torch", "transformers", "repo_sdk_trl"} & set(blocked)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_every_requirement_of_the_installed_project_is_carried_or_on_the_machine():
    pins = wheels.locked()
    on_machine = set(wheels.NOT_CARRIED) | set(wheels.DEVICE_HAS)
    for req in wheels.project_requirements():
        name = canonicalize_name(req.name)
        assert name in pins or name in on_machine, (
            f"{req} is required by the project but not in benchmarks/gpu_wheels.txt: "
            "run `bash benchmarks/gpu_wheels.sh lock`"
        )
        if name in pins:
            assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} does not meet {req}"
    script = (ROOT / "benchmarks" / "gpu_check.sh").read_text()
    assert all(f"-e {folder}" in script for folder in wheels.PROJECT.values())


def test_the_lock_carries_nothing_the_machine_has_or_cuda():
    pins = wheels.locked()
    assert {"trl", "datasets", "pydantic", "pydantic-core", "pyyaml", "httpx", "setuptools"} <= set(pins)
    assert not set(pins) & set(wheels.NOT_CARRIED)
    assert not [n for n in pins if n.startswith(("nvidia-", "cuda-", "triton"))]


def test_stub_wheel_has_the_metadata_pip_resolves_against(tmp_path):
    version = wheels._stub_wheel(tmp_path, "torch", "2.11.0", ["sympy>=1.13.3", 'setuptools; python_version >= "3.12"'])
    (whl,) = tmp_path.glob("*.whl")
    assert version == "2.11.0+device" and whl.name == "torch-2.11.0+device-py3-none-any.whl"
    with zipfile.ZipFile(whl) as z:
        dist = metadata.PathDistribution(zipfile.Path(z, "torch-2.11.0+device.dist-info/"))
        assert dist.version == "2.11.0+device"
        assert dist.requires == ["sympy>=1.13.3", 'setuptools; python_version >= "3.12"']
