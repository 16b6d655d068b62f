"""A corpus of bad inputs to validate / score / eval / serve, each held to the same bar.

Every case must: exit non-zero, print exactly one line (``error: ...``) naming the
file, line or key and the bad value, show no traceback, and leave the folder it ran
in exactly as it was (no output left behind, every input unchanged: the whole tree
is compared byte for byte).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repo_sdk.cli import app

SPEC = "sources:\n  rules: [cot_leak, {name: max_length, max_chars: 400}]\nbatch_size: 2\n"
TEMPLATE_HEAD = "{#- repo-sdk judge template\nkind: pointwise\nscale: [1, 5]\nvariables: [response, task]\n-#}\n"


def dialogue(i: int = 1, reply: str = "Hi! Could we talk about the twin room?", **task: Any) -> dict[str, Any]:
    return {
        "id": f"d{i}",
        "task": {"hotel": "Aurora", **task},
        "turns": [{"role": "user", "content": "Hello, Hotel Aurora."}, {"role": "assistant", "content": reply}],
    }


def jsonl(*records: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


@dataclass
class Case:
    """``build(folder, keep)`` writes the case's files and returns the command line (paths relative
    to the folder, where the command runs); ``expect``: fragments the error line must hold."""

    id: str
    build: Callable[[Path, list[Any]], list[str]]
    expect: tuple[str, ...]
    env: dict[str, str | None] = field(default_factory=dict)


def files(**contents: str | bytes) -> Callable[[Path], None]:
    def write(d: Path) -> None:
        for name, text in contents.items():
            p = d / name.replace("__", "/")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))

    return write


def case(id: str, args: list[str], expect: tuple[str, ...], env: dict[str, str | None] | None = None, **contents: Any):
    def build(d: Path, keep: list[Any]) -> list[str]:
        files(**contents)(d)
        return args

    return Case(id, build, expect, env or {})


def spec_case(id: str, spec: str, expect: tuple[str, ...], *, extra: list[str] | None = None, **contents: Any) -> Case:
    return case(
        id, ["validate", "spec.yaml", *(extra or [])], ("spec.yaml", *expect), **{"spec.yaml": spec}, **contents
    )


def score_case(
    id: str,
    logs: str | bytes,
    expect: tuple[str, ...],
    *,
    spec: str = SPEC,
    extra: list[str] | None = None,
    **more: Any,
) -> Case:
    args = ["score", "logs.jsonl", "-c", "spec.yaml", "-o", "out.jsonl", "--no-progress", *(extra or [])]
    return case(id, args, expect, **{"logs.jsonl": logs, "spec.yaml": spec}, **more)


def eval_case(
    id: str, run: str | bytes, expect: tuple[str, ...], name: str = "run.jsonl", extra: list[str] | None = None
):
    return case(id, ["eval", name, *(extra or [])], expect, **{name: run})


# -- validate -------------------------------------------------------------------------------------------
JUDGE = "sources:\n  r: [cot_leak]\n  j: {{type: judge, template: {t}}}\n"
VALIDATE = [
    case("validate-no-spec", ["validate", "nope.yaml"], ("nope.yaml", "no such spec file")),
    spec_case("validate-bad-yaml", "sources:\n  rules: [cot_leak\n", ("invalid YAML",)),
    spec_case(
        "validate-duplicate-key",
        "sources:\n  rules:\n    type: rules\n    rules: [max_length]\n    rules: [cot_leak]\n",
        ("spec.yaml:5", "sources.rules.rules", "duplicate key", "first at line 4"),
    ),
    spec_case(
        "validate-duplicate-source",
        "sources:\n  a: [cot_leak]\n  a: [max_length]\n",
        ("spec.yaml:3", "sources.a", "first at line 2"),
    ),
    spec_case(
        "validate-unknown-top-key", "sources:\n  r: [cot_leak]\nbogus:\n  x: 1\n", ("spec.yaml:3", "bogus: unknown key")
    ),
    spec_case("validate-unknown-rule", "sources:\n  r: [cot_leak, nope]\n", ("spec.yaml:2", "unknown rule 'nope'")),
    spec_case(
        "validate-rule-param-type",
        "sources:\n  r: [{name: max_length, max_chars: ten}]\n",
        ("spec.yaml:2", "max_chars", "'ten'"),
    ),
    spec_case(
        "validate-rule-name-as-key",
        "sources:\n  r:\n    - max_length: {max_chars: 500}\n",
        ("spec.yaml:3", "r.rules[0]", "write `{name: max_length, ...}`", "not `{max_length: {...}}`"),
    ),
    spec_case(
        "validate-source-without-type",
        "sources:\n  j:\n    template: {x: 1}\n",
        ("spec.yaml:2", "sources.j.type", "Field required"),
    ),
    spec_case(
        "validate-batch-size", "sources:\n  r: [cot_leak]\nbatch_size: 0\n", ("spec.yaml:3", "batch_size", "got 0")
    ),
    spec_case("validate-spec-not-mapping", "- cot_leak\n", ("must be a mapping, got list",)),
    spec_case("validate-spec-empty", "", ("must be a mapping, got NoneType",)),
    case(
        "validate-spec-binary",
        ["validate", "spec.yaml"],
        ("spec.yaml", "cannot read spec"),
        **{"spec.yaml": b"\x89PNG\r\n\x1a\n\xff\xfe"},
    ),
    spec_case(
        "validate-unknown-source-type", "sources:\n  x: {type: nope}\n", ("spec.yaml:2", "sources.x.type", "'nope'")
    ),
    spec_case("validate-template-missing", JUDGE.format(t="nope.j2"), ("spec.yaml:3", "sources.j.template", "nope.j2")),
    spec_case(
        "validate-template-syntax",
        JUDGE.format(t="t.j2"),
        ("t.j2:6", "template syntax error"),
        **{"t.j2": TEMPLATE_HEAD + "{% block user %}{{ response }{% endblock %}\n"},
    ),
    spec_case(
        "validate-template-sandbox",
        JUDGE.format(t="t.j2"),
        ("spec.yaml:3", "sandbox", "__class__"),
        **{"t.j2": TEMPLATE_HEAD + "{% block user %}{{ response.__class__.__mro__ }}{% endblock %}\n"},
    ),
    spec_case(
        "validate-template-undeclared",
        JUDGE.format(t="t.j2"),
        ("spec.yaml:3", "undeclared", "'reply'"),
        **{"t.j2": TEMPLATE_HEAD + "{% block user %}{{ reply }}{% endblock %}\n"},
    ),
    spec_case(
        "validate-template-no-header",
        JUDGE.format(t="t.j2"),
        ("spec.yaml:3", "YAML header"),
        **{"t.j2": "{{ response }}\n"},
    ),
    spec_case(
        "validate-template-renders-against-sample",
        JUDGE.format(t="t.j2"),
        ("spec.yaml:3", "sources.j.template", "no attribute 'room'", "sample d1#1"),
        extra=["--sample", "logs.jsonl"],
        **{
            "t.j2": TEMPLATE_HEAD + "{% block user %}{{ response }} {{ task.room.price }}{% endblock %}\n",
            "logs.jsonl": jsonl(dialogue()),
        },
    ),
    spec_case(
        "validate-template-unknown-param",
        "sources:\n  j: {type: judge, params: {tone: x}}\n",
        ("spec.yaml:2", "sources.j.params", "['tone']"),
    ),
    spec_case(
        "validate-judge-url-scheme",
        "sources:\n  j: {type: judge, base_url: 'ftp://judge', model: m}\n",
        ("spec.yaml:2", "'ftp://judge'"),
    ),
    spec_case(
        "validate-rm-folder-missing",
        "sources:\n  rm: {type: rm, path: models/rm}\n",
        ("spec.yaml:2", "sources.rm.path", "models/rm"),
    ),
    spec_case(
        "validate-rm-folder-no-config",
        "sources:\n  rm: {type: rm, path: rm}\n",
        ("spec.yaml:2", "sources.rm.path", "config.json"),
        **{"rm__weights.bin": b"\0"},
    ),
    spec_case(
        "validate-rm-not-one-label",
        "sources:\n  rm: {type: rm, path: rm}\n",
        ("spec.yaml:2", "3-label"),
        **{"rm__config.json": json.dumps({"num_labels": 3})},
    ),
    spec_case(
        "validate-rm-calibration-missing",
        "sources:\n  rm:\n    type: rm\n    path: rm\n    normalize: {file: rm/calibration.json}\n",
        ("spec.yaml:5", "sources.rm.normalize", "calibration.json"),
        **{"rm__config.json": json.dumps({"num_labels": 1})},
    ),
    spec_case(
        "validate-train-steps",
        "sources:\n  r: [cot_leak]\ntrain:\n  steps: 0\n",
        ("spec.yaml:4", "train.steps", "got 0"),
    ),
    spec_case(
        "validate-train-unknown-key",
        "sources:\n  r: [cot_leak]\ntrain:\n  stepz: 3\n",
        ("spec.yaml:4", "train.stepz: unknown key"),
    ),
    spec_case(
        "validate-train-batch-groups",
        "sources:\n  r: [cot_leak]\ntrain:\n  batch_size: 6\n  num_generations: 4\n",
        ("spec.yaml:4", "train.batch_size", "multiple of num_generations"),
    ),
    spec_case(
        "validate-train-dataset-missing",
        "sources:\n  r: [cot_leak]\ntrain:\n  dataset: prompts.jsonl\n",
        ("spec.yaml:4", "train.dataset", "prompts.jsonl"),
    ),
    spec_case(
        "validate-combiner-unknown-source",
        "sources:\n  r: [cot_leak]\ncombiner: {type: repo, judge: jj}\n",
        ("spec.yaml:3", "combiner.judge", "'jj'"),
    ),
    spec_case(
        "validate-weights-unknown-source",
        "sources:\n  r: [cot_leak]\ncombiner: {type: weighted_sum, weights: {x: 1}}\n",
        ("spec.yaml:3", "combiner", "['x']"),
    ),
    spec_case(
        "validate-gate-rule-not-in-spec",
        "sources:\n  r: [cot_leak]\ncombiner: {type: gate, rules: [max_length]}\n",
        ("spec.yaml:3", "combiner.rules[0]", "'max_length'"),
    ),
    spec_case(
        "validate-env-key-unset",
        "sources:\n  j: {type: judge, base_url: 'http://h/v1', model: m, api_key_env: REPO_TEST_NO_KEY}\n",
        ("spec.yaml:2", "sources.j.api_key_env", "'REPO_TEST_NO_KEY'"),
    ),
]

LAUGHS = "".join(
    f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n" for i in range(9)
)
VALIDATE += [
    spec_case(
        "validate-billion-laughs",
        f"x:\n{LAUGHS}sources:\n  r: [cot_leak]\ntrain:\n  trl: {{x: *a8}}\n",
        ("spec.yaml", "expands to more than 100000 values"),
    ),
    spec_case(
        "validate-yaml-nested-too-deeply",
        "sources:\n  r: [cot_leak]\ntrain:\n  trl: " + "[" * 50_000 + "]" * 50_000 + "\n",
        ("spec.yaml", "nested too deeply"),
    ),
]

# -- score ----------------------------------------------------------------------------------------------
GOOD = jsonl(dialogue(1), dialogue(2))
NEGOTIATION = "sources:\n  rules: [negotiation.price_consistency, cot_leak]\nbatch_size: 2\n"
SCORE = [
    case(
        "score-no-logs",
        ["score", "nope.jsonl", "-c", "spec.yaml", "-o", "out.jsonl"],
        ("nope.jsonl", "no such file"),
        **{"spec.yaml": SPEC},
    ),
    case(
        "score-no-spec",
        ["score", "logs.jsonl", "-c", "nope.yaml", "-o", "out.jsonl"],
        ("nope.yaml", "no such spec"),
        **{"logs.jsonl": GOOD},
    ),
    score_case("score-empty-input", "", ("logs.jsonl", "no records", "empty")),
    score_case("score-blank-lines-only", "\n  \n\n", ("logs.jsonl", "no records")),
    score_case(
        "score-nothing-readable-with-skip",
        "{bad\n[1]\n",
        ("logs.jsonl", "none of its 2 records", "logs.jsonl:1: malformed JSON"),
        extra=["--on-error", "skip"],
    ),
    score_case(
        "score-malformed-json", jsonl(dialogue(1), "{not json", dialogue(3)), ("logs.jsonl:2", "malformed JSON")
    ),
    score_case(
        "score-deep-json",
        '{"id": "x", "turns": [], "task": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
        ("logs.jsonl:1", "nested too deeply"),
    ),
    score_case("score-invalid-utf8", b'{"id": "\xff\xfe", "turns": []}\n', ("logs.jsonl:1", "invalid UTF-8")),
    score_case("score-binary-file", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ("logs.jsonl:1", "invalid UTF-8")),
    score_case(
        "score-unknown-role",
        jsonl({"id": "r", "turns": [{"role": "bot", "content": "x"}]}),
        ("logs.jsonl:1", "turns[0].role", "'bot'"),
    ),
    score_case(
        "score-content-not-string",
        jsonl({"id": "c", "turns": [{"role": "user", "content": 5}]}),
        ("logs.jsonl:1", "turns[0].content", "got 5"),
    ),
    score_case(
        "score-turns-not-list", jsonl({"id": "t", "turns": "hello"}), ("logs.jsonl:1", "'turns' must be a list")
    ),
    score_case("score-record-is-array", jsonl([1, 2]), ("logs.jsonl:1", "expected a JSON object, got list")),
    score_case("score-missing-id", jsonl({"turns": []}), ("logs.jsonl:1", "missing field 'id'")),
    score_case("score-truncated-line", GOOD + '{"id": "cut", "turns": [{"role": "us', ("logs.jsonl:3", "truncated")),
    score_case(
        "score-bad-price-in-task",
        jsonl(dialogue(1, current_price=120, target_price=95), dialogue(2, current_price="120 EUR", target_price=95)),
        ("logs.jsonl:2", "turns[1]", "current_price", "'120 EUR'"),
        spec=NEGOTIATION,
    ),
    score_case(  # json reads NaN; a NaN target would make every price comparison false, every check pass
        "score-nan-price-in-task",
        jsonl(dialogue(1, current_price=120, target_price=95), dialogue(2, current_price=120, target_price=math.nan)),
        ("logs.jsonl:2", "turns[1]", "target_price", "finite number", "nan"),
        spec=NEGOTIATION,
    ),
    score_case("score-output-is-input", GOOD, ("-o logs.jsonl is the input logs.jsonl",), extra=["-o", "logs.jsonl"]),
    score_case("score-output-is-input-by-relative-path", GOOD, ("is the input",), extra=["-o", "sub/../logs.jsonl"]),
    score_case("score-output-is-spec", GOOD, ("-o spec.yaml is the input spec.yaml",), extra=["-o", "spec.yaml"]),
    score_case("score-output-is-folder", GOOD, ("-o sub", "is a folder"), extra=["-o", "sub"], **{"sub__x": "x"}),
    score_case("score-output-under-a-file", GOOD, ("logs.jsonl is a file",), extra=["-o", "logs.jsonl/out.jsonl"]),
    score_case("score-report-is-input", GOOD, ("--report logs.jsonl is the input",), extra=["--report", "logs.jsonl"]),
    score_case("score-on-error-value", GOOD, ("--on-error", "'ignore'"), extra=["--on-error", "ignore"]),
    score_case("score-batch-size-zero", GOOD, ("--batch-size", "got '0'"), extra=["--batch-size", "0"]),
    score_case("score-max-none-rate-range", GOOD, ("--max-none-rate", "got 2.0"), extra=["--max-none-rate", "2"]),
    score_case("score-only-unknown-source", GOOD, ("--only", "['judge']"), extra=["--only", "judge"]),
    score_case("score-unknown-option", GOOD, ("--bogus",), extra=["--bogus"]),
    score_case(
        "score-judge-unreachable",
        GOOD,
        ("judge 'j'", "http://127.0.0.1:9/v1", "unreachable"),
        spec="sources:\n  r: [cot_leak]\n  j: {type: judge, base_url: 'http://127.0.0.1:9/v1', model: m}\n",
    ),
    case(
        "score-parquet-garbage",
        ["score", "logs.parquet", "-c", "spec.yaml", "-o", "out.jsonl"],
        ("logs.parquet", "not a readable Parquet file"),
        **{"logs.parquet": b"PAR1 not parquet", "spec.yaml": SPEC},
    ),
]


def _output_symlink(d: Path, keep: list[Any]) -> list[str]:
    files(**{"logs.jsonl": GOOD, "spec.yaml": SPEC})(d)
    (d / "link.jsonl").symlink_to(d / "logs.jsonl")
    return ["score", "logs.jsonl", "-c", "spec.yaml", "-o", "link.jsonl"]


def _output_hardlink(d: Path, keep: list[Any]) -> list[str]:
    files(**{"logs.jsonl": GOOD, "spec.yaml": SPEC})(d)
    os.link(d / "logs.jsonl", d / "hard.jsonl")
    return ["score", "logs.jsonl", "-c", "spec.yaml", "-o", "hard.jsonl"]


def _resume_after_change(change: str) -> Callable[[Path, list[Any]], list[str]]:
    """A run that failed at record 8 (its journal kept), then the input or the spec changed."""

    def build(d: Path, keep: list[Any]) -> list[str]:
        records = [dialogue(i) for i in range(10)]
        records[7] = {"id": "bad", "turns": [{"role": "user", "content": None}]}
        files(**{"logs.jsonl": jsonl(*records), "spec.yaml": SPEC})(d)
        first = CliRunner().invoke(app, ["score", "logs.jsonl", "-c", "spec.yaml", "-o", "out.jsonl", "--no-progress"])
        assert first.exit_code == 1 and "--resume" in first.output, first.output
        if change == "input":
            records[0] = dialogue(0, reply="A different first reply.")
            (d / "logs.jsonl").write_text(jsonl(*records))
        else:
            (d / "spec.yaml").write_text(SPEC.replace("400", "300"))
        return ["score", "logs.jsonl", "-c", "spec.yaml", "-o", "out.jsonl", "--resume", "--no-progress"]

    return build


SCORE += [
    Case("score-output-is-input-by-symlink", _output_symlink, ("-o link.jsonl is the input logs.jsonl",)),
    Case("score-output-is-input-by-hard-link", _output_hardlink, ("-o hard.jsonl is the input logs.jsonl",)),
    Case("score-resume-after-input-changed", _resume_after_change("input"), ("logs.jsonl", "records 1-", "changed")),
    Case("score-resume-after-spec-changed", _resume_after_change("spec"), ("out.jsonl.partial", "another spec")),
]

# -- eval -----------------------------------------------------------------------------------------------
TURN = {
    "kind": "turn",
    "dialogue_id": "d1",
    "turn_index": 1,
    "sample_id": "d1#1",
    "response": "Could we talk about the twin room?",
    "reward": 0.5,
    "sources": {"judge": 4.0},
    "fired": [],
    "reasons": {},
    "details": {},
    "combiner": {},
}
EVAL = [
    case("eval-no-file", ["eval", "nope.jsonl"], ("nope.jsonl", "no such file")),
    eval_case("eval-binary-file", b"\x89PNG\r\n\x1a\n\xff\xd8" * 10, ("run.jsonl:1", "not UTF-8")),
    eval_case(
        "eval-parquet-garbage",
        b"PAR1 this is not parquet",
        ("run.parquet", "not a readable Parquet"),
        name="run.parquet",
    ),
    eval_case("eval-logs-not-rows", GOOD, ("run.jsonl", "not a row of `repo-sdk score`")),
    eval_case("eval-empty", "", ("run.jsonl", "no turn rows")),
    eval_case("eval-malformed-row", jsonl(TURN, TURN, "{oops"), ("run.jsonl:3", "malformed JSON")),
    eval_case(
        "eval-row-unknown-key",
        jsonl(TURN, {**TURN, "turn_index": 3, "reward": None} | {"x": 1}),
        ("run.jsonl:2", "unknown key 'x'"),
    ),
    eval_case(
        "eval-row-bad-value",
        jsonl(TURN, {**TURN, "turn_index": 3, "sources": {"judge": "4"}}),
        ("run.jsonl:2", "turn row: sources.judge", "valid number", "(got '4')"),
    ),
    eval_case(
        "eval-row-bad-hit",
        jsonl({**TURN, "fired": [{"rule": "cot_leak", "points": -10}]}),
        ("run.jsonl:1", "turn row lacks 'fired[0].reason'"),
    ),
    eval_case("eval-deep-row", "[" * 100_000 + "]" * 100_000 + "\n", ("run.jsonl:1", "nested too deeply")),
    eval_case(
        "eval-json-out-is-input",
        jsonl(TURN),
        ("--json run.jsonl is the input run.jsonl",),
        extra=["--json", "run.jsonl"],
    ),
    eval_case(
        "eval-report-is-input", jsonl(TURN), ("--report run.jsonl is the input",), extra=["--report", "run.jsonl"]
    ),
    case("eval-run-is-folder", ["eval", "runs"], ("runs", "is a folder"), **{"runs__a.txt": "x"}),
]


# -- serve ----------------------------------------------------------------------------------------------
def _port_in_use(d: Path, keep: list[Any]) -> list[str]:
    files(**{"spec.yaml": SPEC})(d)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    keep.append(sock)
    port = sock.getsockname()[1]
    return ["serve", "spec.yaml", "--tokenizer", "plain", "--port", str(port)]


def serve_case(id: str, extra: list[str], expect: tuple[str, ...], env: dict[str, str | None] | None = None) -> Case:
    return case(id, ["serve", "spec.yaml", "--tokenizer", "plain", *extra], expect, env, **{"spec.yaml": SPEC})


SERVE = [
    Case("serve-port-in-use", _port_in_use, ("--port", "in use")),
    serve_case(
        "serve-unknown-host",
        ["--host", "no-such-host.invalid", "--token", "t"],
        ("'no-such-host.invalid'", "unknown host"),
    ),
    serve_case(
        "serve-open-host-without-token", ["--host", "0.0.0.0"], ("--host 0.0.0.0", "without a token", "--insecure")
    ),
    serve_case("serve-port-range", ["--port", "70000"], ("--port", "got '70000'")),
    serve_case("serve-empty-token", ["--token", " "], ("--token is empty",)),
    serve_case("serve-time-budget-range", ["--max-request-seconds", "0"], ("--max-request-seconds", "got '0'")),
    case(
        "serve-bad-spec",
        ["serve", "spec.yaml", "--tokenizer", "plain"],
        ("spec.yaml:2", "'nope'"),
        **{"spec.yaml": "sources:\n  r: [nope]\n"},
    ),
]

OTHERS = [
    case(
        "rm-train-output-holds-the-pairs",
        ["rm", "train", "data/pairs.jsonl", "-o", "data", "--overwrite"],
        ("-o data holds the input data/pairs.jsonl",),
        **{"data__pairs.jsonl": '{"chosen": "a", "rejected": "b"}\n'},
    ),
    case(
        "rm-train-output-is-the-pairs",
        ["rm", "train", "pairs.jsonl", "-o", "pairs.jsonl"],
        ("-o pairs.jsonl: is a file",),
        **{"pairs.jsonl": '{"chosen": "a", "rejected": "b"}\n'},
    ),
    case(
        "openrlhf-export-over-the-spec",
        ["openrlhf", "export", "spec.yaml", "-o", "spec.yaml"],
        ("-o spec.yaml is the input spec.yaml",),
        **{"spec.yaml": SPEC},
    ),
]

CASES = VALIDATE + SCORE + EVAL + SERVE + OTHERS


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) and a digest of its bytes (or its link target)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        if p.is_symlink():
            out[key] = "-> " + os.readlink(p)
        elif p.is_file():
            out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[key] = "dir"
    return out


def test_the_corpus_covers_every_command() -> None:
    commands = {c.id.split("-")[0] for c in CASES}
    assert len(CASES) >= 40 and {"validate", "score", "eval", "serve"} <= commands
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_with_one_line(
    bad: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    if bad.id.startswith("serve"):
        pytest.importorskip("repo_sdk_openrlhf")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPO_SDK_DEBUG", raising=False)
    monkeypatch.delenv("REPO_TEST_NO_KEY", raising=False)
    keep: list[Any] = []
    args = bad.build(tmp_path, keep)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, args)
    for sock in keep:
        sock.close()
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Traceback" not in capfd.readouterr().err
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in bad.expect:
        assert fragment in lines[0], (fragment, lines[0])
    after = snapshot(tmp_path)
    if "--resume" in lines[0] and ".out.jsonl.partial" not in before:  # the records before the bad one were
        # scored: their journal is kept for --resume, and the line says so
        assert after.pop(".out.jsonl.partial", None) and "records 1-" in lines[0]
    assert after == before  # nothing written, nothing changed


def test_the_real_console_script_prints_one_line_too(tmp_path: Path) -> None:
    """The same bar through the installed entry point, in a fresh process."""
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "logs.jsonl").write_text(jsonl(dialogue(1), "{not json"))
    cli = str(Path(sys.executable).with_name("repo-sdk"))
    env = {k: v for k, v in os.environ.items() if k != "REPO_SDK_DEBUG"}
    for args, fragment in [
        (["score", "logs.jsonl", "-c", "spec.yaml", "-o", "out.jsonl", "--no-progress"], "logs.jsonl:2: malformed"),
        (["serve", "spec.yaml", "--port", "99999"], "got '99999'"),
    ]:
        proc = subprocess.run([cli, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode != 0 and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and fragment in proc.stderr, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs.jsonl", "spec.yaml"]
