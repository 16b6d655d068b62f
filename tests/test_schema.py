"""`repo-sdk schema`: the JSON Schema an editor checks specs with, rule parameters included."""

from __future__ import annotations

import json

import jinja2
import pytest
import yaml
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from repo_sdk.cli import app
from repo_sdk.config import load
from repo_sdk.errors import ConfigError
from repo_sdk.templates_builtin import templates_dir


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def scaffold_spec(negotiation: bool, rm: bool) -> dict:
    text = (templates_dir() / "init" / "spec.yaml.j2").read_text()
    return yaml.safe_load(jinja2.Template(text).render(negotiation=negotiation, rm=rm))


@pytest.mark.parametrize("negotiation", [True, False])
@pytest.mark.parametrize("rm", [True, False])
def test_the_scaffolds_specs_pass_the_schema(validator, negotiation, rm):
    spec = scaffold_spec(negotiation, rm)
    assert spec["sources"]["rules"]["rules"], "the scaffold lost its rules"
    assert not list(validator.iter_errors(spec))


GOOD = {"sources": {"guard": ["cot_leak", {"name": "max_length", "max_chars": 10, "points": -5}]}}
BAD_RULES = [
    ({"name": "max_length", "max_chars": "ten"}, "'ten' is not of type 'integer'"),
    ({"name": "max_length", "max_chars": 10, "colour": "red"}, "colour"),
    ({"name": "repetition", "points": "lots"}, "'lots' is not of type"),
    ("no_such_rule", "'no_such_rule' is not one of"),
]


def errors_of(validator, spec) -> str:
    """Every message, the ones nested under oneOf / anyOf included."""

    def walk(errors):
        for e in errors:
            yield e.message
            yield from walk(e.context or [])

    return " | ".join(walk(validator.iter_errors(spec)))


def test_rule_parameters_are_checked_like_validate_checks_them(validator):
    assert not list(validator.iter_errors(GOOD))
    load(GOOD)  # and the SDK agrees
    for rule, message in BAD_RULES:
        for spec in ({"sources": {"guard": [rule]}}, {"sources": {"guard": {"type": "rules", "rules": [rule]}}}):
            assert message in errors_of(validator, spec), (rule, spec)
            with pytest.raises(ConfigError):
                load(spec)  # what the schema rejects, `repo-sdk validate` rejects too
