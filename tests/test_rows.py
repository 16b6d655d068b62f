"""The typed rows (repo_sdk/rows.py): what `score` writes is exactly the documented contract, reads back
typed from JSONL and Parquet, a bad row read back names file, line, key and value, and the dialogue-level
scores come from the pipeline's batched async step with the rows of a dialogue scored on its own."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repo_sdk import RewardPipeline
from repo_sdk.cli import app
from repo_sdk.errors import InputError
from repo_sdk.interfaces import RewardSource
from repo_sdk.io.readers import read_dialogues
from repo_sdk.io.rows import dialogue_path, read_rows, write_rows
from repo_sdk.rows import DialogueRow, SkippedRow, TurnRow, row_problem
from repo_sdk.scoring import ascore_dialogue_batch, score_dialogue_batch, score_dialogues
from repo_sdk.testing import make_dialogue
from repo_sdk.types import Dialogue, Sample, SourceScore

_spec = importlib.util.spec_from_file_location("chitchat_logs", Path(__file__).with_name("chitchat_logs.py"))
chitchat: Any = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(chitchat)  # type: ignore[union-attr]

runner = CliRunner()
negotiation = pytest.importorskip("repo_sdk_negotiation.examples")
RULES = [
    "cot_leak",
    "repetition",
    {"name": "max_length", "max_chars": 600},
    "negotiation.price_consistency",
    "negotiation.repeated_script",
    "negotiation.tickets_closed",
    "negotiation.stage_order",
]
SPEC = {"sources": {"rules": RULES}, "batch_size": 16}


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The negotiation plugin's example dialogues (dialogue rules fire on them) and chit-chat shaped like real logs."""
    path = tmp_path_factory.mktemp("logs") / "logs.jsonl"
    records = [json.loads(line) for line in negotiation.dialogues_path().read_text().splitlines() if line.strip()]
    records += chitchat.dialogues(60, seed=3)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def dialogues_of(path: Path) -> list[Dialogue]:
    return read_dialogues(path)


def as_json(rows: Any) -> Any:
    return json.loads(json.dumps(rows))


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_rows_round_trip_typed(logs: Path, tmp_path: Path, suffix: str) -> None:
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    out = tmp_path / f"out{suffix}"
    res = runner.invoke(app, ["score", str(logs), "-c", str(spec), "-o", str(out), "--no-progress", "--workers", "1"])
    assert res.exit_code == 0, res.output
    turns, dialogues = list(read_rows(out)), list(read_rows(dialogue_path(out)))
    assert {r["kind"] for r in turns} == {"turn"} and {r["kind"] for r in dialogues} == {"dialogue"}
    assert all(set(r) == TurnRow.__required_keys__ for r in turns)  # every key written is documented there
    assert all(set(r) == DialogueRow.__required_keys__ for r in dialogues)
    assert sum(bool(d["dialogue_fired"]) for d in dialogues) >= 2, "the dialogue rules fired on the examples"
    with RewardPipeline.from_spec(SPEC) as pipe:
        expected = as_json(list(score_dialogues(pipe, dialogues_of(logs))))
    assert turns + dialogues == [r for r in expected if r["kind"] == "turn"] + [
        r for r in expected if r["kind"] == "dialogue"
    ]


def test_every_row_kind_has_its_documented_keys() -> None:
    assert SkippedRow.__required_keys__ == {"position", "reason"}
    for row_type in (TurnRow, DialogueRow):
        doc = row_type.__doc__ or ""
        missing = [k for k in row_type.__required_keys__ if f"        {k}: " not in doc]
        assert not missing, f"{row_type.__name__} keys without a line in its docstring: {missing}"


def good_turn() -> dict[str, Any]:
    d = make_dialogue([("user", "Hi"), ("assistant", "<think>x</think>Hello")], id="d1")
    with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
        return as_json(next(iter(score_dialogues(pipe, [d]))))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reward": "0.5"}, "turn row: reward: input should be a valid number (got '0.5')"),
        ({"sources": {"rules": True}}, "turn row: sources.rules: input should be a valid number (got True)"),
        ({"turn_index": 1.5}, "turn row: turn_index: input should be a valid integer (got 1.5)"),
        ({"kind": "turns"}, "not a row of `repo-sdk score` (kind='turns')"),
        ({"rewards": 1.0}, "turn row: unknown key 'rewards'"),
        ({"fired": [{"rule": "cot_leak"}]}, "turn row lacks 'fired[0].points'"),
        ({"response": "x" * 500, "reward": "y" * 500}, "(got 'yyyyyyyy"),
    ],
)
def test_a_bad_row_read_back_names_file_line_key_and_value(tmp_path: Path, change: dict, message: str) -> None:
    good = good_turn()
    run = tmp_path / "run.jsonl"
    run.write_text("".join(json.dumps(r) + "\n" for r in [good, {**good, "turn_index": 3}, {**good, **change}]))
    with pytest.raises(InputError) as err:
        list(read_rows(run))
    text = str(err.value)
    assert text.startswith(f"{run}:3: ") and message in text and "\n" not in text and len(text) < 300
    res = runner.invoke(app, ["eval", str(run)])
    assert res.exit_code == 1 and res.stderr.strip() == f"error: {text}"


def test_a_bad_parquet_row_names_its_row(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    good = good_turn()
    run = tmp_path / "run.parquet"
    write_rows(run, [good, {**good, "turn_index": 3, "sources": {"rules": "high"}}])
    with pytest.raises(InputError, match=r"run\.parquet: row 2: turn row: sources\.rules: .*\(got 'high'\)"):
        list(read_rows(run))


def test_a_missing_key_in_the_dialogue_rows_beside_a_run_is_named(tmp_path: Path) -> None:
    d = make_dialogue([("user", "Hi"), ("assistant", "Hello")], id="d1")
    with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
        turn, dialogue = as_json(list(score_dialogues(pipe, [d])))
    write_rows(tmp_path / "run.jsonl", [turn])
    write_rows(dialogue_path(tmp_path / "run.jsonl"), [{k: v for k, v in dialogue.items() if k != "context"}])
    res = runner.invoke(app, ["eval", str(tmp_path / "run.jsonl")])
    assert res.exit_code == 1
    assert res.stderr.strip() == f"error: {tmp_path / 'run.dialogues.jsonl'}:1: dialogue row lacks 'context'"
    assert row_problem(dialogue) is None


class AsyncJudge(RewardSource):
    """An async source, so the pipeline scores on an event loop (the path a judge or an RM takes)."""

    name = "test.async_judge"
    kind = "judge"

    async def ascore(self, samples: Any) -> list[SourceScore]:
        await asyncio.sleep(0)
        return [SourceScore(value=float(len(s.response) % 5)) for s in samples]


def pipeline_with(extra: dict[str, RewardSource]) -> RewardPipeline:
    base = RewardPipeline.from_spec(SPEC)
    return RewardPipeline({**base.sources, **extra}, base.combiner, spec=base.spec)


def test_dialogue_rules_through_the_async_batch_step_give_the_rows_of_each_dialogue_alone(logs: Path) -> None:
    dialogues = dialogues_of(logs)
    with RewardPipeline.from_spec(SPEC) as pipe:
        alone = [row for d in dialogues for row in score_dialogue_batch(pipe, [d])]  # sync, a batch of one
        batched = score_dialogue_batch(pipe, dialogues)  # sync, one batch
        stepped = asyncio.run(ascore_dialogue_batch(pipe, dialogues))  # the async step
        rules = [r for r in pipe.sources["rules"].dialogue_rules]  # type: ignore[attr-defined]
    assert as_json(batched) == as_json(alone) == as_json(stepped)
    fired = {r["dialogue_id"]: r["dialogue_fired"] for r in as_json(stepped) if r["kind"] == "dialogue"}
    direct = {d.id: as_json([h.model_dump() for rule in rules for h in rule.check_dialogue(d)]) for d in dialogues}
    assert fired == direct and any(fired.values())  # the carried state gives what the rules find from scratch
    mixed = pipeline_with({"judge": AsyncJudge()})
    assert not mixed.runs_sync
    rows = score_dialogue_batch(mixed, dialogues)  # on an event loop: run_sync of the async step
    assert [r["dialogue_fired"] for r in rows if r["kind"] == "dialogue"] == [
        r["dialogue_fired"] for r in stepped if r["kind"] == "dialogue"
    ]
    assert {r["sources"]["judge"] for r in rows if r["kind"] == "turn"} <= {0.0, 1.0, 2.0, 3.0, 4.0}


class Fussy(RewardSource):
    """Scores dialogues, and raises on one of them."""

    name = "test.fussy"
    kind = "judge"

    def score(self, samples: Any) -> list[SourceScore]:
        return [SourceScore(value=0.0) for _ in samples]

    def score_dialogue(self, dialogue: Dialogue) -> SourceScore:
        if "boom" in dialogue.id:
            raise ValueError(f"cannot read {dialogue.id}")
        return SourceScore(value=float(len(dialogue.turns)))


@pytest.mark.parametrize("step", ["sync", "async"])
def test_one_bad_dialogue_costs_its_own_dialogue_score(step: str) -> None:
    ds = [make_dialogue([("user", "Hi"), ("assistant", "Hello")], id=i) for i in ("a", "boom", "c")]
    pipe = pipeline_with({"fussy": Fussy()})
    rows = score_dialogue_batch(pipe, ds) if step == "sync" else asyncio.run(ascore_dialogue_batch(pipe, ds))
    dialogue_rows = [r for r in rows if r["kind"] == "dialogue"]
    assert [r["dialogue_sources"].get("fussy") for r in dialogue_rows] == [2.0, None, 2.0]
    assert [r["dialogue_errors"] for r in dialogue_rows] == [{}, {"fussy": "ValueError: cannot read boom"}, {}]
    assert all(r["reward"] is not None for r in rows if r["kind"] == "turn")  # the turns keep their rewards


def test_the_pipeline_skips_sources_without_dialogue_scores() -> None:
    class Silent(RewardSource):
        name = "test.silent"
        kind = "judge"

        def score(self, samples: list[Sample]) -> list[SourceScore]:
            return [SourceScore(value=1.0) for _ in samples]

    pipe = pipeline_with({"silent": Silent()})
    d = make_dialogue([("user", "Hi"), ("assistant", "Hello")])
    scored = asyncio.run(pipe.ascore_dialogues([d]))
    assert scored == pipe.score_dialogues([d]) and list(scored[0]) == ["rules"]  # the rules' dialogue rules only
    assert asyncio.run(pipe.ascore_dialogues([])) == []
