"""The typed plugin layer: Configurable[Config], PluginRef short forms, SpecError's located problems.

And a house rule kept by a test: no module of repo_sdk imports another's private names.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

import repo_sdk
from repo_sdk import (
    Combined,
    Combiner,
    ConfigError,
    RewardPipeline,
    RewardSource,
    Rule,
    SpecError,
    hookimpl,
    load_spec,
    validate_config,
    validate_plugin,
)
from repo_sdk.config import CombinerSpec, SourceSpec, load
from repo_sdk.plugin_config import NoConfig, PluginRef
from repo_sdk.plugins import get_registry
from repo_sdk.sources.rules_source import RuleRef, validate_rule
from repo_sdk.testing import make_sample, register_plugin

ROOT = Path(repo_sdk.__file__).parent


class WordsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    word: str = "no"
    limit: int = Field(3, ge=1)


class Words(Rule[WordsConfig]):
    name: ClassVar[str] = "t.words"

    def check(self, sample: Any) -> list[Any]:
        found = sample.response.lower().split().count(self.config.word)
        return [self.hit(f"{self.config.word!r} x{found}")] if found >= self.config.limit else []


def test_the_type_argument_is_the_config_and_reaches_the_instance() -> None:
    assert Words.Config is WordsConfig and Words.Params is WordsConfig  # the older name reads the same model
    rule = Words(WordsConfig(word="hm", limit=2))
    assert rule.config.word == "hm" and rule.params is rule.config
    assert Words().config == WordsConfig()  # default: Config()
    assert len(rule.check(make_sample(response="hm hm ok"))) == 1


def test_the_older_spellings_still_declare_the_config() -> None:
    class OldRule(Rule):
        name = "t.old"
        Params = WordsConfig

        def check(self, sample: Any) -> list[Any]:
            return []

    class OldSource(RewardSource):
        name = "t.old_source"
        Config = WordsConfig

        def score(self, samples: Any) -> list[Any]:
            return []

    assert OldRule.Config is WordsConfig and OldRule().params.limit == 3
    assert OldSource.Config is WordsConfig and OldSource().config.word == "no"


def test_a_config_that_is_no_model_fails_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match="Config must be a pydantic model class"):

        class Bad(RewardSource):
            name = "t.bad"
            Config = dict  # type: ignore[assignment]

    with pytest.raises(TypeError, match="Config NoConfig is not its type argument WordsConfig"):

        class Clash(Combiner[WordsConfig]):
            name = "t.clash"
            Config = NoConfig

    with pytest.raises(TypeError, match="takes a WordsConfig"):
        Words(NoConfig())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "value", "expected"),
    [
        (SourceSpec, "judge", ("judge", {})),
        (SourceSpec, ["cot_leak", {"name": "max_length"}], ("rules", {"rules": ["cot_leak", {"name": "max_length"}]})),
        (SourceSpec, {"type": "rm", "path": "m"}, ("rm", {"path": "m"})),
        (CombinerSpec, "min", ("min", {})),
        (CombinerSpec, {"n": 50}, ("repo", {"n": 50})),
        (RuleRef, "cot_leak", ("cot_leak", {})),
        (RuleRef, {"name": "max_length", "points": -5, "max_chars": 9}, ("max_length", {"max_chars": 9})),
    ],
)
def test_one_reference_model_reads_every_short_form(model: type[PluginRef], value: Any, expected: tuple) -> None:
    ref = model.model_validate(value)
    assert isinstance(ref, PluginRef)
    assert (ref.plugin, ref.params) == expected


def test_a_list_is_no_short_form_of_a_combiner_or_a_rule() -> None:
    for model in (CombinerSpec, RuleRef):
        with pytest.raises(ValueError):
            model.model_validate(["cot_leak"])


# a combiner of a third party nesting the gate, which nests a combiner and names rules of a rules source
class NestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inner: CombinerSpec = Field(default_factory=CombinerSpec)

    @field_validator("inner")
    @classmethod
    def _inner(cls, inner: CombinerSpec, info: ValidationInfo) -> CombinerSpec:
        if registry := (info.context or {}).get("registry"):
            validate_plugin("combiners", inner, registry)
        return inner


class Nest(Combiner[NestConfig]):
    name: ClassVar[str] = "t.nest"

    def combine(self, samples: Any, scores: Any) -> list[Combined]:
        return [Combined(None) for _ in samples]


class NestPlugin:
    @hookimpl
    def register_combiners(self, register: Any) -> None:
        register(Nest)

    @hookimpl
    def register_rules(self, register: Any) -> None:
        register(Words)


def test_problems_deep_inside_nested_plugins_keep_their_whole_key_path(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "sources:\n"
        "  r:\n"
        "    - cot_leak\n"
        "    - {name: t.words, limit: 0}\n"  # line 4
        "    - {name: max_length, max_chars: -1, bogus: 2}\n"  # line 5
        "    - nosuch\n"  # line 6
        "combiner:\n"
        "  type: t.nest\n"
        "  inner:\n"
        "    type: gate\n"
        "    rules: [cot_leak]\n"
        "    inner: {type: repo, n: 0, zz: 1}\n"  # line 12
    )
    with register_plugin(NestPlugin()), pytest.raises(SpecError) as info:
        load_spec(spec)
    err = info.value
    assert sorted(err.problems) == sorted(
        [
            (
                ("sources", "r", "rules", 1, "limit"),
                "Input should be greater than or equal to 1 (got 0) (rule t.words)",
            ),
            (
                ("sources", "r", "rules", 2, "max_chars"),
                "Input should be greater than or equal to 1 (got -1) (rule max_length)",
            ),
            (("sources", "r", "rules", 2, "bogus"), "unknown key (rule max_length)"),
            (("sources", "r", "rules", 3, "name"), err.problems[3][1]),
            (("combiner", "inner", "inner", "n"), "Input should be greater than 0 (got 0)"),
            (("combiner", "inner", "inner", "zz"), "unknown key"),
        ]
    )
    assert err.problems[3][1].startswith("unknown rule 'nosuch'")
    lines = {line.split(": ")[1]: line.split(": ")[0] for line in err.all_errors}
    assert lines["sources.r.rules[1].limit"] == f"{spec}:4"
    assert lines["sources.r.rules[2].bogus"] == f"{spec}:5"
    assert lines["sources.r.rules[3].name"] == f"{spec}:6"
    assert lines["combiner.inner.inner.n"] == f"{spec}:12"
    assert isinstance(err, ConfigError) and "\n" not in str(err)
    assert str(err).startswith(err.all_errors[0]) and "(and 5 more error(s); run `repo-sdk validate`)" in str(err)


def test_validate_plugin_and_validate_config_locate_at_the_given_key() -> None:
    registry = get_registry()
    cls, config = validate_plugin("sources", SourceSpec.model_validate(["cot_leak"]), registry, ("sources", "x"))
    assert cls.__name__ == "RulesSource" and [r.name for r in config.rules] == ["cot_leak"]  # type: ignore[attr-defined]
    with pytest.raises(SpecError) as info:
        validate_plugin("sources", SourceSpec.model_validate(["cot_leak", "zap"]), registry, ("sources", "x"))
    assert info.value.problems[0][0] == ("sources", "x", "rules", 1, "name")
    with pytest.raises(SpecError) as info:
        validate_plugin("sources", SourceSpec(type="nosuch"), registry, ("sources", "y"))
    assert info.value.problems[0][0] == ("sources", "y", "type")
    with pytest.raises(SpecError) as info:
        validate_config(WordsConfig, {"limit": "many", "wrd": "x"}, loc=("a", 0))
    assert info.value.problems == [
        (("a", 0, "limit"), "Input should be a valid integer, unable to parse string as an integer (got 'many')"),
        (("a", 0, "wrd"), "unknown key"),
    ]


def test_a_rule_reference_is_validated_with_its_name_in_the_message() -> None:
    with pytest.raises(SpecError) as info:
        validate_rule({"name": "max_length", "points": "lots"}, loc=(2,))
    assert info.value.problems == [
        ((2, "points"), "Input should be a valid number, unable to parse string as a number (got 'lots')")
    ]
    cls, config, ref = validate_rule({"name": "max_length", "max_hits": 2, "max_chars": 5})
    assert (cls.__name__, config.max_chars, config.max_hits, ref.points) == ("MaxLength", 5, 2, None)  # type: ignore[attr-defined]


def test_bind_problems_are_located_at_the_combiners_key_also_inside_a_gate(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        RewardPipeline.from_spec({"sources": {"r": ["cot_leak"]}, "combiner": {"type": "repo", "judge": ["jj"]}})
    assert info.value.problems == [(("combiner", "judge"), "'jj' is not a source (sources: ['r'])")]
    gated = {"type": "gate", "rules": ["cot_leak"], "inner": {"type": "min", "sources": ["ghost"]}}
    with pytest.raises(SpecError) as info:
        RewardPipeline.from_spec({"sources": {"r": ["cot_leak"]}, "combiner": gated})
    assert info.value.problems[0][0] == ("combiner", "inner", "sources")
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  r: [cot_leak]\ncombiner:\n  type: gate\n  rules: [cot_leak]\n  inner:\n    type: min\n"
                    "    sources: [ghost]\n")  # fmt: skip
    from repo_sdk.spec_check import check_spec

    [finding] = check_spec(load_spec(spec))
    assert finding.text() == f"{spec}:8: combiner.inner.sources: unknown source(s) ['ghost'] (sources: ['r'])"


class FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str


class FromFile(RewardSource[FileConfig]):
    name: ClassVar[str] = "t.from_file"
    kind = "rm"

    @classmethod
    def from_config(cls, config: FileConfig, context: Any) -> FromFile:
        if not context.resolve(config.file).is_file():
            raise SpecError(("file",), f"no such file (got {config.file!r})")
        return cls(config)

    def score(self, samples: Any) -> list[Any]:
        return []


class FilePlugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(FromFile)


def test_a_problem_found_while_building_names_the_file_line_and_key(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("sources:\n  r: [cot_leak]\n  lex:\n    type: t.from_file\n    file: words.txt\n")
    with register_plugin(FilePlugin()), pytest.raises(SpecError) as info:
        RewardPipeline.from_spec(spec)
    assert str(info.value) == f"{spec}:5: sources.lex.file: no such file (got 'words.txt')"
    (tmp_path / "words.txt").write_text("x\n")
    with register_plugin(FilePlugin()), RewardPipeline.from_spec(spec) as pipe:
        assert isinstance(pipe.sources["lex"], FromFile) and pipe.sources["lex"].config.file == "words.txt"


def test_a_spec_error_pickles_with_its_lines() -> None:
    err = SpecError.collect([(("a",), "x"), (("b", 1), "y")], lambda loc: "spec.yaml:3")
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.all_errors, back.problems) == (str(err), err.all_errors, err.problems)
    assert load({"sources": {"r": ["cot_leak"]}}).spec.sources["r"].type == "rules"


def _private_imports(path: Path) -> list[str]:
    """``from repo_sdk.x import _name`` and ``module._name`` on a repo_sdk module imported by name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT.parent) if path.is_relative_to(ROOT.parent) else path
    modules: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("repo_sdk")):
            package = ROOT.parent.joinpath(*(node.module or "").split("."))
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{where}:{node.lineno}: imports {alias.name}")
                if (package / f"{alias.name}.py").is_file() or (package / alias.name).is_dir():
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("repo_sdk") and alias.asname:
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{where}:{node.lineno}: reads {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    found = [line for path in sorted(ROOT.rglob("*.py")) for line in _private_imports(path)]
    assert found == []


def test_the_private_import_check_catches_both_forms(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from repo_sdk.config import _load\nfrom repo_sdk import plugins\nplugins._extra\n")
    found = _private_imports(probe)
    assert [line.split(": ", 1)[1] for line in found] == ["imports _load", "reads plugins._extra"]
