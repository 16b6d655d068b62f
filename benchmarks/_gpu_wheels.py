"""The wheels the GPU check carries to a machine that has torch and transformers but no network.

Run here, where the package registry is reachable: ``bash benchmarks/gpu_wheels.sh [lock|fetch]``.

- ``lock`` resolves what the GPU side installs (the runtime requirements in the
  pyproject.toml of repo-sdk, repo-sdk-trl and repo-sdk-negotiation, and setuptools
  to install them) for CPython 3.12 on manylinux x86_64, next to the machine's own
  torch 2.11 and transformers 5.17, and writes the pins to ``benchmarks/gpu_wheels.txt``.
  torch stands in as a metadata-only wheel with torch's own requirements less the
  CUDA ones, so nothing of CUDA is resolved or fetched; pip reads metadata only.
- ``fetch`` (the default) downloads those pins into ``.gpu-wheels/`` (git-ignored),
  checks that they fit under :data:`MAX_MIB` and prints the carry list.

What is not carried is on the machine already and too large to carry (torch,
transformers and their large dependencies, pyarrow); see :data:`NOT_CARRIED`.
The pins include packages the machine may have too (peft, accelerate, rich, ...):
installing the lock makes the machine's set the one resolved here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from repo_sdk.io.atomic import atomic_dir, atomic_write

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "benchmarks" / "gpu_wheels.txt"
WHEELS = ROOT / ".gpu-wheels"
MAX_MIB = 60
TARGET_PYTHON = "3.12"
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
DEVICE_PINS = {"torch": "2.11.0", "transformers": "5.17.0"}
# What the GPU machine is known to have: its torch, transformers and these.
DEVICE_HAS = ("torch", "transformers", "peft", "accelerate", "pyarrow", "aiohttp", "jinja2", "pluggy", "typer", "rich")
# There with torch and transformers (their compiled or large dependencies) or said to be there, and too large.
NOT_CARRIED = ("torch", "sympy", "mpmath", "networkx", "transformers", "numpy", "tokenizers", "safetensors", "pyarrow")
PROJECT = {"repo-sdk": ".", "repo-sdk-trl": "adapters/trl", "repo-sdk-negotiation": "plugins/repo-sdk-negotiation"}
BUILD = ("setuptools>=69",)
_CUDA_PREFIXES = ("nvidia-", "cuda-", "triton")


def project_requirements() -> list[Requirement]:
    """The runtime requirements of the project packages the GPU side installs, less each other."""
    out = []
    for folder in PROJECT.values():
        meta = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]
        out += [r for r in map(Requirement, meta.get("dependencies", [])) if canonicalize_name(r.name) not in PROJECT]
    return out


def locked() -> dict[str, str]:
    """``{canonical name: version}`` from :data:`LOCK`."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _pip_target(python_version: str) -> list[str]:
    abi = "cp" + python_version.replace(".", "")
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    return [
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--abi",
        abi,
        *platforms,
    ]


def _resolve(requirements: list[str], work: Path, *extra: str) -> list[dict]:
    """pip's resolution for the target (metadata only): the report's ``install`` entries."""
    report = work / f"report-{len(list(work.glob('report-*')))}.json"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--report",
        str(report),
    ]
    cmd += [*_pip_target(TARGET_PYTHON), "--target", str(work / "target"), *extra, *requirements]
    subprocess.run(cmd, check=True)
    return json.loads(report.read_text())["install"]


def _stub_wheel(folder: Path, name: str, version: str, requires: list[str]) -> str:
    """A wheel of ``name`` with metadata and no files; its version gets a local label so pip picks it."""
    version = f"{version}+device"
    info = f"{name}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{info}/METADATA", meta)
        whl.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: repo-sdk\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        whl.writestr(f"{info}/RECORD", f"{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")
    return version


def lock() -> dict[str, str]:
    """Resolve the GPU side's packages for the target and write :data:`LOCK`; returns the pins."""
    with tempfile.TemporaryDirectory(prefix="gpu-lock-") as tmp:
        work = Path(tmp)
        (torch,) = _resolve([f"torch=={DEVICE_PINS['torch']}"], work, "--no-deps")
        requires = [
            r
            for r in torch["metadata"].get("requires_dist", [])
            if not canonicalize_name(Requirement(r).name).startswith(_CUDA_PREFIXES)
        ]
        stubs = work / "stubs"
        stubs.mkdir()
        torch_version = _stub_wheel(stubs, "torch", DEVICE_PINS["torch"], requires)
        roots = [str(r) for r in project_requirements() if canonicalize_name(r.name) not in DEVICE_PINS]
        roots += [*BUILD, f"torch=={torch_version}", f"transformers=={DEVICE_PINS['transformers']}"]
        installs = _resolve(roots, work, "--find-links", str(stubs))
    pins = {
        canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"]
        for i in installs
        if canonicalize_name(i["metadata"]["name"]) not in NOT_CARRIED
    }
    with atomic_write(LOCK) as fh:
        fh.write(
            "# The wheels benchmarks/gpu_check.sh installs on the GPU machine (CPython 3.12, manylinux x86_64),\n"
            f"# resolved beside its torch {DEVICE_PINS['torch']} and transformers {DEVICE_PINS['transformers']}.\n"
            "# Generated by `bash benchmarks/gpu_wheels.sh lock`; do not edit.\n"
        )
        fh.writelines(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    return pins


def fetch(python_version: str = TARGET_PYTHON) -> int:
    """Download the locked wheels into :data:`WHEELS`; returns their total size in bytes."""

    def download(folder: Path) -> None:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--progress-bar", "off"]
        subprocess.run([*cmd, *_pip_target(python_version), "-d", str(folder), "-r", str(LOCK)], check=True)

    atomic_dir(WHEELS, download)
    wheels = sorted(WHEELS.glob("*.whl"))
    if len(wheels) != len(locked()):
        raise SystemExit(f"error: {WHEELS} holds {len(wheels)} wheels for {len(locked())} pins in {LOCK.name}")
    return sum(w.stat().st_size for w in wheels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/gpu_wheels.sh", description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["lock", "fetch"], default="fetch")
    parser.add_argument(
        "--python-version", default=TARGET_PYTHON, help="fetch the wheels for another CPython (a rehearsal here)"
    )
    args = parser.parse_args(argv)
    if args.action == "lock":
        pins = lock()
        print(f"{LOCK.relative_to(ROOT)}: {len(pins)} pins")
        return 0
    size = fetch(args.python_version)
    mib = size / 2**20
    print(f"{WHEELS.name}/: {len(locked())} wheels, {mib:.1f} MiB (limit {MAX_MIB} MiB)")
    if mib > MAX_MIB:
        print(f"error: the wheels are over {MAX_MIB} MiB: the device tool carries 64 MiB in all", file=sys.stderr)
        return 1
    print(f"carry: {json.dumps([WHEELS.name])}")
    print("command: bash benchmarks/gpu_check.sh --require-gpu   (time limit 600 s; docs/benchmarks.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
