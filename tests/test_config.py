"""Reward spec validation: short forms, and errors that name file, line, key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_sdk import ConfigError, load_spec
from repo_sdk.config import parse_spec


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spec.yaml"
    p.write_text(text)
    return p


def test_short_forms() -> None:
    spec = parse_spec({"sources": {"rules": ["cot_leak", {"name": "max_length", "max_chars": 9}]}, "combiner": "min"})
    assert spec.sources["rules"].type == "rules"
    assert spec.sources["rules"].params["rules"][1] == {"name": "max_length", "max_chars": 9}
    assert spec.combiner.type == "min"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources:\n  rules: [cot_leak]\nbogus: 1\n", "spec.yaml:3: bogus: unknown key"),
        ("sources:\n  rules: [cot_leak, nope]\n", "spec.yaml:2: sources.rules.rules[1].name: unknown rule 'nope'"),
        (
            "sources:\n  rules:\n    - cot_leak\n    - name: max_length\n      max_chars: -3\n",
            "spec.yaml:5: sources.rules.rules[1].max_chars: Input should be greater than or equal to 1 (got -3)",
        ),
        (
            "sources:\n  rules:\n    - name: max_length\n      maxchars: 3\n",
            "spec.yaml:4: sources.rules.rules[0].maxchars: unknown key",
        ),
        ("sources:\n  x: {type: nosuch}\n", "spec.yaml:2: sources.x.type: unknown source 'nosuch'"),
        (
            "sources:\n  rules: [cot_leak]\ncombiner: {type: repo, n: -1}\n",
            "spec.yaml:3: combiner.n: Input should be greater than 0 (got -1)",
        ),
        ("sources:\n  rules: [cot_leak]\ncombiner: {type: repo, zzz: 1}\n", "spec.yaml:3: combiner.zzz: unknown key"),
        ("sources:\n  rules: [cot_leak]\ncombiner: wat\n", "spec.yaml:3: combiner.type: unknown combiner 'wat'"),
        ("sources: {}\n", "spec.yaml:1: sources: Dictionary should have at least 1 item"),
        ("sources:\n  rules: [cot_leak\n", "invalid YAML"),
        ("- just\n- a list\n", "the spec must be a mapping"),
        (
            "sources:\n  rules: [cot_leak]\ncombiner: {type: gate, rules: [cot_leak], inner: {type: repo, n: 0}}\n",
            "spec.yaml:3: combiner.inner.n: Input should be greater than 0 (got 0)",
        ),
        ("name: 'bad name'\nsources:\n  rules: [cot_leak]\n", "spec.yaml:1: name: String should match pattern"),
    ],
)
def test_errors_name_file_line_key_and_value(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_spec(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    assert expected.replace("spec.yaml", str(tmp_path / "spec.yaml")) in message


def test_all_errors_are_collected(tmp_path: Path) -> None:
    text = "sources:\n  rules: [nope]\n  x: {type: nosuch}\ncombiner: {type: repo, n: 0}\n"
    with pytest.raises(ConfigError) as info:
        load_spec(write(tmp_path, text))
    assert len(info.value.all_errors) == 3  # type: ignore[attr-defined]
    assert "(and 2 more error(s)" in str(info.value)


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such spec file"):
        load_spec(tmp_path / "absent.yaml")


def test_relative_paths_resolve_against_spec_dir(tmp_path: Path) -> None:
    loaded = load_spec(write(tmp_path, "sources:\n  rules: [cot_leak]\n"))
    assert loaded.base_dir == tmp_path.resolve()
