"""Plugin discovery: entry points, broken plugins, the allow-list, pip-installed plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from repo_sdk import PluginError, RewardPipeline, Rule, hookimpl
from repo_sdk.plugins import ALLOW_ENV, build_registry, get_registry, reset_registry
from repo_sdk.testing import install_plugin_module, make_sample, register_plugin

ROOT = Path(__file__).resolve().parents[1]


def make_dist(site: Path, dist: str, module: str, source: str) -> None:
    install_plugin_module(site, dist, module, source, version="0.3")


GOOD = """
from repo_sdk import Rule, hookimpl

class Polite(Rule):
    name = "probe.no_please"
    def check(self, sample):
        i = sample.response.find("please")
        return [self.hit("said please", span=(i, i + 6), evidence="please")] if i >= 0 else []

@hookimpl
def register_rules(register):
    register(Polite)
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    reset_registry()
    yield tmp_path
    reset_registry()


def test_builtins_are_registered_like_plugins() -> None:
    reg = get_registry()
    assert {"repo", "weighted_sum", "gate", "normalize_then_sum", "min"} <= set(reg.combiners)
    assert reg.sources["rules"].package == "repo-sdk"
    assert {"cot_leak", "max_length"} <= set(reg.rules)


def test_entry_point_plugin_is_discovered(site: Path) -> None:
    make_dist(site, "probe-good", "probe_good_mod", GOOD)
    reg = build_registry()
    entry = reg.rules["probe.no_please"]
    assert (entry.package, entry.version, entry.plugin) == ("probe-good", "0.3", "probe-good")


def test_broken_plugin_is_reported_and_others_load(site: Path) -> None:
    make_dist(site, "probe-good", "probe_good_mod", GOOD)
    make_dist(site, "probe-broken", "probe_broken_mod", "import not_a_real_module_xyz\n")
    reg = build_registry()
    assert "probe.no_please" in reg.rules
    assert "probe-broken" in reg.failed
    assert "ModuleNotFoundError" in reg.failed["probe-broken"]


def test_allow_list_restricts_third_party_plugins(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_dist(site, "probe-good", "probe_good_mod", GOOD)
    monkeypatch.setenv(ALLOW_ENV, "something-else")
    reg = build_registry()
    assert "probe.no_please" not in reg.rules
    assert "cot_leak" in reg.rules  # built-ins always load
    monkeypatch.setenv(ALLOW_ENV, "probe-good")
    assert "probe.no_please" in build_registry().rules


def test_name_clash_names_both_packages() -> None:
    class Clash(Rule):
        name = "cot_leak"

        def check(self, sample):
            return []

    class Plugin:
        @hookimpl
        def register_rules(self, register):
            register(Clash)

    with pytest.raises(PluginError, match=r"rule 'cot_leak' is registered by both repo-sdk .* and clash"):
        with register_plugin(Plugin(), name="clash"):
            pass


def test_register_plugin_context_manager_scopes_the_plugin() -> None:
    class Loud(Rule):
        name = "test.loud"

        def check(self, sample):
            return [self.hit("loud")] if "!" in sample.response else []

    class Plugin:
        @hookimpl
        def register_rules(self, register):
            register(Loud)

    with register_plugin(Plugin()):
        with RewardPipeline.from_spec({"sources": {"rules": ["test.loud"]}}) as pipe:
            assert pipe.score([make_sample(response="Deal!")])[0].fired[0].rule == "test.loud"
    assert "test.loud" not in get_registry().rules


def test_pip_installed_plugin_fires_in_score(tmp_path: Path) -> None:
    """Build a plugin package, pip-install it, and see its rule fire in `repo-sdk score`."""
    pkg = tmp_path / "pkg"
    (pkg / "shipped_rule").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "repo-sdk-shipped"
        version = "1.2.3"
        [project.entry-points.repo_sdk]
        shipped = "shipped_rule.plugin"
        [tool.setuptools]
        packages = ["shipped_rule"]
    """)
    )
    (pkg / "shipped_rule" / "__init__.py").write_text("")
    (pkg / "shipped_rule" / "plugin.py").write_text(GOOD)
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(pkg),
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "logs.jsonl").write_text(
        json.dumps(
            {
                "id": "d1",
                "task": {},
                "turns": [
                    {"role": "user", "content": "Hello"},
                    {"role": "assistant", "content": "Could you please check the price?"},
                ],
            }
        )
        + "\n"
    )
    (tmp_path / "spec.yaml").write_text("sources:\n  rules: [probe.no_please]\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop(ALLOW_ENV, None)
    repo_sdk = Path(sys.executable).with_name("repo-sdk")
    run = subprocess.run(
        [
            str(repo_sdk),
            "score",
            str(tmp_path / "logs.jsonl"),
            "-c",
            str(tmp_path / "spec.yaml"),
            "-o",
            str(tmp_path / "out.jsonl"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    row = json.loads((tmp_path / "out.jsonl").read_text())
    assert [h["rule"] for h in row["fired"]] == ["probe.no_please"]
    listing = subprocess.run([str(repo_sdk), "plugins", "--json"], capture_output=True, text=True, env=env)
    rules = {r["name"]: r for r in json.loads(listing.stdout)["rules"]}
    assert rules["probe.no_please"]["package"] == "repo-sdk-shipped"
    assert rules["probe.no_please"]["version"] == "1.2.3"
