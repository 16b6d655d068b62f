"""Plugin discovery: entry points, broken plugins, the allow-list, pip-installed plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zlib
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


def test_register_plugin_says_why_a_clashing_plugin_failed() -> None:
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
    assert get_registry().rules["cot_leak"].package == "repo-sdk"


CLASH = """
from repo_sdk import RewardSource, Rule, SourceScore, hookimpl

class MyCot(Rule):
    name = "cot_leak"                      # a built-in's name
    def check(self, sample):
        return []

class Mine(RewardSource):
    name = "probe.mine"                    # fine on its own, but the plugin fails as a whole
    def score(self, samples):
        return [SourceScore(value=1.0) for _ in samples]

@hookimpl
def register_rules(register):
    register(MyCot)

@hookimpl
def register_sources(register):
    register(Mine)
"""

MISSPELT = """
from repo_sdk import Rule, hookimpl

class Quiet(Rule):
    name = "probe.quiet"
    def check(self, sample):
        return []

@hookimpl
def register_rule(register):               # singular: no such hook
    register(Quiet)
"""


def test_a_name_clash_fails_the_later_plugin_whole_and_everything_else_loads(site: Path) -> None:
    make_dist(site, "probe-good", "probe_good_mod", GOOD)
    make_dist(site, "probe-clash", "probe_clash_mod", CLASH)
    reg = build_registry()
    why = reg.failed["probe-clash"]
    assert "rule 'cot_leak' is registered by both repo-sdk (repo_sdk.rules) and probe-clash" in why
    assert "the later plugin, probe-clash, was not loaded" in why
    assert reg.rules["cot_leak"].package == "repo-sdk"
    assert "probe.mine" not in reg.sources  # nothing of a failed plugin is registered
    assert reg.rules["probe.no_please"].package == "probe-good"


def test_two_third_party_plugins_clashing_name_both_packages(site: Path) -> None:
    make_dist(site, "probe-good", "probe_good_mod", GOOD)
    make_dist(
        site, "probe-copy", "probe_copy_mod", GOOD.replace("class Polite", "class Copy").replace("(Polite)", "(Copy)")
    )
    reg = build_registry()
    assert "probe-copy" in reg.failed or "probe-good" in reg.failed
    [(loser, why)] = reg.failed.items()
    assert "probe-good" in why and "probe-copy" in why and f"the later plugin, {loser}, was not loaded" in why
    assert "probe.no_please" in reg.rules


def test_a_misspelt_hook_fails_its_plugin_with_a_suggestion(site: Path) -> None:
    make_dist(site, "probe-good", "probe_good_mod", GOOD)
    make_dist(site, "probe-misspelt", "probe_misspelt_mod", MISSPELT)
    reg = build_registry()
    why = reg.failed["probe-misspelt"]
    assert why.startswith("probe-misspelt: unknown hook 'register_rule' (did you mean 'register_rules'?)")
    assert "probe.quiet" not in reg.rules and "probe.no_please" in reg.rules


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("def register_rules(register):\n    pass\n", "no hook found: decorate register_sources"),
        (
            "from repo_sdk import hookimpl\n@hookimpl\ndef register_rules(register):\n    register(object())\n",
            "register_rules: <object object at",
        ),
        (
            "from repo_sdk import hookimpl, Rule\nclass R(Rule):\n    def check(self, s): return []\n"
            "@hookimpl\ndef register_rules(register):\n    register(R)\n",
            "register_rules: R has no `name`",
        ),
        (
            "from repo_sdk import hookimpl, RewardSource\nclass S(RewardSource):\n    name = 'probe.s'\n"
            "    kind = 'reward_model'\n    def score(self, samples): return []\n"
            "@hookimpl\ndef register_sources(register):\n    register(S)\n",
            "source 'probe.s': kind 'reward_model' is not one of rm, judge, rules, other",
        ),
        (
            "from repo_sdk import hookimpl\n@hookimpl\ndef register_rules(register):\n    raise RuntimeError('oops')\n",
            "register_rules raised RuntimeError: oops",
        ),
        (
            "from repo_sdk import hookimpl\n@hookimpl\ndef register_rules(reg):\n    pass\n",
            "PluginValidationError",
        ),
        (
            "from repo_sdk import hookimpl, Rule\nclass A(Rule):\n    name = 'probe.a'\n"
            "    def check(self, s): return []\nclass B(A):\n    pass\n"
            "@hookimpl\ndef register_rules(register):\n    register(A)\n    register(B)\n",
            "probe-junk: it registers two different rules named 'probe.a'",
        ),
    ],
    ids=["no-hookimpl", "not-a-class", "no-name", "bad-kind", "hook-raises", "bad-signature", "twice"],
)
def test_a_plugin_that_registers_junk_is_listed_as_failed(site: Path, body: str, reason: str) -> None:
    make_dist(site, "probe-junk", f"probe_junk_{zlib.crc32(body.encode())}", body)  # a module name per case
    make_dist(site, "probe-good", "probe_good_mod", GOOD)
    reg = build_registry()
    assert reason in reg.failed["probe-junk"]
    assert "probe.no_please" in reg.rules and "cot_leak" in reg.rules


def test_plugins_command_lists_failed_plugins_and_every_command_still_works(tmp_path: Path) -> None:
    site = tmp_path / "site"
    make_dist(site, "probe-clash", "probe_clash_mod", CLASH)
    make_dist(site, "probe-misspelt", "probe_misspelt_mod", MISSPELT)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop(ALLOW_ENV, None)
    repo_sdk = Path(sys.executable).with_name("repo-sdk")
    listing = subprocess.run([str(repo_sdk), "plugins"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    text = " ".join(listing.stdout.split())
    assert "failed to load plugin probe-clash: probe-clash: rule 'cot_leak' is registered by both" in text
    assert "failed to load plugin probe-misspelt: probe-misspelt: unknown hook 'register_rule'" in text
    failed = {f["plugin"]: f["error"] for f in json.loads(
        subprocess.run([str(repo_sdk), "plugins", "--json"], capture_output=True, text=True, env=env).stdout
    )["failed"]}  # fmt: skip
    assert set(failed) == {"probe-clash", "probe-misspelt"}
    (tmp_path / "spec.yaml").write_text("sources:\n  rules: [cot_leak]\n")
    check = subprocess.run(
        [str(repo_sdk), "validate", str(tmp_path / "spec.yaml")], capture_output=True, text=True, env=env
    )
    assert check.returncode == 0, check.stderr
    (tmp_path / "bad.yaml").write_text("sources:\n  rules: [probe.quiet]\n")
    bad = subprocess.run(
        [str(repo_sdk), "validate", str(tmp_path / "bad.yaml")], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 1
    assert (
        "unknown rule 'probe.quiet'" in bad.stderr
        and "2 plugin(s) failed to load, see `repo-sdk plugins`" in bad.stderr
    )


def test_register_plugin_takes_a_plugin_that_is_also_installed(site: Path) -> None:
    make_dist(site, "probe-good", "probe_good_mod", GOOD)
    import probe_good_mod  # the installed module itself, as a plugin's own tests import it

    try:
        with register_plugin(probe_good_mod) as reg:
            assert reg.rules["probe.no_please"].package == "probe-good"
            assert not reg.failed
    finally:
        sys.modules.pop("probe_good_mod", None)


def test_install_plugin_module_creates_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "not" / "there" / "yet"
    install_plugin_module(site, "probe-deep", "probe_deep_mod", GOOD)
    monkeypatch.syspath_prepend(str(site))
    assert build_registry().rules["probe.no_please"].package == "probe-deep"


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
