"""docs/plugins.md suffices: its example package, built from the page's code blocks alone, installs,
passes its own tests and scores through the CLI; its contract and helper signatures are the code's.

A code block whose first line is ``# <folder>/<path>`` is a file of the example; the test writes
each one there, pip-installs ``acme-rewards`` into a folder of its own (offline, no dependencies)
and runs everything in subprocesses with that folder on ``PYTHONPATH``, as a user would.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import repo_sdk
import repo_sdk.testing

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "plugins.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
LABEL = re.compile(r"^# ([\w.-]+(?:/[\w.-]+)+)$")
BIN = Path(sys.executable).parent


def blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def files() -> dict[str, str]:
    out = {}
    for _, body in blocks():
        if m := LABEL.match(body.splitlines()[0]):
            assert m.group(1) not in out, f"docs/plugins.md gives {m.group(1)} twice"
            out[m.group(1)] = body
    return out


def stubs(first_line: str) -> ast.Module:
    [body] = [b for lang, b in blocks() if lang == "python" and b.startswith(first_line)]
    return ast.parse(body)


def test_the_example_is_complete() -> None:
    assert set(files()) == {
        "acme-rewards/pyproject.toml",
        "acme-rewards/acme_rewards/__init__.py",
        "acme-rewards/acme_rewards/rules.py",
        "acme-rewards/acme_rewards/sources.py",
        "acme-rewards/acme_rewards/combiners.py",
        "acme-rewards/acme_rewards/plugin.py",
        "acme-rewards/tests/test_acme.py",
        "my-project/spec.yaml",
        "my-project/lexicon.txt",
    }


@pytest.mark.parametrize("cls", [repo_sdk.RewardSource, repo_sdk.Combiner, repo_sdk.Rule])
def test_the_contract_is_the_code(cls: type) -> None:
    [stub] = [n for n in stubs(f"class {cls.__name__}:").body if isinstance(n, ast.ClassDef)]
    for node in stub.body:
        if isinstance(node, ast.AnnAssign):
            name = node.target.id  # type: ignore[attr-defined]
            assert hasattr(cls, name) or name in getattr(cls, "__annotations__", {}), f"{cls.__name__}.{name}"
            if node.value is not None:
                assert _same(getattr(cls, name), node.value), f"{cls.__name__}.{name}'s default"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            raw = inspect.getattr_static(cls, node.name)
            real = inspect.signature(raw.__func__ if isinstance(raw, classmethod) else raw)  # self / cls included
            documented = [a.arg for a in [*node.args.args, *node.args.kwonlyargs]]
            assert documented == [p for p in real.parameters], f"{cls.__name__}.{node.name}"


def _same(value: object, node: ast.expr) -> bool:
    """Whether the documented default (a literal, a class name, or a call without arguments) is ``value``."""
    if isinstance(node, ast.Name):
        return getattr(value, "__name__", None) == node.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
        return type(value).__name__ == node.func.id and value == type(value)()
    return value == ast.literal_eval(node)


def test_the_helpers_signatures_are_the_code() -> None:
    documented = {n.name: n for n in stubs("def make_sample(").body if isinstance(n, ast.FunctionDef)}
    assert set(documented) == {"make_sample", "make_dialogue", "register_plugin", "install_plugin_module", "echo_rm"}
    for name, node in documented.items():
        real = inspect.signature(getattr(repo_sdk.testing, name))
        args = [*node.args.args, *node.args.kwonlyargs]
        assert [a.arg for a in args] == list(real.parameters), name
        defaults = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        real_defaults = [p.default for p in real.parameters.values() if p.default is not inspect.Parameter.empty]
        assert [ast.literal_eval(d) for d in defaults] == real_defaults, name
        kinds = [p.kind for p in real.parameters.values()]
        assert kinds.count(inspect.Parameter.KEYWORD_ONLY) == len(node.args.kwonlyargs), name


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The example written from the page and pip-installed into a folder of its own."""
    root = tmp_path_factory.mktemp("docs-plugin")
    for rel, body in files().items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body, encoding="utf-8")
    site = root / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    pip += ["--no-build-isolation", "--no-index", "--target", str(site), str(root / "acme-rewards")]
    proc = subprocess.run(pip, capture_output=True, text=True, timeout=300, env={**os.environ, "PIP_NO_INPUT": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(site), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["REPO_SDK_CACHE_DIR"] = str(root / "cache")
    env.pop("REPO_SDK_PLUGINS", None)
    return root, env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_the_installed_plugin_is_listed_with_its_package(installed: tuple[Path, dict[str, str]]) -> None:
    root, env = installed
    proc = run([str(BIN / "repo-sdk"), "plugins", "--json"], env, root)
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    assert listing["failed"] == []
    for kind, name in [("rules", "acme.shouting"), ("sources", "acme.lexicon"), ("combiners", "acme.clipped_sum")]:
        [entry] = [e for e in listing[kind] if e["name"] == name]
        assert (entry["package"], entry["version"]) == ("acme-rewards", "0.1.0")


def test_the_plugins_own_tests_pass_with_it_installed(installed: tuple[Path, dict[str, str]]) -> None:
    root, env = installed
    tests = root / "acme-rewards" / "tests"
    proc = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)], env, tests)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 passed" in proc.stdout


SHOUT = "NO WAY. THAT IS TOO MUCH. Thank you."


def test_the_pages_commands_score_with_rule_source_and_combiner(installed: tuple[Path, dict[str, str]]) -> None:
    root, env = installed
    project = root / "my-project"
    replies = [
        SHOUT,  # the page's worked number
        "",  # no lexicon value: left out
        "PLEASE LOWER IT NOW. " * 3 + "idiots",  # three shouts, max_hits 2; a listed negative word
        "<think>they will accept</think>We appreciate it, thank you, please confirm.",
        "please " * 200_000,  # 1.4 MB: read up to max_chars, scored once
    ]
    with (project / "dialogues.jsonl").open("w") as f:
        for i, reply in enumerate(replies):
            turns = [{"role": "user", "content": "Our rate is 120 EUR."}, {"role": "assistant", "content": reply}]
            f.write(json.dumps({"id": f"d{i}", "task": {"target_price": 95}, "turns": turns}) + "\n")
    [commands] = [b for lang, b in blocks() if lang == "bash" and b.startswith("cd my-project")]
    proc = subprocess.run(
        ["bash", "-e", "-c", commands], capture_output=True, text=True, env=env, cwd=root, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in (project / "scored.jsonl").read_text().splitlines()]
    by_reply = {r["response"][:40]: r for r in rows}
    page = by_reply[SHOUT[:40]]
    assert (page["sources"], page["reward"], page["combiner"]) == (
        {"rules": -20.0, "lexicon": 0.4},
        pytest.approx(0.2),
        {"raw": pytest.approx(0.2)},
    )
    assert [h["evidence"] for h in page["fired"]] == ["THAT IS TOO MUCH"]
    empty = by_reply[""]
    assert empty["sources"]["lexicon"] is None and empty["combiner"]["missing"] == ["lexicon"]
    loud = next(r for r in rows if r["response"].startswith("PLEASE"))
    assert [h["rule"] for h in loud["fired"]] == ["acme.shouting"] * 2  # capped by max_hits
    assert loud["sources"] == {"rules": -40.0, "lexicon": pytest.approx(0.3 - 2)}
    assert loud["reward"] == -1.0  # clipped at low
    cot = next(r for r in rows if r["response"].startswith("<think>"))
    assert {h["rule"] for h in cot["fired"]} == {"cot_leak"} and cot["sources"]["lexicon"] == pytest.approx(1.0)
    long = next(r for r in rows if len(r["response"]) > 1_000_000)
    assert long["sources"]["lexicon"] == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("lexicon.txt", "thank 0.4", "thank lots"), "lexicon.txt:3: expected 'word weight' (got 'thank lots')"),
        (("lexicon.txt", "thank 0.4", "thank nan"), "lexicon.txt:3: expected 'word weight' (got 'thank nan')"),
        (("spec.yaml", "lexicon: 1.0", "lexicn: 1.0"), "'lexicn' is not a source (sources: ['lexicon', 'rules'])"),
        (("spec.yaml", "low: -1", "low: 2"), "spec.yaml:8: combiner: low (2) must be below high (1)"),
        (("spec.yaml", "min_words: 3", "min_word: 3"), "spec.yaml:6: sources.rules.rules[1].min_word: unknown key"),
        (("spec.yaml", "file: lexicon.txt", "file: nowhere.txt"), "nowhere.txt: cannot read the word list (No such"),
    ],
    ids=["bad-weight", "nan-weight", "unknown-weight", "empty-range", "misspelt-param", "no-file"],
)
def test_mistakes_in_a_spec_of_the_plugin_are_one_line(
    installed: tuple[Path, dict[str, str]], tmp_path: Path, edit: tuple[str, str, str], message: str
) -> None:
    root, env = installed
    for name in ("spec.yaml", "lexicon.txt"):
        (tmp_path / name).write_text((root / "my-project" / name).read_text())
    name, old, new = edit
    assert old in (tmp_path / name).read_text()
    (tmp_path / name).write_text((tmp_path / name).read_text().replace(old, new))
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": "d", "turns": [{"role": "assistant", "content": "hi"}]}))
    proc = run([str(BIN / "repo-sdk"), "score", "d.jsonl", "-c", "spec.yaml", "-o", "out.jsonl"], env, tmp_path)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
